import { grantCredits } from "@/lib/billing/operations";
import { grantCredit } from "@/lib/billing/ledger";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(grantCredits, async ({ actor, body }) => {
    const { user, entry, balance } = await grantCredit(actor, { email: body.email, amountMicros: usdToMicros(body.amountUsd), note: body.note });
    return { email: user.email, entryId: entry.id, amountUsd: microsToUsd(entry.amountMicros), balanceUsd: microsToUsd(balance) };
  }),
);
