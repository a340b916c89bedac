import { handle, nextRoutes } from "@/lib/http/route";
import { listSubscriptions } from "@/lib/subscriptions/operations";
import { listSubscriptions as findSubscriptions } from "@/lib/subscriptions/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(listSubscriptions, async ({ actor }) => findSubscriptions(actor)));
