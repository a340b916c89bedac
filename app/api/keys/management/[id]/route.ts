import { handle, nextRoutes } from "@/lib/http/route";
import { deleteManagementKey as removeManagementKey, updateManagementKey as changeManagementKey } from "@/lib/keys/management";
import { deleteManagementKey, updateManagementKey } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(updateManagementKey, async ({ actor, body, params }) => changeManagementKey(actor, params.id, body)),
  handle(deleteManagementKey, async ({ actor, params }) => {
    await removeManagementKey(actor, params.id);
    return { deleted: true as const };
  }),
);
