import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";
import { emailSchema } from "@/lib/auth/schemas";
import { subscriptionViewSchema } from "@/lib/subscriptions/schemas";
import { queryInteger } from "@/lib/keys/schemas";

/** Billing request and response schemas; the view types are `z.infer` of them. */

export const grantCreditsSchema = z.strictObject({
  email: emailSchema.meta({ description: "The account to credit; compared case-insensitively." }),
  amountUsd: usdAmount("amountUsd").meta({ description: "USD to add, at most 6 decimal places." }),
  note: z
    .string({ error: "note must be a string" })
    .trim()
    .max(500, "note must be at most 500 characters")
    .optional()
    .meta({ description: 'Why, for the ledger. Defaults to "Operator grant".' }),
});

const isoDateTime = () => z.iso.datetime();
const usd = (description: string) => z.number().meta({ description });

export const creditGrantSchema = z.strictObject({
  email: z.string(),
  entryId: z.string().meta({ description: "The ledger entry of this grant." }),
  amountUsd: usd("The amount granted, in USD."),
  balanceUsd: usd("The account's balance after the grant, in USD."),
});

const keyCountSchema = z.strictObject({ total: z.number().int(), active: z.number().int() });

export const billingStatusSchema = z
  .strictObject({
    currency: z.literal("USD").meta({ description: "Always `USD`." }),
    balance: usd("Credit balance in USD: top-ups and grants minus usage and subscription charges."),
    spendThisPeriod: usd("USD spent on usage and subscriptions in the current period."),
    period: z
      .strictObject({ start: isoDateTime(), end: isoDateTime() })
      .meta({ description: "The current billing period, a calendar month in UTC; end is exclusive." }),
    activeSubscriptions: z
      .array(subscriptionViewSchema)
      .meta({ description: "Pool subscriptions whose period is running, newest first (the same objects as `GET /api/subscriptions`)." }),
    keys: z.strictObject({ credit: keyCountSchema, subscription: keyCountSchema, management: keyCountSchema }),
  })
  .meta({ id: "BillingStatus", description: "The caller's balance, spend and key counts." });

// ---------------------------------------------------------------------------
// Card top-ups (Stripe Checkout)

/**
 * Card fees make smaller top-ups mostly fees, and larger ones are better
 * arranged with the operator (an admin grant against an invoice).
 */
export const TOP_UP_MIN_USD = 5;
export const TOP_UP_MAX_USD = 10_000;

export const createCheckoutSchema = z.strictObject({
  amountUsd: z
    .number({ error: "amountUsd must be a number of US dollars, e.g. 25 or 12.50" })
    .min(TOP_UP_MIN_USD, `amountUsd must be at least ${TOP_UP_MIN_USD}`)
    .max(TOP_UP_MAX_USD, `amountUsd must be at most ${TOP_UP_MAX_USD.toLocaleString("en-US")}`)
    // Cards are charged in cents; exact for the same reason as usdAmount's check.
    .refine((n) => Math.round(n * 100) / 100 === n, { message: "amountUsd can have at most 2 decimal places (cents)" })
    .meta({ description: `USD to add, ${TOP_UP_MIN_USD} to ${TOP_UP_MAX_USD.toLocaleString("en-US")}, in whole cents.` }),
});

export const checkoutSessionSchema = z
  .strictObject({
    id: z.string().meta({ description: "The Stripe Checkout Session ID (`cs_…`)." }),
    url: z.url().meta({ description: "Stripe's payment page: send the browser there." }),
  })
  .meta({ id: "CheckoutSession", description: "A Stripe Checkout Session for a card top-up." });

/**
 * What Keygate reads of a Stripe event. Loose on purpose: Stripe adds fields
 * with every API version, and the signature, not this schema, is what makes
 * an event trustworthy.
 */
export const stripeEventSchema = z
  .looseObject({
    id: z.string().meta({ description: "The event ID (`evt_…`)." }),
    type: z.string().meta({ description: "Only `checkout.session.completed` and `checkout.session.async_payment_succeeded` are acted on." }),
    data: z.looseObject({ object: z.looseObject({}) }).meta({ description: "The Checkout Session the event is about." }),
  })
  .meta({ description: "A Stripe event, exactly as Stripe sends it." });

export const webhookReceiptSchema = z.strictObject({
  received: z.literal(true),
  outcome: z.enum(["credited", "duplicate", "ignored", "unknown_user"]).meta({
    description:
      "`credited`: the top-up was added to the balance; `duplicate`: this Checkout Session was credited before; `ignored`: an event type or session Keygate does not act on; `unknown_user`: the account no longer exists (logged for the operator).",
  }),
});

// ---------------------------------------------------------------------------
// Ledger history

export const listLedgerQuerySchema = z.object({
  limit: queryInteger("limit", 1, 100).optional().meta({ description: "Page size, 1 to 100; 50 when omitted." }),
  cursor: z.string().max(64, "cursor is not valid").optional().meta({ description: "The `nextCursor` of the previous page." }),
});

export const LEDGER_PAGE_SIZE = 50;

export const ledgerEntryViewSchema = z
  .strictObject({
    id: z.string(),
    kind: z.enum(["grant", "topup", "usage", "subscription"]).meta({
      description:
        "`grant`: credit from the operator; `topup`: a card payment; `usage`: inference, a second's requests at a time; `subscription`: a pool subscription charge.",
    }),
    amount: usd("USD, signed: positive adds to the balance, negative is a charge."),
    note: z.string().nullable(),
    createdAt: isoDateTime(),
  })
  .meta({ id: "LedgerEntry", description: "One line of the account's credit ledger." });

export const ledgerListSchema = z.strictObject({
  success: z.literal(true),
  data: z.array(ledgerEntryViewSchema),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` to get the next page; null on the last page." }),
});

export type BillingStatus = z.infer<typeof billingStatusSchema>;
export type LedgerEntryView = z.infer<typeof ledgerEntryViewSchema>;
export type CreditGrant = z.infer<typeof creditGrantSchema>;
