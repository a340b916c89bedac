import { handle, nextRoutes } from "@/lib/http/route";
import { createUpstream, listUpstreams } from "@/lib/upstreams/operations";
import { createUpstream as addUpstream, listUpstreams as findUpstreams } from "@/lib/upstreams/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listUpstreams, async () => findUpstreams()),
  handle(createUpstream, async ({ actor, body }) => addUpstream(actor, body)),
);
