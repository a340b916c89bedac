import { handle, nextRoutes } from "@/lib/http/route";
import { rotateManagementKey } from "@/lib/keys/operations";
import { rotateManagementKey as rotate } from "@/lib/keys/rotation";
import { idempotencyKeyOf } from "@/lib/writes/idempotency";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(rotateManagementKey, async ({ req, actor, body, params }) => rotate(actor, params.id, body, idempotencyKeyOf(req))),
);
