import { handle, nextRoutes } from "@/lib/http/route";
import { subscribeToPool } from "@/lib/pools/operations";
import { subscribe } from "@/lib/subscriptions/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(subscribeToPool, async ({ actor, body, params }) => subscribe(actor, params.id, body.blocks)),
);
