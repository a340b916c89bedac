import { balanceMicros } from "@/lib/billing/ledger";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import type { GatewayErrorCode } from "@/lib/gateway/protocols";
import { subscriptionFor, type SubscriptionView } from "@/lib/subscriptions/cache";
import type { ConsumptionKeyRecord } from "@/lib/keys/verify";
import { blockIndexAt, nextBlockStart } from "@/lib/pools/blocks";

/**
 * What a consumption key brings to the limits store and may do now: seeding
 * its figures, and a subscription key's verdict (active period, reserved
 * block). Shared by the inference handler and POST /api/keys/verify.
 */

export interface Refusal {
  status: number;
  code: GatewayErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Seeds the limits store with what the database says the key has spent and
 * the account holds, for whichever the store does not have yet (first use,
 * or a Redis that lost its data). Each read is checked against the store's
 * generation, so a flush or a credit that lands between the read and the
 * seed makes it read again instead of counting that money twice or never.
 */
export async function seedStore(key: ConsumptionKeyRecord, need: { account: boolean; key: boolean }): Promise<void> {
  const store = limits();
  const db = await prisma();
  for (let i = 0; need.key && i < 10; i++) {
    const generation = await store.keyGeneration(key.id);
    const row = await db.apiKey.findUnique({ where: { id: key.id }, select: { spendMicros: true } });
    if (await store.seedKey(key.id, Number(row?.spendMicros ?? key.spendMicros), generation)) break;
  }
  for (let i = 0; need.account && i < 10; i++) {
    const generation = await store.accountGeneration(key.userId);
    const balance = await balanceMicros(key.userId);
    if (await store.seedAccount(key.userId, Number(balance), generation)) break;
  }
}

/** Whether a subscription key may be used at `now`: its subscription active and now inside a reserved block. */
export async function judgeSubscriptionKey(key: ConsumptionKeyRecord, now: number): Promise<{ ok: true; subscription: SubscriptionView } | { ok: false; code: "key_expired" | "outside_reserved_block"; refusal: Refusal }> {
  const sub = key.subscriptionId ? await subscriptionFor(key.subscriptionId) : null;
  if (!sub || sub.status !== "active" || sub.periodEnd <= now) {
    const ended = sub ? ` It ended on ${new Date(Math.min(sub.periodEnd, now)).toISOString()}.` : "";
    return { ok: false, code: "key_expired", refusal: { status: 401, code: "invalid_api_key", message: `This key's subscription is no longer active.${ended} Renew it with POST /api/subscriptions/:id/renew; the same keys work again.` } };
  }
  if (!sub.poolActive || !sub.blocks.includes(blockIndexAt(now, sub.blockHours))) {
    const next = sub.poolActive ? nextBlockStart(now, sub.blocks, sub.blockHours, sub.periodEnd) : null;
    const when = next === null ? "No reserved block starts again before the subscription's period ends." : `The next reserved block starts at ${new Date(next).toISOString()}.`;
    return {
      ok: false,
      code: "outside_reserved_block",
      refusal: {
        status: 403,
        code: "outside_reserved_block",
        message: `This subscription key works only inside its reserved time blocks (UTC). ${when}`,
        headers: next === null ? {} : { "x-keygate-next-block-at": new Date(next).toISOString() },
      },
    };
  }
  return { ok: true, subscription: sub };
}
