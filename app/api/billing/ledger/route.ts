import { listLedger as findLedger } from "@/lib/billing/ledger";
import { listLedger } from "@/lib/billing/operations";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listLedger, async ({ actor, query }) => {
    const { items, nextCursor } = await findLedger(actor, query);
    return { success: true as const, data: items, nextCursor };
  }),
);
