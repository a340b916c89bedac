import { handle, nextRoutes } from "@/lib/http/route";
import { createPool, listAllPools } from "@/lib/pools/operations";
import { createPool as addPool, listAllPools as findAllPools } from "@/lib/pools/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listAllPools, async () => findAllPools()),
  handle(createPool, async ({ actor, body }) => addPool(actor, body)),
);
