import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";
import { emailSchema } from "@/lib/auth/schemas";

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
    activeSubscriptions: z.array(z.unknown()).meta({ description: "Active pool subscriptions." }),
    keys: z.strictObject({ credit: keyCountSchema, subscription: keyCountSchema, management: keyCountSchema }),
  })
  .meta({ id: "BillingStatus", description: "The caller's balance, spend and key counts." });

export type BillingStatus = z.infer<typeof billingStatusSchema>;
export type CreditGrant = z.infer<typeof creditGrantSchema>;
