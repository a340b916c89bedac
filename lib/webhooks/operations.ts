import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { deletedSchema } from "@/lib/keys/schemas";
import {
  createdWebhookSchema,
  createWebhookSchema,
  deliveryListSchema,
  listDeliveriesQuerySchema,
  webhookDeliveryViewSchema,
  webhookViewSchema,
  type WebhookView,
} from "@/lib/webhooks/schemas";

/** Alerts by webhook: endpoints, their signing secrets, and the delivery log. */

const exampleWebhook: WebhookView = {
  id: "cm9x2k1q40000webhook01",
  url: "https://hooks.example.com/keygate",
  events: ["key.budget.threshold", "account.balance.low"],
  createdAt: "2026-12-07T09:30:00.000Z",
};

const exampleDelivery = {
  id: "msg_5b0c2f1e9a7d4c3b8e6f1a2b3c4d5e6f",
  webhookId: exampleWebhook.id,
  type: "key.budget.threshold",
  status: "pending" as const,
  attempts: 2,
  lastStatusCode: 503,
  nextAttemptAt: "2026-12-07T10:05:05.000Z",
  createdAt: "2026-12-07T10:00:00.000Z",
};

const DELIVERY =
  "Each delivery is a POST of `{type, timestamp, data}` signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`), answered within 5 s and never redirected; a non-2xx answer or a timeout is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then marked `failed`.";

export const listWebhooks = defineOperation({
  id: "listWebhooks",
  method: "GET",
  path: "/api/webhooks",
  tag: "Webhooks",
  summary: "List your webhooks",
  description: "Oldest first. Signing secrets are never returned.",
  auth: "session-or-mk",
  scope: "webhooks:write",
  response: { status: 200, description: "Your webhooks.", schema: z.array(webhookViewSchema), shape: "envelope" },
  examples: { response: [exampleWebhook] },
});

export const createWebhook = defineOperation({
  id: "createWebhook",
  method: "POST",
  audit: { action: "webhook.create", targetType: "webhook" },
  path: "/api/webhooks",
  tag: "Webhooks",
  summary: "Add a webhook",
  description: `Returns the signing secret (\`whsec_…\`) once; it is stored encrypted and cannot be shown again. Events: \`key.budget.threshold\`, \`account.balance.low\`, \`subscription.expiring\`. ${DELIVERY} The URL must be \`https\`, or \`http\` to a public address: private, loopback and link-local targets are refused (400 naming \`url\`) unless the server sets \`KEYGATE_WEBHOOKS_ALLOW_PRIVATE=1\`, and checked again at every delivery after DNS resolution.`,
  auth: "session-or-mk",
  scope: "webhooks:write",
  body: createWebhookSchema,
  response: { status: 201, description: "The webhook was created.", schema: createdWebhookSchema, shape: "envelope" },
  errors: { 409: "`webhook_limit`: the account has 20 webhooks already." },
  examples: {
    body: { url: exampleWebhook.url, events: exampleWebhook.events },
    response: { ...exampleWebhook, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3YNE4sHhAcM=" },
  },
});

export const deleteWebhook = defineOperation({
  id: "deleteWebhook",
  method: "DELETE",
  audit: { action: "webhook.delete", targetType: "webhook" },
  path: "/api/webhooks/{id}",
  tag: "Webhooks",
  summary: "Delete a webhook",
  description: "Its delivery log and pending deliveries go with it: nothing more is sent to it.",
  auth: "session-or-mk",
  scope: "webhooks:write",
  response: { status: 200, description: "The webhook was deleted.", schema: deletedSchema, shape: "envelope" },
  examples: { params: { id: exampleWebhook.id }, response: { deleted: true } },
});

export const listWebhookDeliveries = defineOperation({
  id: "listWebhookDeliveries",
  method: "GET",
  path: "/api/webhooks/{id}/deliveries",
  tag: "Webhooks",
  summary: "A webhook's delivery log",
  description: `Newest first, a page at a time. ${DELIVERY}`,
  auth: "session-or-mk",
  scope: "webhooks:write",
  query: listDeliveriesQuerySchema,
  response: { status: 200, description: "One page of the log.", schema: deliveryListSchema, shape: "envelope" },
  errors: { 404: "`not_found`: no such webhook in your account. `invalid_cursor`: the cursor is not one of its deliveries." },
  examples: { params: { id: exampleWebhook.id }, query: { limit: "50" }, response: { deliveries: [exampleDelivery], nextCursor: null } },
});

export const sendWebhookTest = defineOperation({
  id: "sendWebhookTest",
  method: "POST",
  audit: { action: "webhook.test", targetType: "webhook" },
  path: "/api/webhooks/{id}/test",
  tag: "Webhooks",
  summary: "Send a test event",
  description:
    "Sends a `webhook.test` event (`data: {webhookId, message}`) to this webhook now, whatever events it subscribes to, and answers with its delivery after the first attempt (at most 5 s): `delivered`, or `pending` with the retry scheduled like any event's.",
  auth: "session-or-mk",
  scope: "webhooks:write",
  response: { status: 201, description: "The test event's delivery.", schema: webhookDeliveryViewSchema, shape: "envelope" },
  examples: {
    params: { id: exampleWebhook.id },
    response: { ...exampleDelivery, type: "webhook.test", status: "delivered", attempts: 1, lastStatusCode: 200, nextAttemptAt: null },
  },
});
