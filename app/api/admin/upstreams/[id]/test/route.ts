import { handle, nextRoutes } from "@/lib/http/route";
import { testUpstream } from "@/lib/upstreams/operations";
import { testUpstream as probeUpstream } from "@/lib/gateway/probe";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(testUpstream, async ({ params }) => probeUpstream(params.id)));
