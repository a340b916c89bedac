import { handle, nextRoutes } from "@/lib/http/route";
import { deleteManagementKey as removeManagementKey } from "@/lib/keys/management";
import { deleteManagementKey } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(deleteManagementKey, async ({ caller, params }) => {
    await removeManagementKey(caller.userId, params.id);
    return { deleted: true as const };
  }),
);
