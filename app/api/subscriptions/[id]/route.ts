import { handle, nextRoutes } from "@/lib/http/route";
import { getSubscription, updateSubscription } from "@/lib/subscriptions/operations";
import { getSubscription as findSubscription, updateSubscription as changeSubscription } from "@/lib/subscriptions/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(getSubscription, async ({ caller, params }) => findSubscription(caller.userId, params.id)),
  handle(updateSubscription, async ({ caller, body, params }) => changeSubscription(caller.userId, params.id, body)),
);
