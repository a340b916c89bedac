import { handle, nextRoutes } from "@/lib/http/route";
import { createManagementKey as issueManagementKey, listManagementKeys as findManagementKeys, toManagementKeyView } from "@/lib/keys/management";
import { createManagementKey, listManagementKeys } from "@/lib/keys/operations";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listManagementKeys, async ({ caller }) => (await findManagementKeys(caller.userId)).map(toManagementKeyView)),
  handle(createManagementKey, async ({ caller, body }) => {
    const { record, apiKey } = await issueManagementKey(caller.userId, body);
    return { id: record.id, name: record.name, keyPrefix: record.keyPrefix, expiresAt: record.expiresAt?.toISOString() ?? null, apiKey };
  }),
);
