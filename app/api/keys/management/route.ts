import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { createManagementKeySchema } from "@/lib/keys/schemas";
import { createManagementKey, listManagementKeys, toManagementKeyView } from "@/lib/keys/management";

export const GET = route({ auth: "session" }, async ({ caller }) => {
  return ok((await listManagementKeys(caller.userId)).map(toManagementKeyView));
});

export const POST = route({ auth: "session", body: createManagementKeySchema }, async ({ caller, body }) => {
  const { record, apiKey } = await createManagementKey(caller.userId, body);
  return ok({ id: record.id, name: record.name, keyPrefix: record.keyPrefix, expiresAt: record.expiresAt?.toISOString() ?? null, apiKey }, 201);
});

export const { PUT, PATCH, DELETE } = unsupportedMethods("GET", "POST");
