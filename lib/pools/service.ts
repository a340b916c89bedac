import type { Actor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import type { Pool, Prisma } from "@/generated/prisma/client.ts";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { findModel } from "@/lib/models/catalogue";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/http/errors";
import { RESERVED_MODEL_NAME } from "@/lib/models/schemas";
import { dayBlocks, PERIOD_DAYS } from "@/lib/pools/blocks";
import type { CreatePoolInput, PoolView, UpdatePoolInput } from "@/lib/pools/schemas";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";

/**
 * Pools: operators create and change them (admin token); everyone signed in
 * sees the active ones with the seats left in each block. A seat is held by
 * a subscription that is active and either still inside its period or set to
 * renew itself (the sweep is about to charge it): exactly the subscriptions
 * whose seats nobody else may take. Every pool write declares the pool
 * changed (lib/writes/unit.ts), so once it commits the gateway judges the
 * pool's keys by the new rules from the next request on.
 */

export type Db = Tx;

/** Seats held per block, by pool: `taken.get(poolId)?.get(block)`. */
export type SeatsTaken = Map<string, Map<number, number>>;

/** Whether a subscription holds its seats at `now` (the filter, as a Prisma where). */
export function holdsSeats(now: number): Prisma.SubscriptionWhereInput {
  return { status: "active", OR: [{ periodEnd: { gt: new Date(now) } }, { autoRenew: true }] };
}

export async function seatsTaken(db: Db, poolIds: string[], now: number, excludeSubscriptionId?: string): Promise<SeatsTaken> {
  const holders = await db.subscription.findMany({
    where: { poolId: { in: poolIds }, ...holdsSeats(now), ...(excludeSubscriptionId ? { id: { not: excludeSubscriptionId } } : {}) },
    select: { poolId: true, blocks: { select: { blockIndex: true } } },
  });
  const taken: SeatsTaken = new Map();
  for (const h of holders) {
    const perBlock = taken.get(h.poolId) ?? new Map<number, number>();
    for (const b of h.blocks) perBlock.set(b.blockIndex, (perBlock.get(b.blockIndex) ?? 0) + 1);
    taken.set(h.poolId, perBlock);
  }
  return taken;
}

/**
 * Locks the pool's row until the transaction ends: every sale of its seats
 * (subscribe, renewing a lapsed subscription) and every change of its layout
 * takes this lock first, so counting the seats and taking one cannot
 * interleave with another sale.
 */
export async function lockPool(tx: Db, poolId: string): Promise<Pool | null> {
  const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "Pool" WHERE id = ${poolId} FOR UPDATE`;
  if (!locked.length) return null;
  return tx.pool.findUnique({ where: { id: poolId } });
}

export function poolModels(pool: Pick<Pool, "models">): string[] {
  return Array.isArray(pool.models) ? pool.models.filter((m): m is string => typeof m === "string") : [];
}

export function toPoolView(pool: Pool, taken: Map<number, number> | undefined): PoolView {
  return {
    id: pool.id,
    name: pool.name,
    models: poolModels(pool),
    blockHours: pool.blockHours,
    capacity: pool.capacity,
    pricePerBlockUsd: microsToUsd(pool.pricePerBlockMicros),
    periodDays: PERIOD_DAYS,
    active: pool.active,
    blocks: dayBlocks(pool.blockHours).map((b) => ({
      ...b,
      capacity: pool.capacity,
      remaining: Math.max(0, pool.capacity - (taken?.get(b.index) ?? 0)),
    })),
  };
}

async function views(pools: Pool[], now: number): Promise<PoolView[]> {
  const db = await prisma();
  const taken = await seatsTaken(
    db,
    pools.map((p) => p.id),
    now,
  );
  return pools.map((p) => toPoolView(p, taken.get(p.id)));
}

/** The pools on sale, oldest first. */
export async function listPools(now = Date.now()): Promise<PoolView[]> {
  const db = await prisma();
  return views(await db.pool.findMany({ where: { active: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }), now);
}

/** Every pool, on sale or not, for operators. */
export async function listAllPools(now = Date.now()): Promise<PoolView[]> {
  const db = await prisma();
  return views(await db.pool.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] }), now);
}

/** A pool on sale; an inactive or unknown one is not found. */
export async function getPool(id: string, now = Date.now()): Promise<PoolView> {
  const db = await prisma();
  const pool = await db.pool.findFirst({ where: { id, active: true } });
  if (!pool) throw poolNotFound();
  const [view] = await views([pool], now);
  return view;
}

export async function createPool(actor: Actor, input: CreatePoolInput, outer?: Tx): Promise<PoolView> {
  await assertModelsExist(input.models);
  return write(
    actor,
    async (tx, after) => {
      const pool = await tx.pool.create({
        data: {
          name: input.name,
          models: input.models,
          blockHours: input.blockHours,
          capacity: input.capacity,
          pricePerBlockMicros: usdToMicros(input.pricePerBlockUsd),
        },
      });
      after.poolChanged(pool.id);
      after.audit({ targetId: pool.id, accountId: null, changes: diff(null, auditedPool(pool)) });
      return toPoolView(pool, undefined);
    },
    outer,
  );
}

/**
 * Changes the fields sent. Lowering capacity below the seats taken is
 * allowed: it only stops new sales. The block length can change only while
 * no subscription of the pool is active, since an active one's block indices
 * would suddenly mean other hours; the pool's ended subscriptions are
 * cancelled by the change for the same reason (they could otherwise be
 * renewed into different hours).
 */
export async function updatePool(actor: Actor, id: string, patch: UpdatePoolInput, now = Date.now(), outer?: Tx): Promise<PoolView> {
  if (patch.models) await assertModelsExist(patch.models);
  return write(
    actor,
    async (tx, after) => {
      const current = await lockPool(tx, id);
      if (!current) throw new NotFoundError("No pool with that ID exists; GET /api/admin/pools lists them.");
      if (patch.blockHours !== undefined && patch.blockHours !== current.blockHours) {
        const active = await tx.subscription.count({ where: { poolId: id, status: "active" } });
        if (active > 0) {
          throw new ConflictError(
            `The pool's blocks cannot change from ${current.blockHours} to ${patch.blockHours} hours while ${active} subscription${active === 1 ? " is" : "s are"} active: their reserved blocks would mean other hours. Wait until they end, or create a new pool with the new block length.`,
            "pool_in_use",
          );
        }
        await tx.subscription.updateMany({
          where: { poolId: id, status: "expired" },
          data: {
            status: "cancelled",
            endedReason: `The pool's blocks changed from ${current.blockHours} to ${patch.blockHours} hours, so this subscription cannot be renewed. Subscribe again to reserve new blocks.`,
          },
        });
      }
      const updated = await tx.pool.update({
        where: { id },
        data: {
          name: patch.name,
          models: patch.models,
          blockHours: patch.blockHours,
          capacity: patch.capacity,
          pricePerBlockMicros: patch.pricePerBlockUsd === undefined ? undefined : usdToMicros(patch.pricePerBlockUsd),
          active: patch.active,
        },
      });
      after.poolChanged(id);
      after.audit({ targetId: id, accountId: null, changes: diff(auditedPool(current), auditedPool(updated)) });
      const taken = await seatsTaken(tx, [id], now);
      return toPoolView(updated, taken.get(id));
    },
    outer,
  );
}

