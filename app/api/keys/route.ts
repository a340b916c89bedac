import { raw, route, unsupportedMethods } from "@/lib/http/route";
import { createProxyKeySchema, listKeysQuerySchema } from "@/lib/keys/schemas";
import { createCreditKey, listKeys } from "@/lib/keys/service";

export const GET = route({ auth: "session-or-mk", query: listKeysQuerySchema }, async ({ caller, query }) => {
  const { items, nextCursor } = await listKeys(caller.userId, query);
  // The envelope plus a page cursor beside `data`, which stays the plain array both seeds show.
  return raw({ success: true, data: items, nextCursor });
});

/** The second seed's create: a credit key, answered in its documented shape. */
export const POST = route({ auth: "session-or-mk", body: createProxyKeySchema }, async ({ caller, body }) => {
  const { record, apiKey } = await createCreditKey(caller.userId, body);
  return raw({ id: record.id, key: apiKey }, 201);
});

export const { PUT, PATCH, DELETE } = unsupportedMethods("GET", "POST");
