import { handle, nextRoutes } from "@/lib/http/route";
import { createManagementKey, listManagementKeys, toBillingKeyView } from "@/lib/keys/management";
import { createBillingKey, listBillingKeys } from "@/lib/keys/operations";

/** ModelSwitch billing keys: our management keys in that API's documented shapes. */
export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listBillingKeys, async ({ caller }) => ({ keys: (await listManagementKeys(caller.userId)).map(toBillingKeyView) })),
  handle(createBillingKey, async ({ caller, body }) => {
    const { record, apiKey } = await createManagementKey(caller.userId, body);
    return { id: record.id, key: apiKey, prefix: record.keyPrefix };
  }),
);
