import { listAllAudit } from "@/lib/audit/operations";
import { listAllAudit as readAll } from "@/lib/audit/queries";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(listAllAudit, async ({ query }) => ({ success: true as const, ...(await readAll(query)) })));
