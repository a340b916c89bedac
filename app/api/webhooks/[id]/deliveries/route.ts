import { handle, nextRoutes } from "@/lib/http/route";
import { listWebhookDeliveries } from "@/lib/webhooks/operations";
import { listDeliveries } from "@/lib/webhooks/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listWebhookDeliveries, async ({ actor, params, query }) => listDeliveries(actor, params.id, query)),
);
