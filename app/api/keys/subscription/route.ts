import { handle, nextRoutes } from "@/lib/http/route";
import { createSubscriptionKey } from "@/lib/keys/operations";
import { createSubscriptionKey as issueSubscriptionKey } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(createSubscriptionKey, async ({ actor, body }) => issueSubscriptionKey(actor, body)));