/** What the audit log shows of a pool: its settings, not its seats (which move with every sale). */
function auditedPool(pool: Pool) {
  return pick(toPoolView(pool, undefined), ["name", "models", "blockHours", "capacity", "pricePerBlockUsd", "active"]);
}

/** Every model a pool serves must be one the gateway knows: a catalogue row, or the built-in demo model. */
async function assertModelsExist(models: string[]): Promise<void> {
  const unknown: Array<{ index: number; model: string }> = [];
  for (const [index, model] of models.entries()) {
    if (model !== RESERVED_MODEL_NAME && !(await findModel(model))) unknown.push({ index, model });
  }
  if (!unknown.length) return;
  const names = unknown.map((u) => `"${u.model}"`).join(", ");
  throw new BadRequestError(
    `Invalid request body: ${names} ${unknown.length === 1 ? "is" : "are"} not in the model catalogue. Add ${unknown.length === 1 ? "it" : "them"} with POST /api/admin/models first, or use ${RESERVED_MODEL_NAME}.`,
    unknown.map((u) => ({ path: `models.${u.index}`, message: `models.${u.index}: "${u.model}" is not in the model catalogue` })),
    "validation_error",
  );
}

export function poolNotFound(): NotFoundError {
  return new NotFoundError("No pool with that ID is on sale; GET /api/pools lists them.");
}
