import { z } from "zod";
import { queryInteger } from "@/lib/keys/schemas";

/**
 * Alerts by webhook: request and response schemas, shared by the API and the
 * dashboard's form. The signing secret is write-once: it appears in the
 * create response only.
 */

/** The events a webhook may subscribe to. `webhook.test` is sent only by POST /api/webhooks/{id}/test. */
export const WEBHOOK_EVENTS = ["key.budget.threshold", "account.balance.low", "subscription.expiring"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number] | "webhook.test";

export const WEBHOOK_EVENT_DESCRIPTIONS: Record<(typeof WEBHOOK_EVENTS)[number], string> = {
  "key.budget.threshold": "A credit key's spend reached 50 %, 80 % or 100 % of its budget (once per key, threshold and period).",
  "account.balance.low": "The balance fell below the account's low-balance threshold.",
  "subscription.expiring": "A subscription without auto-renewal ends within 24 hours.",
};

/** Webhooks one account may have. */
export const MAX_WEBHOOKS = 20;

export const webhookUrlSchema = z
  .string({ error: "url must be a string" })
  .trim()
  .max(2048, "url must be at most 2048 characters")
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
    } catch {
      return false;
    }
  }, "url must be an absolute https:// (or http://) URL, e.g. https://hooks.example.com/keygate")
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.username === "" && u.password === "";
    } catch {
      return true;
    }
  }, "url must not contain a user name or password")
  .meta({
    description:
      "Where deliveries are POSTed: `https`, or `http` to a public address. Private, loopback and link-local addresses are refused, here and at every delivery after DNS resolution, unless the server sets `KEYGATE_WEBHOOKS_ALLOW_PRIVATE=1`.",
    format: "uri",
  });

export const createWebhookSchema = z.strictObject({
  url: webhookUrlSchema,
  events: z
    .array(z.enum(WEBHOOK_EVENTS, { error: `events must each be one of ${WEBHOOK_EVENTS.join(", ")}` }), { error: "events must be an array of event types" })
    .min(1, "events must name at least one event")
    .max(WEBHOOK_EVENTS.length, `events can name at most ${WEBHOOK_EVENTS.length} events`)
    .transform((events) => [...new Set(events)])
    .meta({ description: "The event types to receive." }),
});

export type CreateWebhookInput = z.output<typeof createWebhookSchema>;

export const webhookViewSchema = z
  .strictObject({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "Webhook", description: "A webhook endpoint. Its signing secret is never returned after creation." });

export const createdWebhookSchema = webhookViewSchema
  .extend({
    secret: z.string().meta({
      description:
        "The signing secret (`whsec_` and base64 of 32 random bytes), for Standard Webhooks' `Webhook.verify`. Shown only in this response: it is stored encrypted and never returned again.",
    }),
  })
  .meta({ id: "CreatedWebhook", description: "The new webhook, with its signing secret (shown once)." });

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

export const webhookDeliveryViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "The event's id: the `webhook-id` header, the same on every attempt." }),
    webhookId: z.string(),
    type: z.string().meta({ description: "The event type, e.g. `key.budget.threshold` or `webhook.test`." }),
    status: z.enum(DELIVERY_STATUSES).meta({
      description: "`pending`: not delivered yet (a retry is scheduled at `nextAttemptAt`); `delivered`: a 2xx answer; `failed`: every attempt failed.",
    }),
    attempts: z.number().int().min(0),
    lastStatusCode: z
      .number()
      .int()
      .nullable()
      .meta({ description: "The receiver's last HTTP status; null when none answered (refused, timed out, or not tried yet)." }),
    nextAttemptAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "WebhookDelivery", description: "One event sent (or being sent) to a webhook." });

export type WebhookView = z.infer<typeof webhookViewSchema>;
export type CreatedWebhook = z.infer<typeof createdWebhookSchema>;
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryViewSchema>;

export const DELIVERY_PAGE_SIZE = 50;

export const listDeliveriesQuerySchema = z.object({
  limit: queryInteger("limit", 1, 100).optional().meta({ description: "Page size, 1 to 100; 50 when omitted." }),
  cursor: z.string().max(64, "cursor is not valid").optional().meta({ description: "The `nextCursor` of the previous page." }),
});

export const deliveryListSchema = z.strictObject({
  deliveries: z.array(webhookDeliveryViewSchema).meta({ description: "Newest first." }),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` to get the next page; null on the last page." }),
});

export type DeliveryList = z.infer<typeof deliveryListSchema>;
