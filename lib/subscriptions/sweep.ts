import { systemActor, type Actor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { formatUsd } from "@/lib/billing/money";
import { autoRenewalStart, periodEndFrom } from "@/lib/pools/blocks";
import { microsToUsd } from "@/lib/billing/money";
import { charge, holdBalance, holdsUntilSettled, priceOf, renewalChanges } from "@/lib/subscriptions/service";
import { logger } from "@/lib/ops/logger";
import { write } from "@/lib/writes/unit";

/**
 * Period ends. The gateway checks periodEnd on every request, so a key stops
 * working at its period's end whatever happens here; this sweep does the
 * bookkeeping: it charges auto-renewals and marks the rest expired, which
 * gives their seats back.
 *
 * It runs on a timer in every instance. Each subscription is settled in its
 * own transaction that locks its row with FOR UPDATE SKIP LOCKED, so two
 * instances sweeping at once never settle (or charge) the same one twice,
 * and neither waits for the other. Auto-renewals are charged up to
 * RENEWAL_LEAD_MS before the period ends, so their keys never lapse between
 * two sweeps; the new period still starts at the old period end.
 */

export const SWEEP_INTERVAL_MS = 30_000;
export const RENEWAL_LEAD_MS = 60_000;
/** Subscriptions settled per run at most; a larger backlog is taken up by the next runs. */
const BATCH = 500;

export interface SweepResult {
  renewed: string[];
  expired: string[];
}

type Outcome = "renewed" | "expired";

/** The sweep acts as Keygate itself; each settled subscription is a `system` row in its owner's audit log (`subscription.renew` or `subscription.expire`). */
const SWEEP_ACTOR: Actor = systemActor("subscription-sweep");

export async function sweepSubscriptions(now = Date.now()): Promise<SweepResult> {
  const db = await prisma();
  const due = await db.subscription.findMany({
    where: { status: "active", OR: [{ periodEnd: { lte: new Date(now) } }, { autoRenew: true, periodEnd: { lte: new Date(now + RENEWAL_LEAD_MS) } }] },
    select: { id: true },
    orderBy: { periodEnd: "asc" },
    take: BATCH,
  });
  const result: SweepResult = { renewed: [], expired: [] };
  for (const { id } of due) {
    let outcome: Outcome | null;
    try {
      outcome = await settle(id, now);
    } catch (err) {
      logger().error(`subscription sweep: could not settle ${id}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (outcome) result[outcome].push(id);
  }
  return result;
}

/** Renews or expires one subscription; null when another instance holds it or it no longer needs settling. */
async function settle(id: string, now: number): Promise<Outcome | null> {
  return write(SWEEP_ACTOR, async (tx, after): Promise<Outcome | null> => {
    const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "Subscription" WHERE id = ${id} AND status = 'active' FOR UPDATE SKIP LOCKED`;
    if (!locked.length) return null;
    const sub = await tx.subscription.findUnique({ where: { id }, include: { pool: true, blocks: { select: { blockIndex: true } } } });
    if (!sub) return null;
    const end = sub.periodEnd.getTime();
    const ended = end <= now;
    // Checked again under the lock: a renewal may have moved the period end since the candidates were read.
    if (!ended && !(sub.autoRenew && end <= now + RENEWAL_LEAD_MS)) return null;

    const expire = async (endedReason: string): Promise<Outcome | null> => {
      if (!ended) return null;
      const expired = await tx.subscription.update({ where: { id }, data: { status: "expired", endedReason } });
      after.subscriptionChanged(id);
      after.audit({
        action: "subscription.expire",
        targetType: "subscription",
        targetId: id,
        accountId: sub.userId,
        changes: { status: [sub.status, expired.status], endedReason: [sub.endedReason, endedReason] },
      });
      return "expired";
    };

    if (!sub.autoRenew) return expire("The period ended and auto-renewal was off.");
    if (!sub.pool.active) return expire(`The pool "${sub.pool.name}" is no longer on sale, so the subscription could not be renewed.`);
    const priceMicros = priceOf(sub.pool, sub.blocks.length);
    const available = await holdBalance(tx, sub.userId, priceMicros, holdsUntilSettled(after));
    if (available !== null) {
      // Inside the lead time this is only retried; the subscription expires when its period has really ended.
      return expire(
        `Auto-renewal needed ${formatUsd(priceMicros)} but the balance was ${formatUsd(available)}. Top up, then renew with POST /api/subscriptions/${id}/renew.`,
      );
    }
    const from = autoRenewalStart(end, now);
    const renewed = await tx.subscription.update({
      where: { id },
      data: {
        // Coverage runs on when the new period joins the old; after a gap it restarts now.
        periodStart: from === end ? undefined : new Date(from),
        periodEnd: new Date(periodEndFrom(from)),
        endedReason: null,
      },
    });
    await charge(tx, after, {
      userId: sub.userId,
      subscriptionId: id,
      priceMicros,
      from: new Date(from),
      note: `"${sub.pool.name}": auto-renewed for 30 days`,
    });
    after.subscriptionChanged(id);
    after.audit({
      action: "subscription.renew",
      targetType: "subscription",
      targetId: id,
      accountId: sub.userId,
      changes: { ...renewalChanges(sub, renewed), priceUsd: [null, microsToUsd(priceMicros)] },
    });
    return "renewed";
  });
}

const globalForSweep = globalThis as unknown as { __keygateSubscriptionSweep?: { timer: NodeJS.Timeout; running: boolean } };

/** Starts the periodic sweep (once per process), and runs it once now. */
export function startSubscriptionSweep(): void {
  if (globalForSweep.__keygateSubscriptionSweep) return;
  const state = { timer: setInterval(() => void run(), SWEEP_INTERVAL_MS), running: false };
  state.timer.unref();
  globalForSweep.__keygateSubscriptionSweep = state;

  async function run(): Promise<void> {
    // A slow run is not overlapped by the next tick in the same process (other instances are kept apart by SKIP LOCKED).
    if (state.running) return;
    state.running = true;
    try {
      const { renewed, expired } = await sweepSubscriptions();
      if (renewed.length || expired.length) logger().info(`subscriptions: ${renewed.length} renewed, ${expired.length} expired`);
    } catch (err) {
      logger().error(`subscription sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      state.running = false;
    }
  }
  void run();
}

export function stopSubscriptionSweep(): void {
  const state = globalForSweep.__keygateSubscriptionSweep;
  if (!state) return;
  clearInterval(state.timer);
  globalForSweep.__keygateSubscriptionSweep = undefined;
}
