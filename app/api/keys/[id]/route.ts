import { handle, nextRoutes } from "@/lib/http/route";
import { deleteKey, updateKey } from "@/lib/keys/operations";
import { deleteKey as removeKey, updateKey as changeKey } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(updateKey, async ({ actor, body, params }) => changeKey(actor, params.id, body)),
  handle(deleteKey, async ({ actor, params }) => {
    await removeKey(actor, params.id);
    return { deleted: true as const };
  }),
);
