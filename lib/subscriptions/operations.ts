import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { exampleSubscription } from "@/lib/subscriptions/examples";
import { PERIOD_DAYS } from "@/lib/pools/blocks";
import { subscriptionViewSchema, updateSubscriptionSchema } from "@/lib/subscriptions/schemas";

/** The caller's pool subscriptions: list, read, auto-renewal, renewal. */

const subscriptionId = { id: exampleSubscription.id };
const NOT_YOURS = "`not_found`: no subscription with this ID is in your account.";

export const listSubscriptions = defineOperation({
  id: "listSubscriptions",
  method: "GET",
  path: "/api/subscriptions",
  tag: "Subscriptions",
  summary: "List your subscriptions",
  description: "Active, expired and cancelled, newest first.",
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The caller's subscriptions.", schema: z.array(subscriptionViewSchema), shape: "envelope" },
  examples: { response: [{ ...exampleSubscription, keyCount: 2 }] },
});

export const getSubscription = defineOperation({
  id: "getSubscription",
  method: "GET",
  path: "/api/subscriptions/{id}",
  tag: "Subscriptions",
  summary: "One of your subscriptions",
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The subscription.", schema: subscriptionViewSchema, shape: "envelope" },
  errors: { 404: NOT_YOURS },
  examples: { params: subscriptionId, response: { ...exampleSubscription, keyCount: 2 } },
});

export const updateSubscription = defineOperation({
  id: "updateSubscription",
  method: "PUT",
  audit: { action: "subscription.update", targetType: "subscription" },
  path: "/api/subscriptions/{id}",
  tag: "Subscriptions",
  summary: "Turn auto-renewal on or off",
  description: `With \`autoRenew\` on, the subscription renews itself from your credit balance at the end of each period (charged up to a minute before it ends, so its keys never lapse). If the balance cannot pay, it expires and \`endedReason\` says so.`,
  auth: "session-or-mk",
  scope: "pools:write",
  body: updateSubscriptionSchema,
  response: { status: 200, description: "The subscription.", schema: subscriptionViewSchema, shape: "envelope" },
  errors: { 404: NOT_YOURS, 409: "`subscription_ended`: the period has ended; renew with `POST /api/subscriptions/{id}/renew` first." },
  examples: { params: subscriptionId, body: { autoRenew: true }, response: { ...exampleSubscription, autoRenew: true } },
});

export const renewSubscription = defineOperation({
  id: "renewSubscription",
  method: "POST",
  audit: { action: "subscription.renew", targetType: "subscription" },
  path: "/api/subscriptions/{id}/renew",
  tag: "Subscriptions",
  summary: "Renew a subscription now",
  description: `Charges one more ${PERIOD_DAYS}-day period now, at the pool's current price, and extends the same subscription: same ID, same keys. The new period starts at the old \`periodEnd\` if it has not passed (nothing is lost by renewing early), otherwise now; an ended subscription needs its blocks' seats free again.`,
  auth: "session-or-mk",
  scope: "pools:write",
  response: { status: 200, description: "The renewed subscription.", schema: subscriptionViewSchema, shape: "envelope" },
  errors: {
    402: "`insufficient_balance`: your credit cannot pay for another period.",
    404: NOT_YOURS,
    409: "`block_full` (the subscription had ended and a block's seats were sold meanwhile), `pool_inactive` (the pool is off sale) or `subscription_cancelled`.",
  },
  examples: { params: subscriptionId, response: { ...exampleSubscription, periodEnd: "2027-01-23T17:45:12.000Z", keyCount: 2 } },
});
