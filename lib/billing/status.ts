import type { UserActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { balanceMicros } from "@/lib/billing/ledger";
import { microsToUsd } from "@/lib/billing/money";
import type { BillingStatus } from "@/lib/billing/schemas";
import { limits } from "@/lib/limits";
import { activeSubscriptions } from "@/lib/subscriptions/service";

/** Calendar months in UTC are the billing period. */
export function currentPeriod(now = new Date()) {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end };
}

export async function billingStatus(actor: UserActor): Promise<BillingStatus> {
  const { userId } = actor;
  const db = await prisma();
  const period = currentPeriod();
  const [balance, periodDebits, keyGroups, mgmtTotal, mgmtActive, subscriptions] = await Promise.all([
    balanceMicros(userId),
    db.ledgerEntry.aggregate({
      where: { userId, kind: { in: ["usage", "subscription"] }, createdAt: { gte: period.start, lt: period.end } },
      _sum: { amountMicros: true },
    }),
    db.apiKey.groupBy({ by: ["keyType", "isActive"], where: { userId }, _count: { _all: true } }),
    db.managementKey.count({ where: { userId } }),
    db.managementKey.count({ where: { userId, isActive: true } }),
    activeSubscriptions(actor),
  ]);
  const count = (type: "credit" | "subscription", active?: boolean) =>
    keyGroups.filter((g) => g.keyType === type && (active === undefined || g.isActive === active)).reduce((n, g) => n + g._count._all, 0);
  // Usage the gateway settled but has not written yet (at most about a second's worth) counts already.
  const unflushed = BigInt((await limits().pending(userId)).unflushedMicros);
  // Debits are stored negative; spend is their magnitude.
  const spend = -(periodDebits._sum.amountMicros ?? BigInt(0)) + unflushed;
  return {
    currency: "USD",
    balance: microsToUsd(balance - unflushed),
    spendThisPeriod: microsToUsd(spend),
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    activeSubscriptions: subscriptions,
    keys: {
      credit: { total: count("credit"), active: count("credit", true) },
      subscription: { total: count("subscription"), active: count("subscription", true) },
      management: { total: mgmtTotal, active: mgmtActive },
    },
  };
}
