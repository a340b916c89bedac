import { z } from "zod";
import * as accounts from "@/lib/auth/operations";
import * as audit from "@/lib/audit/operations";
import * as billing from "@/lib/billing/operations";
import { defineOperation, type OperationSpec } from "@/lib/http/operation";
import * as inference from "@/lib/inference/operations";
import * as keys from "@/lib/keys/operations";
import * as models from "@/lib/models/operations";
import * as pools from "@/lib/pools/operations";
import * as subscriptions from "@/lib/subscriptions/operations";
import * as upstreams from "@/lib/upstreams/operations";
import * as webhooks from "@/lib/webhooks/operations";
import * as usage from "@/lib/usage/operations";

/**
 * Every operation of the API, in the order the reference lists them. Each is
 * declared once, beside its domain (lib/<domain>/operations.ts); the route
 * wrapper, the 405 answers, the OpenAPI document and the test harness read
 * this list.
 */

export const openApiDocumentSchema = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

export const getOpenApiDocument = defineOperation({
  id: "getOpenApiDocument",
  method: "GET",
  path: "/api/openapi.json",
  tag: "Meta",
  summary: "This OpenAPI document",
  description: "Rendered for people at /docs.",
  auth: "none",
  response: { status: 200, description: "The OpenAPI 3.1 document.", schema: openApiDocumentSchema, shape: "as-is" },
  examples: { response: { openapi: "3.1.0", info: { title: "Keygate API", version: "0.1.0" }, paths: {} } },
});

export const TAGS = [
  {
    name: "Inference",
    description:
      "What apps call with a consumption key (`sk_…`): the OpenAI and Anthropic APIs, unchanged, so the official SDKs work by changing their base URL. Served by the gateway's hot path, metered and charged per request.",
  },
  { name: "Accounts", description: "Sign up, get a session token for scripts, and read your account." },
  {
    name: "Consumption keys",
    description: "`sk_live_…` credit keys and `sk_pool_…` subscription keys, which apps use for inference.",
  },
  {
    name: "Management keys",
    description: "`mk_…` keys for scripts and CI. Only a signed-in session may list, create or delete them, so a leaked `mk_` cannot mint successors.",
  },
  {
    name: "Billing keys (ModelSwitch)",
    description: "The same management keys in the shapes the ModelSwitch API documents, for clients written against it.",
  },
  {
    name: "Pools",
    description:
      'The "Unlimited" product: a pool serves some models and divides the UTC day into blocks with a number of seats. Reserve blocks for a 30-day period, paid from credit, then create `sk_pool_…` keys that work, unmetered, during those blocks. Operators create and change pools.',
  },
  {
    name: "Subscriptions",
    description: "Your pool subscriptions: their blocks and periods, auto-renewal from credit, and renewal in place (same ID, same keys).",
  },
  {
    name: "Webhooks",
    description:
      "Alerts by webhook, signed the Standard Webhooks way: a key's budget thresholds, a low balance, a subscription about to end. Each webhook has a delivery log and can be sent a test event.",
  },
  { name: "Billing", description: "Balance, spend, key counts, the credit ledger, and card top-ups through Stripe when the operator has set it up." },
  {
    name: "Usage",
    description:
      "What your keys did: totals per day, key or model (from daily rollups, equal to the ledger's usage debits), and the request log with filters and CSV export.",
  },
  {
    name: "Audit",
    description:
      "Who changed what, when and from where: one row per change (written in the same transaction as the change) and per sign-in. Secrets never appear in it.",
  },
  {
    name: "Models",
    description:
      "The model catalogue, which is also the price book: which models the gateway serves, which upstream serves each, and what it charges per million tokens. Operator endpoints, but for `GET /api/models`, the active models any user's keys can call.",
  },
  {
    name: "Upstreams",
    description:
      "The provider endpoints the gateway sends requests to, with their API keys encrypted at rest and never returned, and each one's health. Models name them in their `routes`. Operator endpoints.",
  },
  {
    name: "Admin",
    description:
      "Operator endpoints, authenticated by `ADMIN_API_TOKEN`, or by the session of a user listed in `KEYGATE_ADMIN_EMAILS`. Off when neither is set.",
  },
  { name: "Meta", description: "This document." },
] as const;

export type TagName = (typeof TAGS)[number]["name"];

export const operations: readonly OperationSpec[] = [
  ...Object.values(inference),
  ...Object.values(accounts),
  ...Object.values(keys),
  ...Object.values(pools),
  ...Object.values(subscriptions),
  ...Object.values(billing),
  ...Object.values(webhooks),
  ...Object.values(usage),
  ...Object.values(audit),
  ...Object.values(models),
  ...Object.values(upstreams),
  getOpenApiDocument,
];
