import { handle, nextRoutes } from "@/lib/http/route";
import { rotateKey } from "@/lib/keys/operations";
import { rotateKey as rotate } from "@/lib/keys/rotation";
import { idempotencyKeyOf } from "@/lib/writes/idempotency";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(rotateKey, async ({ req, actor, body, params }) => rotate(actor, params.id, body, idempotencyKeyOf(req))),
);
