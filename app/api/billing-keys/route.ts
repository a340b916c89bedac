import { raw, route, unsupportedMethods } from "@/lib/http/route";
import { createManagementKeySchema } from "@/lib/keys/schemas";
import { createManagementKey, listManagementKeys } from "@/lib/keys/management";

/** The second seed's billing keys: our management keys in its documented shapes. */

export const GET = route({ auth: "session" }, async ({ caller }) => {
  const keys = await listManagementKeys(caller.userId);
  return raw({
    keys: keys.map((k) => ({
      id: k.id,
      name: k.name,
      prefix: k.keyPrefix,
      active: k.isActive,
      createdAt: k.createdAt.toISOString(),
      expiresAt: k.expiresAt?.toISOString() ?? null,
    })),
  });
});

export const POST = route({ auth: "session", body: createManagementKeySchema }, async ({ caller, body }) => {
  const { record, apiKey } = await createManagementKey(caller.userId, body);
  return raw({ id: record.id, key: apiKey, prefix: record.keyPrefix }, 201);
});

export const { PUT, PATCH, DELETE } = unsupportedMethods("GET", "POST");
