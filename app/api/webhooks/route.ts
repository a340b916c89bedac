import { handle, nextRoutes } from "@/lib/http/route";
import { createWebhook, listWebhooks } from "@/lib/webhooks/operations";
import { createWebhook as addWebhook, listWebhooks as findWebhooks } from "@/lib/webhooks/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listWebhooks, async ({ actor }) => findWebhooks(actor)),
  handle(createWebhook, async ({ actor, body }) => addWebhook(actor, body)),
);
