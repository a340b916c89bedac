import { handle, nextRoutes } from "@/lib/http/route";
import { createManagementKey as issueManagementKey, listManagementKeys as findManagementKeys, toManagementKeyView } from "@/lib/keys/management";
import { createManagementKey, listManagementKeys } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listManagementKeys, async ({ actor }) => (await findManagementKeys(actor)).map(toManagementKeyView)),
  handle(createManagementKey, async ({ actor, body }) => {
    const { record, apiKey } = await issueManagementKey(actor, body);
    const { id, name, keyPrefix, scopes, expiresAt } = toManagementKeyView(record);
    return { id, name, keyPrefix, scopes, expiresAt, apiKey };
  }),
);
