import crypto from "node:crypto";
import { Prisma } from "@/generated/prisma/client.ts";
import { systemActor } from "@/lib/auth/actor";
import { microsToUsd } from "@/lib/billing/money";
import { prisma } from "@/lib/db";
import { isBudgetPeriod, keyPeriodStart } from "@/lib/limits/periods";
import { write, type Tx } from "@/lib/writes/unit";
import type { WebhookEventType } from "@/lib/webhooks/schemas";

/**
 * Events join the outbox (WebhookDelivery) in the same transaction as what
 * caused them: a usage flush that moved a key's spend or an account's
 * balance, a ledger append, the sweep that noticed a subscription ending. A
 * rolled-back write leaves no event behind, and a committed one cannot lose
 * its event. What must fire once (a threshold per key and period, a
 * subscription's period) is guarded by a unique row inserted with ON CONFLICT
 * DO NOTHING, so two instances seeing the same crossing fire it once.
 */

/** What a webhook's signing secret is sealed as (lib/crypto/secrets.ts). */
export const SECRET_CONTEXT = "webhook.secret";

export function newDeliveryId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Adds the event to the outbox of every webhook of `userId` that subscribes to `type`. Returns how many deliveries it made. */
export async function enqueueEvent(tx: Tx, userId: string, type: WebhookEventType, data: Record<string, unknown>, at: Date): Promise<number> {
  const hooks = await tx.webhook.findMany({ where: { userId, events: { has: type } }, select: { id: true } });
  if (!hooks.length) return 0;
  await tx.webhookDelivery.createMany({
    data: hooks.map((h) => ({ id: newDeliveryId(), webhookId: h.id, type, payload: data as Prisma.InputJsonObject, nextAttemptAt: at, createdAt: at })),
  });
  return hooks.length;
}

// ---------------------------------------------------------------------------
// key.budget.threshold

export const BUDGET_THRESHOLDS = [50, 80, 100] as const;

/**
 * The budget period a key's recorded spend belongs to, and that spend: for a
 * lifetime budget, everything (period start 0); for a budget period, the
 * period the usage writer last added to (`ApiKey.periodStart`, the newest
 * period with usage: lib/limits/periods.ts) and its spend. Thresholds fire per
 * that period, so a new period fires them afresh, with no reset job.
 */
export function budgetPeriodSpend(key: { budgetPeriod: string | null; periodStart: Date | null; periodSpendMicros: bigint; spendMicros: bigint }): {
  periodStart: number;
  spendMicros: bigint;
} {
  if (key.budgetPeriod === null) return { periodStart: 0, spendMicros: key.spendMicros };
  if (!key.periodStart) return { periodStart: 0, spendMicros: BigInt(0) };
  return { periodStart: key.periodStart.getTime(), spendMicros: key.periodSpendMicros };
}

/**
 * After a usage flush moved these keys' spend (inside its transaction, where
 * the key rows are locked by that update): each threshold a key's spend has
 * reached fires once per key and period.
 */
export async function recordBudgetThresholds(tx: Tx, keyIds: string[], at: Date): Promise<void> {
  if (!keyIds.length) return;
  const keys = await tx.apiKey.findMany({
    where: { id: { in: keyIds }, maxBudgetMicros: { gt: 0 } },
    select: { id: true, name: true, userId: true, spendMicros: true, maxBudgetMicros: true, budgetPeriod: true, periodStart: true, periodSpendMicros: true },
  });
  for (const key of keys) {
    const max = key.maxBudgetMicros!;
    const { periodStart, spendMicros } = budgetPeriodSpend(key);
    const reached = BUDGET_THRESHOLDS.filter((t) => spendMicros * BigInt(100) >= max * BigInt(t));
    if (!reached.length) continue;
    const values = reached.map((t) => `($1, ${t}, ($2::timestamptz AT TIME ZONE 'UTC'))`).join(",");
    const fired = await tx.$queryRawUnsafe<Array<{ threshold: number }>>(
      `INSERT INTO "KeyBudgetAlert" ("keyId", "threshold", "periodStart") VALUES ${values} ON CONFLICT DO NOTHING RETURNING "threshold"`,
      key.id,
      new Date(periodStart).toISOString(),
    );
    for (const { threshold } of fired.sort((a, b) => a.threshold - b.threshold)) {
      await enqueueEvent(
        tx,
        key.userId,
        "key.budget.threshold",
        {
          keyId: key.id,
          keyName: key.name,
          threshold: Number(threshold),
          spendUsd: microsToUsd(spendMicros),
          maxBudgetUsd: microsToUsd(max),
          periodStart: periodStart === 0 ? null : new Date(periodStart).toISOString(),
        },
        at,
      );
    }
  }
}

/**
 * Keys whose requests were refused with `budget_exceeded` since the last usage
 * write (counted by the gateway in memory, lib/usage/refusals.ts): the 100 %
 * threshold fires for the period they were refused in, once per key and
 * period, when the spend itself has not reached it (the reservation's safe
 * bound can stop a key short of exactly 100 %).
 */
