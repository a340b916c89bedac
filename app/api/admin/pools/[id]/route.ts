import { handle, nextRoutes } from "@/lib/http/route";
import { updatePool } from "@/lib/pools/operations";
import { updatePool as changePool } from "@/lib/pools/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(updatePool, async ({ actor, body, params }) => changePool(actor, params.id, body)));
