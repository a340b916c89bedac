import { handle, nextRoutes } from "@/lib/http/route";
import { deleteManagementKey } from "@/lib/keys/management";
import { deleteBillingKey } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(deleteBillingKey, async ({ actor, params }) => {
    await deleteManagementKey(actor, params.id);
    return { status: "deleted" as const };
  }),
);
