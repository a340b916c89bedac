import { listLedger as findLedger } from "@/lib/billing/ledger";
import { listLedger } from "@/lib/billing/operations";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listLedger, async ({ caller, query }) => {
    const { items, nextCursor } = await findLedger(caller.userId, query);
    return { success: true as const, data: items, nextCursor };
  }),
);
