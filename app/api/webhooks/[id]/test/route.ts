import { handle, nextRoutes } from "@/lib/http/route";
import { sendWebhookTest } from "@/lib/webhooks/operations";
import { sendTestEvent } from "@/lib/webhooks/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(sendWebhookTest, async ({ actor, params }) => sendTestEvent(actor, params.id)));
