import { handle, nextRoutes } from "@/lib/http/route";
import { deleteWebhook } from "@/lib/webhooks/operations";
import { deleteWebhook as removeWebhook } from "@/lib/webhooks/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(deleteWebhook, async ({ actor, params }) => {
    await removeWebhook(actor, params.id);
    return { deleted: true as const };
  }),
);
