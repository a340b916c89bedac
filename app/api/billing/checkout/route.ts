import { createCheckout } from "@/lib/billing/operations";
import { createTopUpCheckout } from "@/lib/billing/stripe";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(createCheckout, async ({ req, actor, body }) => createTopUpCheckout(actor, req, body.amountUsd)),
);
