import { announce, onInvalidation } from "@/lib/cluster/coherence";
import { sharedCache } from "@/lib/cache/epoch-cache";
import { prisma } from "@/lib/db";

/**
 * The gateway's view of pool subscriptions, in memory: a subscription key is
 * judged against its subscription (active, period end, reserved blocks) and
 * its pool (block length, models) on every request without a database read.
 * Every write to a subscription or a pool declares it to its unit of work
 * (lib/writes/unit.ts), which calls invalidateSubscription() or
 * invalidatePool() after commit, before the API answers
 * (lib/cache/epoch-cache.ts).
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

const cache = () => sharedCache<string, SubscriptionView | null>("subscriptions");

export async function subscriptionFor(id: string): Promise<SubscriptionView | null> {
  const hit = cache().peek(id);
  if (hit !== undefined) return hit;
  return cache().get(id, async () => {
    const db = await prisma();
    const row = await db.subscription.findUnique({ where: { id }, include: { pool: true, blocks: true } });
    if (!row) return null;
    return {
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
    };
  });
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
  cache().forget(id);
}

function forgetPool(poolId: string): void {
  cache().forgetWhere((view) => !view || view.poolId === poolId);
}

function forgetAll(): void {
  cache().clear();
}

onInvalidation("subscription", forgetSubscription, forgetAll);
onInvalidation("pool", forgetPool, forgetAll);
