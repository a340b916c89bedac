import { handle, nextRoutes } from "@/lib/http/route";
import { deleteUpstream, updateUpstream } from "@/lib/upstreams/operations";
import { deleteUpstream as removeUpstream, updateUpstream as changeUpstream } from "@/lib/upstreams/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(updateUpstream, async ({ actor, body, params }) => changeUpstream(actor, params.id, body)),
  handle(deleteUpstream, async ({ actor, params }) => {
    await removeUpstream(actor, params.id);
    return { deleted: true as const };
  }),
);
