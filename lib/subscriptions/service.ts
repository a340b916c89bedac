import crypto from "node:crypto";
import type { UserActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import type { Pool, Prisma, SubscriptionStatus } from "@/generated/prisma/client.ts";
import { appendEntry } from "@/lib/billing/ledger";
import { formatUsd, microsToUsd } from "@/lib/billing/money";
import { limits } from "@/lib/limits";
import { BadRequestError, ConflictError, NotFoundError, PaymentRequiredError } from "@/lib/http/errors";
import { blockHoursUtc, blocksOutOfRange, periodEndFrom, PERIOD_DAYS, renewalStart } from "@/lib/pools/blocks";
import { lockPool, poolNotFound, seatsTaken, type Db } from "@/lib/pools/service";
import type { SubscriptionStatusName, SubscriptionView, UpdateSubscriptionInput } from "@/lib/subscriptions/schemas";
import { write, type After, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";

/**
 * Pool subscriptions: reserved blocks of one pool for a 30-day period, paid
 * from the credit balance and renewable in place (same id, same keys).
 *
 * Every sale of a seat runs in one transaction that locks, in this order,
 * the pool row, then the subscription row (renewals), then the user row: the
 * seats are counted and taken, and the balance is checked and charged, with
 * nobody else selling the same pool's seats or spending the same balance in
 * between. Two callers racing for the last seat are serialised by the pool
 * lock: one wins, and the other sees the block full and is not charged. One
 * lock order everywhere (the sweep takes the subscription, then the user)
 * means no deadlock. Each write declares the charge and the subscription
 * changed (lib/writes/unit.ts): after commit, and before we answer, the
 * gateway hears of both; only then is the balance hold released.
 */

const viewInclude = {
  pool: { select: { name: true, blockHours: true, pricePerBlockMicros: true } },
  blocks: { select: { blockIndex: true } },
  _count: { select: { keys: true } },
} satisfies Prisma.SubscriptionInclude;

type SubscriptionRow = Prisma.SubscriptionGetPayload<{ include: typeof viewInclude }>;

/**
 * The status people see: an active subscription whose period has ended is
 * expired, even before the sweep has written so, because the gateway already
 * refuses its keys.
 */
export function effectiveStatus(status: SubscriptionStatus, periodEnd: Date, now = Date.now()): SubscriptionStatusName {
  return status === "active" && periodEnd.getTime() <= now ? "expired" : status;
}

export function toSubscriptionView(row: SubscriptionRow, now = Date.now()): SubscriptionView {
  return {
    id: row.id,
    poolId: row.poolId,
    poolName: row.pool.name,
    blocks: row.blocks.map((b) => b.blockIndex).sort((a, b) => a - b),
    blockHours: row.pool.blockHours,
    renewalPriceUsd: microsToUsd(priceOf(row.pool, row.blocks.length)),
    status: effectiveStatus(row.status, row.periodEnd, now),
    periodStart: row.periodStart.toISOString(),
    periodEnd: row.periodEnd.toISOString(),
    autoRenew: row.autoRenew,
    keyCount: row._count.keys,
    endedReason: row.endedReason,
  };
}

/** The caller's subscriptions, newest first. */
export async function listSubscriptions(actor: UserActor, now = Date.now()): Promise<SubscriptionView[]> {
  const db = await prisma();
  const rows = await db.subscription.findMany({ where: { userId: actor.userId }, include: viewInclude, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  return rows.map((r) => toSubscriptionView(r, now));
}

/** The caller's subscriptions whose period is running, newest first. */
export async function activeSubscriptions(actor: UserActor, now = Date.now()): Promise<SubscriptionView[]> {
  const db = await prisma();
  const rows = await db.subscription.findMany({
    where: { userId: actor.userId, status: "active", periodEnd: { gt: new Date(now) } },
    include: viewInclude,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return rows.map((r) => toSubscriptionView(r, now));
}

export async function getSubscription(actor: UserActor, id: string, now = Date.now(), tx?: Tx): Promise<SubscriptionView> {
  const db = tx ?? (await prisma());
  const row = await db.subscription.findFirst({ where: { id, userId: actor.userId }, include: viewInclude });
  if (!row) throw subscriptionNotFound();
  return toSubscriptionView(row, now);
}

/** Reserves `blocks` of the pool for one period from now, charged to the credit balance, in one transaction. */
export async function subscribe(actor: UserActor, poolId: string, blocks: number[], now = Date.now(), outer?: Tx): Promise<SubscriptionView> {
  const { userId } = actor;
  return write(
    actor,
    async (tx, after) => {
      const holds = holdsUntilSettled(after);
      const pool = await lockPool(tx, poolId);
      if (!pool || !pool.active) throw poolNotFound();
      assertBlocksInRange(blocks, pool);
      await assertSeatsFree(tx, pool, blocks, now);
      const priceMicros = priceOf(pool, blocks.length);
      const available = await holdBalance(tx, userId, priceMicros, holds);
      if (available !== null) {
        throw new PaymentRequiredError(
          `Reserving ${describeCount(blocks.length)} of "${pool.name}" costs ${formatUsd(priceMicros)} for ${PERIOD_DAYS} days, but your available credit is ${formatUsd(available)}. Top up your credits, or reserve fewer blocks.`,
        );
      }
      const start = new Date(now);
      const created = await tx.subscription.create({
        data: {
          userId,
          poolId,
          periodStart: start,
          periodEnd: new Date(periodEndFrom(now)),
          blocks: { create: [...blocks].sort((a, b) => a - b).map((blockIndex) => ({ blockIndex })) },
        },
        select: { id: true },
      });
      await charge(tx, after, {
        userId,
        subscriptionId: created.id,
        priceMicros,
        from: start,
        note: `"${pool.name}": ${describeBlocks(blocks, pool)}, ${PERIOD_DAYS} days`,
      });
      after.subscriptionChanged(created.id);
      const view = await getSubscription(actor, created.id, now, tx);
      after.audit({ targetId: created.id, changes: { ...diff(null, auditedSubscription(view)), priceUsd: [null, microsToUsd(priceMicros)] } });
      return view;
    },
    outer,
  );
}

/**
 * autoRenew on or off. Turning it on needs a running period: a subscription
 * whose period has ended holds no seats, and must be renewed (with a seat
 * check) through POST /api/subscriptions/{id}/renew instead.
 */
export async function updateSubscription(
  actor: UserActor,
  id: string,
  input: UpdateSubscriptionInput,
  now = Date.now(),
  outer?: Tx,
): Promise<SubscriptionView> {
  const { userId } = actor;
  const where: Prisma.SubscriptionWhereInput = input.autoRenew ? { id, userId, status: "active", periodEnd: { gt: new Date(now) } } : { id, userId };
  return write(
    actor,
    async (tx, after) => {
      const before = await tx.subscription.findFirst({ where: { id, userId }, select: { autoRenew: true } });
      // One conditional statement, so the sweep cannot end the period between a check and the write.
      const { count } = await tx.subscription.updateMany({ where, data: { autoRenew: input.autoRenew } });
      if (count === 0) {
        const exists = await tx.subscription.findFirst({ where: { id, userId }, select: { id: true } });
        if (!exists) throw subscriptionNotFound();
        throw new ConflictError(
          `This subscription's period has ended, so it cannot renew itself. Renew it now with POST /api/subscriptions/${id}/renew; autoRenew can be turned on after that.`,
          "subscription_ended",
        );
      }
      after.subscriptionChanged(id);
      after.audit({ targetId: id, changes: diff(before, { autoRenew: input.autoRenew }) });
      return getSubscription(actor, id, now, tx);
    },
    outer,
  );
}

/**
 * Charges one more period now and extends the same subscription (same id,
 * same keys). The new period starts at the old period end while that is
 * ahead (periodStart stays: the coverage simply runs on), otherwise now. A
 * subscription whose period has ended gave up its seats, so it needs them
 * free again.
 */
export async function renewSubscription(actor: UserActor, id: string, now = Date.now(), outer?: Tx): Promise<SubscriptionView> {
  const { userId } = actor;
  return write(
    actor,
    async (tx, after) => {
      const found = await tx.subscription.findFirst({ where: { id, userId }, select: { poolId: true } });
      if (!found) throw subscriptionNotFound();
      const holds = holdsUntilSettled(after);
      const pool = await lockPool(tx, found.poolId);
      await tx.$queryRaw`SELECT id FROM "Subscription" WHERE id = ${id} FOR UPDATE`;
      const sub = await tx.subscription.findUnique({ where: { id }, include: { blocks: { select: { blockIndex: true } } } });
      if (!pool || !sub) throw subscriptionNotFound();
      if (sub.status === "cancelled") {
        throw new ConflictError(`This subscription was cancelled and cannot be renewed: ${sub.endedReason ?? "subscribe again."}`, "subscription_cancelled");
      }
      if (!pool.active) {
        throw new ConflictError(`The pool "${pool.name}" is no longer on sale, so its subscriptions cannot be renewed.`, "pool_inactive");
      }
      const blocks = sub.blocks.map((b) => b.blockIndex).sort((a, b) => a - b);
      const lapsed = sub.status !== "active" || sub.periodEnd.getTime() <= now;
      if (lapsed) {
        assertBlocksInRange(blocks, pool);
        await assertSeatsFree(tx, pool, blocks, now, id);
      }
      const priceMicros = priceOf(pool, blocks.length);
      const available = await holdBalance(tx, userId, priceMicros, holds);
      if (available !== null) {
        throw new PaymentRequiredError(
          `Renewing this subscription (${describeCount(blocks.length)} of "${pool.name}") costs ${formatUsd(priceMicros)} for ${PERIOD_DAYS} days, but your available credit is ${formatUsd(available)}. Top up your credits first.`,
        );
      }
      const from = renewalStart(sub.periodEnd.getTime(), now);
      await tx.subscription.update({
        where: { id },
        data: {
          status: "active",
          periodStart: lapsed ? new Date(from) : undefined,
          periodEnd: new Date(periodEndFrom(from)),
          endedReason: null,
        },
      });
      await charge(tx, after, {
        userId,
        subscriptionId: id,
        priceMicros,
        from: new Date(from),
        note: `"${pool.name}": ${describeBlocks(blocks, pool)}, renewed for ${PERIOD_DAYS} days`,
      });
      after.subscriptionChanged(id);
      const view = await getSubscription(actor, id, now, tx);
      after.audit({ targetId: id, changes: { ...renewalChanges(sub, view), priceUsd: [null, microsToUsd(priceMicros)] } });
      return view;
    },
    outer,
  );
}

/** What the audit log shows of a new subscription. */
function auditedSubscription(view: SubscriptionView) {
  return pick(view, ["poolId", "blocks", "status", "periodStart", "periodEnd", "autoRenew"]);
}

// ---------------------------------------------------------------------------
// Shared with the sweep

/** A renewal's changes, by the API or the sweep: the status and the period, before and after. */
export function renewalChanges(
  before: { status: string; periodStart: Date; periodEnd: Date },
  after: { status: string; periodStart: Date | string; periodEnd: Date | string },
) {
  return diff(pick(before, ["status", "periodStart", "periodEnd"]), pick(after, ["status", "periodStart", "periodEnd"]));
}

export function priceOf(pool: Pick<Pool, "pricePerBlockMicros">, blockCount: number): bigint {
  return pool.pricePerBlockMicros * BigInt(blockCount);
}

/** A hold lives this long at most if its holder never ends it (a crash mid-transaction). */
const HOLD_TTL_MS = 60_000;

/**
 * Locks the user's row for the rest of the transaction and takes
 * `priceMicros` out of what the gateway may spend: a hold in the limits
 * store, checked against the balance less unwritten usage and requests in
 * flight in the same atomic step as admissions (on every instance with
 * Redis), so the charge can never leave the gateway's reservations unpaid.
 * Returns null when held (its id is pushed to `holds`, from
 * holdsUntilSettled, which releases it when the write ends), or what the
 * account has available when the price does not fit.
 */
export async function holdBalance(tx: Db, userId: string, priceMicros: bigint, holds: string[]): Promise<bigint | null> {
  const store = limits();
  for (let attempt = 0; attempt < 10; attempt++) {
    const generation = await store.accountGeneration(userId);
    const rows = await tx.$queryRaw<Array<{ balanceMicros: bigint }>>`SELECT "balanceMicros" FROM "User" WHERE id = ${userId} FOR UPDATE`;
    const stored = BigInt(rows[0]?.balanceMicros ?? 0);
    const holdId = `hold_${crypto.randomUUID()}`;
    const held = await store.hold(userId, holdId, Number(priceMicros), Date.now(), HOLD_TTL_MS);
    if (held.ok) {
      holds.push(holdId);
      return null;
    }
    if (held.reason === "short") return BigInt(held.availableMicros);
    // The store has not seen this account yet: seed it from the row we hold locked, then hold again.
    await store.seedAccount(userId, Number(stored), generation);
  }
  throw new Error("the limits store would not take this account's balance");
}

/**
 * A list for holdBalance's holds, released when the write has ended: after
 * its commit has credited the charge (the charge replaces the hold, never
 * both gone at once), or on rollback.
 */
export function holdsUntilSettled(after: After): string[] {
  const holds: string[] = [];
  after.settled(async () => {
    for (const id of holds.splice(0)) await limits().release(id);
  });
  return holds;
}

/**
 * The ledger entry of one period's charge. Its idempotency key names the
 * subscription and the period it pays for, so no period is ever charged twice.
 */
export async function charge(
  tx: Db,
  after: After,
  c: { userId: string; subscriptionId: string; priceMicros: bigint; from: Date; note: string },
): Promise<void> {
  await appendEntry(tx, after, {
    userId: c.userId,
    kind: "subscription",
    amountMicros: -c.priceMicros,
    note: c.note,
    idempotencyKey: `subscription:${c.subscriptionId}:${c.from.toISOString()}`,
  });
}

function assertBlocksInRange(blocks: number[], pool: Pool): void {
  const bad = blocksOutOfRange(blocks, pool.blockHours);
  if (!bad.length) return;
  const last = 24 / pool.blockHours - 1;
  throw new BadRequestError(
    `Invalid request body: "${pool.name}" has blocks 0 to ${last} (${pool.blockHours} hours each), so ${bad.join(", ")} ${bad.length === 1 ? "is" : "are"} out of range.`,
    bad.map((b) => ({ path: `blocks.${blocks.indexOf(b)}`, message: `blocks.${blocks.indexOf(b)}: ${b} is not a block of this pool (0 to ${last})` })),
    "validation_error",
  );
}

async function assertSeatsFree(tx: Db, pool: Pool, blocks: number[], now: number, excludeSubscriptionId?: string): Promise<void> {
  const taken = (await seatsTaken(tx, [pool.id], now, excludeSubscriptionId)).get(pool.id);
  const full = blocks.filter((b) => (taken?.get(b) ?? 0) >= pool.capacity);
  if (!full.length) return;
  const named = full.map((b) => `${b} (${hours(b, pool.blockHours)})`);
  const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(", ")} and ${named[named.length - 1]}`;
  throw new ConflictError(
    `${full.length === 1 ? "Block" : "Blocks"} ${list} of "${pool.name}" ${full.length === 1 ? "is" : "are"} full. GET /api/pools/${pool.id} shows the seats left in each block; choose others.`,
    "block_full",
    full.map((b) => ({
      path: `blocks.${blocks.indexOf(b)}`,
      message: `Block ${b} (${hours(b, pool.blockHours)}) has no seat left: all ${pool.capacity} are taken.`,
    })),
  );
}

function hours(block: number, blockHours: number): string {
  const { startHourUtc, endHourUtc } = blockHoursUtc(block, blockHours);
  const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;
  return `${hh(startHourUtc)}–${hh(endHourUtc)} UTC`;
}

function describeCount(n: number): string {
  return n === 1 ? "1 block" : `${n} blocks`;
}

function describeBlocks(blocks: number[], pool: Pool): string {
  return [...blocks]
    .sort((a, b) => a - b)
    .map((b) => `block ${b} (${hours(b, pool.blockHours)})`)
    .join(", ");
}

function subscriptionNotFound(): NotFoundError {
  return new NotFoundError("No subscription with that ID exists in your account.");
}
