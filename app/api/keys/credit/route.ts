import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { createCreditKeySchema } from "@/lib/keys/schemas";
import { createCreditKey, toApiKeyView } from "@/lib/keys/service";

export const POST = route({ auth: "session-or-mk", body: createCreditKeySchema }, async ({ caller, body }) => {
  const { record, apiKey } = await createCreditKey(caller.userId, body);
  return ok({ ...toApiKeyView(record), apiKey }, 201);
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
