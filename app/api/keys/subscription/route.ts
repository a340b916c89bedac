import { route, unsupportedMethods } from "@/lib/http/route";
import { createSubscriptionKeySchema } from "@/lib/keys/schemas";
import { createSubscriptionKey } from "@/lib/keys/service";

export const POST = route({ auth: "session-or-mk", body: createSubscriptionKeySchema }, async ({ caller, body }) => {
  return createSubscriptionKey(caller.userId, body);
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
