import { handle, nextRoutes } from "@/lib/http/route";
import { deleteManagementKey as removeManagementKey, updateManagementKey as changeManagementKey } from "@/lib/keys/management";
import { deleteManagementKey, updateManagementKey } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(updateManagementKey, async ({ caller, body, params }) => changeManagementKey(caller.userId, params.id, body)),
  handle(deleteManagementKey, async ({ caller, params }) => {
    await removeManagementKey(caller.userId, params.id);
    return { deleted: true as const };
  }),
);
