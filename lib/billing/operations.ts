import { defineOperation } from "@/lib/http/operation";
import { billingStatusSchema, creditGrantSchema, grantCreditsSchema } from "@/lib/billing/schemas";

/** Balance and credit. */

export const getBillingStatus = defineOperation({
  id: "getBillingStatus",
  method: "GET",
  path: "/api/billing/status",
  tag: "Billing",
  summary: "Balance, spend this period, subscriptions and key counts",
  auth: "session-or-mk",
  response: { status: 200, description: "The caller's billing status.", schema: billingStatusSchema, shape: "envelope" },
  examples: {
    response: {
      currency: "USD",
      balance: 42.5,
      spendThisPeriod: 7.5,
      period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
      activeSubscriptions: [],
      keys: { credit: { total: 3, active: 2 }, subscription: { total: 0, active: 0 }, management: { total: 1, active: 1 } },
    },
  },
});

export const grantCredits = defineOperation({
  id: "grantCredits",
  method: "POST",
  path: "/api/admin/credits",
  tag: "Admin",
  summary: "Grant credit to an account",
  description: "Appends a grant to the account's ledger.",
  auth: "admin",
  body: grantCreditsSchema,
  response: { status: 201, description: "The grant and the new balance.", schema: creditGrantSchema, shape: "envelope" },
  errors: { 404: "`not_found`: no account uses this email." },
  examples: {
    body: { email: "ada@example.com", amountUsd: 25, note: "Welcome credit" },
    response: { email: "ada@example.com", entryId: "cm9x2k1q40000ledger01", amountUsd: 25, balanceUsd: 67.5 },
  },
});
