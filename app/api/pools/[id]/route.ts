import { handle, nextRoutes } from "@/lib/http/route";
import { getPool } from "@/lib/pools/operations";
import { getPool as findPool } from "@/lib/pools/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(getPool, async ({ params }) => findPool(params.id)));
