import { handle, nextRoutes } from "@/lib/http/route";
import { deleteKey, updateKey } from "@/lib/keys/operations";
import { deleteKey as removeKey, updateKey as changeKey } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(updateKey, async ({ caller, body, params }) => changeKey(caller.userId, params.id, body)),
  handle(deleteKey, async ({ caller, params }) => {
    await removeKey(caller.userId, params.id);
    return { deleted: true as const };
  }),
);
