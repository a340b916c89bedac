import { handle, nextRoutes } from "@/lib/http/route";
import { getUsage } from "@/lib/usage/operations";
import { usageReport } from "@/lib/usage/queries";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(getUsage, async ({ actor, query }) => usageReport(actor, query)));
