import { announce, onInvalidation } from "@/lib/cluster/coherence";
import { prisma } from "@/lib/db";

/**
 * The gateway's view of pool subscriptions, in memory: a subscription key is
 * judged against its subscription (active, period end, reserved blocks) and
 * its pool (block length, models) on every request without a database read.
 * Every write to a subscription or a pool calls invalidateSubscription() or
 * invalidatePool() in the same process before it answers. State lives on
 * globalThis, like the key cache (Next bundles its own copy of lib/).
 */

export interface SubscriptionView {
  id: string;
  userId: string;
  poolId: string;
  status: "active" | "expired" | "cancelled";
  periodStart: number;
  periodEnd: number;
  blocks: number[];
  blockHours: number;
  models: string[];
  poolActive: boolean;
}

interface SubscriptionCache {
  byId: Map<string, SubscriptionView | null>;
  epoch: number;
}

const globalForSubs = globalThis as unknown as { __keygateSubscriptions?: SubscriptionCache };

function cache(): SubscriptionCache {
  return (globalForSubs.__keygateSubscriptions ??= { byId: new Map(), epoch: 0 });
}

export async function subscriptionFor(id: string): Promise<SubscriptionView | null> {
  const c = cache();
  const hit = c.byId.get(id);
  if (hit !== undefined) return hit;
  const epoch = c.epoch;
  const db = await prisma();
  const row = await db.subscription.findUnique({ where: { id }, include: { pool: true, blocks: true } });
  const view: SubscriptionView | null = row
    ? {
        id: row.id,
        userId: row.userId,
        poolId: row.poolId,
        status: row.status,
        periodStart: row.periodStart.getTime(),
        periodEnd: row.periodEnd.getTime(),
        blocks: row.blocks.map((b) => b.blockIndex).sort((a, b) => a - b),
        blockHours: row.pool.blockHours,
        models: Array.isArray(row.pool.models) ? row.pool.models.filter((m): m is string => typeof m === "string") : [],
        poolActive: row.pool.active,
      }
    : null;
  if (c.epoch === epoch) c.byId.set(id, view);
  return view;
}

/** Call after every write to a subscription (renewal, expiry, autoRenew, cancel), and await it before answering. */
export async function invalidateSubscription(id: string): Promise<void> {
  forgetSubscription(id);
  await announce("subscription", id);
}

/** Call after every write to a pool (its models, blocks or active flag change what its keys may do). */
export async function invalidatePool(poolId: string): Promise<void> {
  forgetPool(poolId);
  await announce("pool", poolId);
}

function forgetSubscription(id: string): void {
  const c = cache();
  c.epoch++;
  c.byId.delete(id);
}

function forgetPool(poolId: string): void {
  const c = cache();
  c.epoch++;
  for (const [id, view] of c.byId) if (!view || view.poolId === poolId) c.byId.delete(id);
}

function forgetAll(): void {
  const c = cache();
  c.epoch++;
  c.byId.clear();
}

onInvalidation("subscription", forgetSubscription, forgetAll);
onInvalidation("pool", forgetPool, forgetAll);
