import { handle, nextRoutes } from "@/lib/http/route";
import { deleteManagementKey } from "@/lib/keys/management";
import { deleteBillingKey } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(deleteBillingKey, async ({ caller, params }) => {
    await deleteManagementKey(caller.userId, params.id);
    return { status: "deleted" as const };
  }),
);
