import { listAudit } from "@/lib/audit/operations";
import { listOwnAudit } from "@/lib/audit/queries";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listAudit, async ({ actor, query }) => ({ success: true as const, ...(await listOwnAudit(actor, query)) })),
);
