import { handle, nextRoutes } from "@/lib/http/route";
import { renewSubscription } from "@/lib/subscriptions/operations";
import { renewSubscription as renew } from "@/lib/subscriptions/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(renewSubscription, async ({ actor, params }) => renew(actor, params.id)));
