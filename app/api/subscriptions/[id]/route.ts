import { handle, nextRoutes } from "@/lib/http/route";
import { getSubscription, updateSubscription } from "@/lib/subscriptions/operations";
import { getSubscription as findSubscription, updateSubscription as changeSubscription } from "@/lib/subscriptions/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(getSubscription, async ({ actor, params }) => findSubscription(actor, params.id)),
  handle(updateSubscription, async ({ actor, body, params }) => changeSubscription(actor, params.id, body)),
);
