import { handle, nextRoutes } from "@/lib/http/route";
import { createManagementKey, listManagementKeys, toBillingKeyView } from "@/lib/keys/management";
import { knownScopes } from "@/lib/keys/scopes";
import { createBillingKey, listBillingKeys } from "@/lib/keys/operations";

/** ModelSwitch billing keys: our management keys in that API's documented shapes. */
export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listBillingKeys, async ({ actor }) => ({ keys: (await listManagementKeys(actor)).map(toBillingKeyView) })),
  handle(createBillingKey, async ({ actor, body }) => {
    const { record, apiKey } = await createManagementKey(actor, body);
    return { id: record.id, key: apiKey, prefix: record.keyPrefix, scopes: knownScopes(record.scopes) };
  }),
);
