import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";
import { emailSchema } from "@/lib/auth/schemas";

export const grantCreditsSchema = z.strictObject({
  email: emailSchema,
  amountUsd: usdAmount("amountUsd"),
  note: z.string({ error: "note must be a string" }).trim().max(500, "note must be at most 500 characters").optional(),
});