export async function recordBudgetExhausted(tx: Tx, refused: Array<{ keyId: string; at: number }>, at: Date): Promise<void> {
  if (!refused.length) return;
  const keys = await tx.apiKey.findMany({
    where: { id: { in: [...new Set(refused.map((r) => r.keyId))] }, maxBudgetMicros: { gt: 0 } },
    select: {
      id: true,
      name: true,
      userId: true,
      spendMicros: true,
      maxBudgetMicros: true,
      budgetPeriod: true,
      budgetPeriodSetAt: true,
      periodStart: true,
      periodSpendMicros: true,
    },
  });
  const fired = new Set<string>();
  for (const r of refused) {
    const key = keys.find((k) => k.id === r.keyId);
    if (!key) continue;
    const period = isBudgetPeriod(key.budgetPeriod) ? key.budgetPeriod : null;
    const periodStart = keyPeriodStart({ budgetPeriod: period, budgetPeriodSetAt: key.budgetPeriodSetAt?.getTime() ?? null }, r.at);
    if (fired.has(`${key.id} ${periodStart}`)) continue;
    fired.add(`${key.id} ${periodStart}`);
    const spendMicros = !period ? key.spendMicros : key.periodStart?.getTime() === periodStart ? key.periodSpendMicros : BigInt(0);
    const inserted = await tx.$queryRawUnsafe<Array<{ threshold: number }>>(
      `INSERT INTO "KeyBudgetAlert" ("keyId", "threshold", "periodStart") VALUES ($1, 100, ($2::timestamptz AT TIME ZONE 'UTC')) ON CONFLICT DO NOTHING RETURNING "threshold"`,
      key.id,
      new Date(periodStart).toISOString(),
    );
    if (!inserted.length) continue;
    await enqueueEvent(
      tx,
      key.userId,
      "key.budget.threshold",
      {
        keyId: key.id,
        keyName: key.name,
        threshold: 100,
        spendUsd: microsToUsd(spendMicros),
        maxBudgetUsd: microsToUsd(key.maxBudgetMicros!),
        periodStart: periodStart === 0 ? null : new Date(periodStart).toISOString(),
      },
      at,
    );
  }
}

// ---------------------------------------------------------------------------
// account.balance.low

/**
 * After balances moved down by `debits` (inside the transaction that moved
 * them, where each account's row is locked by that update): an account whose
 * balance went from at or above its low-balance threshold to below it fires
 * once. The row lock orders concurrent debits, so each crossing is seen by
 * exactly one of them.
 */
export async function recordLowBalance(tx: Tx, debits: Array<{ userId: string; micros: bigint }>, at: Date): Promise<void> {
  const down = debits.filter((d) => d.micros > BigInt(0));
  if (!down.length) return;
  const users = await tx.user.findMany({ where: { id: { in: down.map((d) => d.userId) } }, select: { id: true, balanceMicros: true, lowBalanceMicros: true } });
  for (const u of users) {
    const debit = down.find((d) => d.userId === u.id)!.micros;
    const before = u.balanceMicros + debit;
    if (before >= u.lowBalanceMicros && u.balanceMicros < u.lowBalanceMicros) {
      await enqueueEvent(tx, u.id, "account.balance.low", { balanceUsd: microsToUsd(u.balanceMicros), thresholdUsd: microsToUsd(u.lowBalanceMicros) }, at);
    }
  }
}

// ---------------------------------------------------------------------------
// subscription.expiring

export const EXPIRING_LEAD_MS = 24 * 3600_000;

/**
 * Subscriptions without auto-renewal whose period ends within 24 hours get
 * one `subscription.expiring` each per period. Safe on several instances:
 * the (subscription, periodEnd) row is inserted once.
 */
export async function sweepExpiringSubscriptions(now: Date): Promise<number> {
  const db = await prisma();
  const due = await db.$queryRawUnsafe<Array<{ id: string; userId: string; poolId: string; poolName: string; periodEnd: Date | string }>>(
    `SELECT s.id, s."userId", s."poolId", p.name AS "poolName", s."periodEnd"
       FROM "Subscription" s JOIN "Pool" p ON p.id = s."poolId"
       LEFT JOIN "SubscriptionExpiryAlert" a ON a."subscriptionId" = s.id AND a."periodEnd" = s."periodEnd"
      WHERE s.status = 'active' AND NOT s."autoRenew" AND a."subscriptionId" IS NULL
        AND s."periodEnd" > ($1::timestamptz AT TIME ZONE 'UTC') AND s."periodEnd" <= ($2::timestamptz AT TIME ZONE 'UTC')
      ORDER BY s."periodEnd" LIMIT 500`,
    now.toISOString(),
    new Date(now.getTime() + EXPIRING_LEAD_MS).toISOString(),
  );
  let fired = 0;
  for (const s of due) {
    const periodEnd = toUtcDate(s.periodEnd);
    await write(systemActor("webhook-sweep"), async (tx) => {
      const inserted = await tx.$queryRawUnsafe<Array<{ subscriptionId: string }>>(
        `INSERT INTO "SubscriptionExpiryAlert" ("subscriptionId", "periodEnd") VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')) ON CONFLICT DO NOTHING RETURNING "subscriptionId"`,
        s.id,
        periodEnd.toISOString(),
      );
      if (!inserted.length) return;
      fired++;
      await enqueueEvent(
        tx,
        s.userId,
        "subscription.expiring",
        { subscriptionId: s.id, poolId: s.poolId, poolName: s.poolName, periodEnd: periodEnd.toISOString(), autoRenew: false },
        now,
      );
    });
  }
  return fired;
}

/** A timestamp column read through raw SQL: a Date from one driver, a string without zone (UTC) from another. */
export function toUtcDate(v: Date | string): Date {
  if (v instanceof Date) return v;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(" ", "T")}Z`);
}
