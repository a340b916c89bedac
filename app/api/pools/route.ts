import { handle, nextRoutes } from "@/lib/http/route";
import { listPools } from "@/lib/pools/operations";
import { listPools as findPools } from "@/lib/pools/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(listPools, async () => findPools()));
