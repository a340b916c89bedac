import { receiveStripeWebhook } from "@/lib/billing/operations";
import { handleStripeEvent, verifyStripeEvent } from "@/lib/billing/stripe";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(receiveStripeWebhook, async ({ req, actor, rawBody }) => {
    // The signature covers the bytes as sent, so the parsed body is never trusted on its own.
    const event = verifyStripeEvent(rawBody, req.headers.get("stripe-signature"));
    return { received: true as const, outcome: await handleStripeEvent(actor, event) };
  }),
);
