import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { grantCreditsSchema } from "@/lib/billing/schemas";
import { grantCredit } from "@/lib/billing/ledger";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";

export const POST = route({ auth: "admin", body: grantCreditsSchema }, async ({ body }) => {
  const { user, entry, balance } = await grantCredit({ email: body.email, amountMicros: usdToMicros(body.amountUsd), note: body.note });
  return ok({ email: user.email, entryId: entry.id, amountUsd: microsToUsd(entry.amountMicros), balanceUsd: microsToUsd(balance) }, 201);
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
