import { defineOperation } from "@/lib/http/operation";
import { exampleSubscription } from "@/lib/subscriptions/examples";
import {
  billingStatusSchema,
  checkoutSessionSchema,
  createCheckoutSchema,
  creditGrantSchema,
  grantCreditsSchema,
  ledgerListSchema,
  listLedgerQuerySchema,
  stripeEventSchema,
  webhookReceiptSchema,
} from "@/lib/billing/schemas";

/** Balance, ledger and credit. */

/** Stripe's events are a few KB, but a 413 would make Stripe retry an event that can never succeed. */
const STRIPE_EVENT_MAX_BYTES = 256 * 1024;
const STRIPE_OFF = "`stripe_not_configured`: card top-ups are off (`STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET` are not both set).";

export const getBillingStatus = defineOperation({
  id: "getBillingStatus",
  method: "GET",
  path: "/api/billing/status",
  tag: "Billing",
  summary: "Balance, spend this period, subscriptions and key counts",
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The caller's billing status.", schema: billingStatusSchema, shape: "envelope" },
  examples: {
    response: {
      currency: "USD",
      balance: 42.5,
      spendThisPeriod: 7.5,
      period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
      activeSubscriptions: [{ ...exampleSubscription, keyCount: 1 }],
      keys: { credit: { total: 3, active: 2 }, subscription: { total: 1, active: 1 }, management: { total: 1, active: 1 } },
    },
  },
});

export const listLedger = defineOperation({
  id: "listLedger",
  method: "GET",
  path: "/api/billing/ledger",
  tag: "Billing",
  summary: "Your credit ledger, newest first",
  description:
    "Every change to the balance: operator grants, card top-ups, usage debits and subscription charges. Pages of `limit` entries (50 when omitted); follow `nextCursor` for older ones.",
  auth: "session-or-mk",
  scope: "billing:read",
  query: listLedgerQuerySchema,
  // The envelope plus a page cursor beside `data`, as GET /api/keys answers.
  response: { status: 200, description: "One page of the caller's ledger.", schema: ledgerListSchema, shape: "as-is" },
  errors: { 404: "`invalid_cursor`: the cursor does not match one of your ledger entries." },
  examples: {
    query: { limit: "2" },
    response: {
      success: true,
      data: [
        { id: "cm9x2k1q40000ledger02", kind: "usage", amount: -0.0042, note: "Usage: 3 requests", createdAt: "2026-11-24T08:00:01.000Z" },
        { id: "cm9x2k1q40000ledger01", kind: "topup", amount: 25, note: "Card top-up (Stripe cs_test_a1b2c3)", createdAt: "2026-11-24T07:59:00.000Z" },
      ],
      nextCursor: "cm9x2k1q40000ledger01",
    },
  },
});

export const createCheckout = defineOperation({
  id: "createCheckout",
  method: "POST",
  audit: false,
  path: "/api/billing/checkout",
  tag: "Billing",
  summary: "Top up with a card (Stripe Checkout)",
  description:
    "Creates a Stripe Checkout Session for `amountUsd` and answers its URL; send the browser there. The credit arrives when Stripe reports the payment to `POST /api/billing/webhook`, usually within seconds; Stripe then sends the browser back to the Billing page. Available when the operator has configured Stripe.",
  auth: "session-or-mk",
  scope: "billing:read",
  body: createCheckoutSchema,
  response: { status: 201, description: "The Checkout Session.", schema: checkoutSessionSchema, shape: "envelope" },
  errors: { 404: STRIPE_OFF, 502: "`stripe_error`: Stripe did not create the session; try again (the cause is in the server log)." },
  examples: {
    body: { amountUsd: 25 },
    response: { id: "cs_test_a1b2c3", url: "https://checkout.stripe.com/c/pay/cs_test_a1b2c3" },
  },
});

export const receiveStripeWebhook = defineOperation({
  id: "receiveStripeWebhook",
  method: "POST",
  audit: { action: "credits.purchase", targetType: "user", onlyWhenChanged: true },
  path: "/api/billing/webhook",
  tag: "Billing",
  summary: "Stripe's webhook (for Stripe only)",
  description:
    "Stripe calls this with a signed event; the `Stripe-Signature` header is checked against `STRIPE_WEBHOOK_SECRET` over the body exactly as sent. A paid `checkout.session.completed` (or, for delayed payment methods, `checkout.session.async_payment_succeeded`) credits `amount_total / 100` USD to the account that opened the session, once per Checkout Session however often Stripe delivers it. Other event types are acknowledged and ignored.",
  auth: "none",
  body: stripeEventSchema,
  rawBody: true,
  maxBodyBytes: STRIPE_EVENT_MAX_BYTES,
  response: { status: 200, description: "The event was received.", schema: webhookReceiptSchema, shape: "envelope" },
  errors: {
    400: "`invalid_signature`: the `Stripe-Signature` header is missing, wrong or too old.",
    404: STRIPE_OFF,
  },
  examples: {
    body: {
      id: "evt_1Q2w3E4r5T6y",
      object: "event",
      type: "checkout.session.completed",
      data: { object: { id: "cs_test_a1b2c3", object: "checkout.session" } },
    },
    response: { received: true, outcome: "credited" },
  },
});

export const grantCredits = defineOperation({
  id: "grantCredits",
  method: "POST",
  audit: { action: "credits.grant", targetType: "user" },
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
