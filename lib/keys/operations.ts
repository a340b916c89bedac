import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import {
  apiKeyViewSchema,
  billingKeyListSchema,
  createCreditKeySchema,
  createdBillingKeySchema,
  createdCreditKeySchema,
  createdManagementKeySchema,
  createdProxyKeySchema,
  createdSubscriptionKeySchema,
  createManagementKeySchema,
  createProxyKeySchema,
  createSubscriptionKeySchema,
  DEFAULT_RPM,
  deletedBillingKeySchema,
  deletedSchema,
  keyListSchema,
  listKeysQuerySchema,
  managementKeyViewSchema,
  rotatedKeySchema,
  rotateKeySchema,
  updateKeySchema,
  updateManagementKeySchema,
  verifyKeyRequestSchema,
  verifyKeyResultSchema,
  type ApiKeyView,
  type ManagementKeyView,
} from "@/lib/keys/schemas";

/** Consumption keys (sk_…), management keys (mk_…), and the same management keys as ModelSwitch billing keys. */

/** What every delete of a key says: the key stops working from the next request on. */
const REVOKED_AT_ONCE = "The key is refused (401) from the next request on.";
/** What both management-key creates say about scopes. */
const SCOPES_ON_CREATE =
  "`scopes` says what the key may do (default: every scope); each operation a management key can call names the scope it needs, and a key without it gets 403 `insufficient_scope`. Scopes are set here, once: to change them, create another key.";
const deleted = { status: 200, description: "The key was deleted.", schema: deletedSchema, shape: "envelope" } as const;

// Example values only: these keys are made up and their checksums do not match.
const EXAMPLE_SK = "sk_live_4eC39HqLyjWDarjtT1zdp7dcExAmPL";
const EXAMPLE_MK = "mk_9fQ2rT7uWx3yZ1aB5cD8eF0gHiJkLm3ExAmPL";
const exampleKey: ApiKeyView = {
  id: "cm9x2k1q40001key0ci01",
  name: "ci-runner",
  keyPlan: "credits",
  keyType: "credit",
  keyPrefix: "sk_live_4eC39HqL",
  prefix: "sk_live_4eC39HqL",
  isActive: true,
  maxBudget: 25,
  spend: 3.217,
  budgetPeriod: "month",
  budgetResetsAt: "2026-12-01T00:00:00.000Z",
  rpmLimit: DEFAULT_RPM,
  tpmLimit: 100000,
  allowedModels: ["gpt-4o-mini", "claude-haiku"],
  expiresAt: "2099-01-31T00:00:00.000Z",
  subscriptionId: null,
  subscriptionStatus: null,
  subscriptionExpiresAt: null,
  createdAt: "2026-11-02T10:00:00.000Z",
  lastUsedAt: "2026-11-24T17:45:12.000Z",
};
const exampleManagementKey: ManagementKeyView = {
  id: "cm9x2k1q40002mgmt0dep",
  name: "deploy",
  keyPrefix: "mk_9fQ2rT7u",
  isActive: true,
  scopes: ["keys:read", "keys:write"],
  expiresAt: null,
  lastUsedAt: "2026-11-24T08:00:00.000Z",
  createdAt: "2026-11-03T12:00:00.000Z",
};
const keyId = { id: exampleKey.id };
const managementKeyId = { id: exampleManagementKey.id };

export const listKeys = defineOperation({
  id: "listKeys",
  method: "GET",
  path: "/api/keys",
  tag: "Consumption keys",
  summary: "List your consumption keys",
  description: "Credit and subscription keys, newest first. Lists carry `keyPrefix`, never the key. Without `limit`, every key is returned.",
  auth: "session-or-mk",
  scope: "keys:read",
  query: listKeysQuerySchema,
  // The envelope plus a page cursor beside `data`, which stays the plain array both APIs show.
  response: { status: 200, description: "The caller's keys.", schema: keyListSchema, shape: "as-is" },
  errors: { 404: "`invalid_cursor`: the cursor does not match one of your keys." },
  examples: { query: { limit: "20" }, response: { success: true, data: [exampleKey], nextCursor: null } },
});

export const createProxyKey = defineOperation({
  id: "createProxyKey",
  method: "POST",
  audit: { action: "key.create", targetType: "key" },
  path: "/api/keys",
  tag: "Consumption keys",
  summary: "Create a credit key (ModelSwitch shape)",
  description: `The ModelSwitch create: a credit key with the default limits (${DEFAULT_RPM} requests per minute, no budget cap), answered as \`{id, key}\`.`,
  auth: "session-or-mk",
  scope: "keys:write",
  body: createProxyKeySchema,
  response: { status: 201, description: "The key was created. `key` is shown only here.", schema: createdProxyKeySchema, shape: "as-is" },
  errors: { 402: "`insufficient_balance`: credit keys need a balance above zero. Top up first." },
  examples: { body: { name: "my-app", expires_at: "2099-01-31T00:00:00Z" }, response: { id: exampleKey.id, key: EXAMPLE_SK } },
});

export const createCreditKey = defineOperation({
  id: "createCreditKey",
  method: "POST",
  audit: { action: "key.create", targetType: "key" },
  path: "/api/keys/credit",
  tag: "Consumption keys",
  summary: "Create a credit key",
  description: "Usage is priced per model and deducted from your shared credit balance.",
  auth: "session-or-mk",
  scope: "keys:write",
  body: createCreditKeySchema,
  response: {
    status: 201,
    description: "The key object plus `apiKey`, the full key, shown only here.",
    schema: createdCreditKeySchema,
    shape: "envelope",
  },
  errors: {
    400: "`validation_error`: a field is invalid, e.g. `allowedModels` names a model not in the catalogue (`details` names each) or is `[]` (send null for every model).",
    402: "`insufficient_balance`: credit keys need a balance above zero. Top up first.",
  },
  examples: {
    body: {
      name: "ci-runner",
      maxBudget: 25,
      budgetPeriod: "month",
      rpm: DEFAULT_RPM,
      tpm: 100000,
      allowedModels: ["gpt-4o-mini", "claude-haiku"],
      expiresAt: "2099-01-31T00:00:00Z",
    },
    response: { ...exampleKey, spend: 0, lastUsedAt: null, apiKey: EXAMPLE_SK },
  },
});

export const createSubscriptionKey = defineOperation({
  id: "createSubscriptionKey",
  method: "POST",
  audit: { action: "key.create", targetType: "key" },
  path: "/api/keys/subscription",
  tag: "Consumption keys",
  summary: "Create a subscription (pool) key",
  description:
    "A key for a pool subscription: unlimited during your reserved time blocks, one concurrent request at a time, expiring with the subscription. The body may be omitted.",
  auth: "session-or-mk",
  scope: "keys:write",
  body: createSubscriptionKeySchema,
  response: {
    status: 201,
    description: "The key was created. `apiKey` is shown only here.",
    schema: createdSubscriptionKeySchema,
    shape: "envelope",
  },
  errors: { 409: "`no_active_subscription`: you have no active subscription (or not the one named)." },
  examples: {
    body: { name: "night-batch" },
    response: { id: "cm9x2k1q40003key0pool", apiKey: "sk_pool_8kLm2Nq4Rs6Tu8Vw0Xy2Za4Bc6De8FgExAmPL", isActive: true },
  },
});

export const verifyConsumptionKey = defineOperation({
  id: "verifyKey",
  method: "POST",
  audit: false,
  path: "/api/keys/verify",
  tag: "Consumption keys",
  summary: "Check a consumption key without spending it",
  description:
    "For an external gateway (nginx `auth_request`, Envoy `ext_authz`, LiteLLM): whether the key would be admitted now, why not, its owner, type and limits, and what remains. A bad, paused or unknown key is still a 200 with `valid: false` and its `code`: the question was answered. Served by the gateway's own handler, from memory for any key it has seen.",
  auth: "none",
  servedBy: "node",
  body: verifyKeyRequestSchema,
  response: { status: 200, description: "The verdict.", schema: verifyKeyResultSchema, shape: "envelope" },
  examples: {
    body: { key: EXAMPLE_SK },
    response: {
      valid: true,
      code: "valid",
      keyId: "cm9x2k1q40001key0ci01",
      keyType: "credit",
      ownerId: "cm9x2k1q40000usr0demo",
      limits: { rpm: 60, tpm: null, maxBudget: 25, expiresAt: null, allowedModels: ["gpt-4o-mini", "claude-haiku"] },
      remaining: { requests: 59, tokens: null, budget: 21.783, balance: 4.2 },
    },
  },
});

export const updateKey = defineOperation({
  id: "updateKey",
  method: "PUT",
  audit: { action: "key.update", targetType: "key" },
  path: "/api/keys/{id}",
  tag: "Consumption keys",
  summary: "Update a consumption key",
  description:
    "Send at least one field. Deactivating a key revokes it from the next request on, and a changed `allowedModels` holds from the next request on. `null` clears `maxBudget`, `budgetPeriod`, `tpm`, `allowedModels` (every model) or `expiresAt`. Setting or changing `budgetPeriod` starts a period at once, counting spend from the change; clearing it makes maxBudget a lifetime cap on the key's whole spend again. Subscription keys accept only `name` and `isActive`.",
  auth: "session-or-mk",
  scope: "keys:write",
  body: updateKeySchema,
  response: { status: 200, description: "The updated key.", schema: apiKeyViewSchema, shape: "envelope" },
  errors: {
    400: "`validation_error`: a field is invalid, e.g. `allowedModels` names a model not in the catalogue or is `[]` (send null for every model).",
    422: "`not_applicable`: a field other than name or isActive was sent for a subscription key.",
  },
  examples: { params: keyId, body: { isActive: false, tpm: null }, response: { ...exampleKey, isActive: false, tpmLimit: null } },
});

export const deleteKey = defineOperation({
  id: "deleteKey",
  method: "DELETE",
  audit: { action: "key.delete", targetType: "key" },
  path: "/api/keys/{id}",
  tag: "Consumption keys",
  summary: "Delete a consumption key",
  description: REVOKED_AT_ONCE,
  auth: "session-or-mk",
  scope: "keys:write",
  response: deleted,
  examples: { params: keyId, response: { deleted: true } },
});

/** What both rotations say about their Idempotency-Key header (the route reads it). */
const IDEMPOTENCY =
  "Send an `Idempotency-Key` header (1 to 255 printable ASCII characters, e.g. a UUID) to make a retry safe: the same key with the same request within 10 minutes answers the same response, the same new secret included (held encrypted, then erased), and never rotates again; parallel retries rotate once. The same key with another request (another key ID or body) is refused with 422.";
const IDEMPOTENCY_HEADER = {
  "Idempotency-Key":
    "Optional, 1 to 255 printable ASCII characters (e.g. a UUID): a retry with the same key and request within 10 minutes answers the same response, the same new secret included, and never rotates again.",
};
const ROTATION_ERRORS = {
  400: "`invalid_idempotency_key`: the `Idempotency-Key` header is empty, longer than 255 characters or not printable ASCII.",
  422: "`idempotency_key_reused`: this `Idempotency-Key` was used for another request in the last 10 minutes.",
} as const;
const exampleRotation = { gracePeriodSeconds: 3600 };

export const rotateKey = defineOperation({
  id: "rotateKey",
  method: "POST",
  // A retry answered from its Idempotency-Key changes nothing, and writes no row.
  audit: { action: "key.rotate", targetType: "key", onlyWhenChanged: true },
  path: "/api/keys/{id}/rotate",
  tag: "Consumption keys",
  summary: "Rotate a consumption key's secret",
  description: `A new secret for a credit or subscription key under the same ID: its name, limits, spend, allowlist, budget period and subscription are unchanged, and the budget keeps counting. The old secret keeps working until \`previousKeyExpiresAt\` (\`gracePeriodSeconds\` from now, at most 7 days), then gets 401 \`key_rotated\` on every instance; with 0 (the default) it is refused from the next request on. A second rotation ends the previous secret's grace at once: at most two secrets are ever valid. A paused key can be rotated (its new secret is paused too, until resumed); an expired one cannot. ${IDEMPOTENCY}`,
  auth: "session-or-mk",
  scope: "keys:write",
  requestHeaders: IDEMPOTENCY_HEADER,
  body: rotateKeySchema,
  response: { status: 200, description: "The new secret, shown only here.", schema: rotatedKeySchema, shape: "envelope" },
  errors: {
    ...ROTATION_ERRORS,
    409: "`key_expired`: the key has expired (move its `expiresAt` first); `rotation_conflict`: another rotation of this key happened at the same moment; `idempotency_answer_unreadable`: this `Idempotency-Key`'s rotation already happened, but its stored answer cannot be opened since the server's encryption key changed (send a new key).",
  },
  examples: {
    params: keyId,
    body: exampleRotation,
    response: { id: exampleKey.id, apiKey: EXAMPLE_SK, keyPrefix: EXAMPLE_SK.slice(0, 16), previousKeyExpiresAt: "2026-11-24T18:45:12.000Z" },
  },
});

export const rotateManagementKey = defineOperation({
  id: "rotateManagementKey",
  method: "POST",
  // A retry answered from its Idempotency-Key changes nothing, and writes no row.
  audit: { action: "management_key.rotate", targetType: "management_key", onlyWhenChanged: true },
  path: "/api/keys/management/{id}/rotate",
  tag: "Management keys",
  summary: "Rotate a management key's secret",
  description: `A new secret for a management key under the same ID and name. The old secret keeps working until \`previousKeyExpiresAt\` (\`gracePeriodSeconds\` from now, at most 7 days), then gets 401 \`key_rotated\`; with 0 (the default) it is refused from the next request on. At most two secrets are ever valid. Only a signed-in session may rotate a management key: a leaked \`mk_\` must not mint its own successor. ${IDEMPOTENCY}`,
  auth: "session",
  requestHeaders: IDEMPOTENCY_HEADER,
  body: rotateKeySchema,
  response: { status: 200, description: "The new secret, shown only here.", schema: rotatedKeySchema, shape: "envelope" },
  errors: {
    ...ROTATION_ERRORS,
    409: "`key_expired`: the management key has expired (create a new one); `rotation_conflict`: another rotation of this key happened at the same moment; `idempotency_answer_unreadable`: this `Idempotency-Key`'s rotation already happened, but its stored answer cannot be opened since the server's encryption key changed (send a new key).",
  },
  examples: {
    params: managementKeyId,
    body: exampleRotation,
    response: { id: exampleManagementKey.id, apiKey: EXAMPLE_MK, keyPrefix: exampleManagementKey.keyPrefix, previousKeyExpiresAt: "2026-11-24T09:00:00.000Z" },
  },
});

export const listManagementKeys = defineOperation({
  id: "listManagementKeys",
  method: "GET",
  path: "/api/keys/management",
  tag: "Management keys",
  summary: "List your management keys",
  auth: "session",
  response: { status: 200, description: "The caller's management keys, newest first.", schema: z.array(managementKeyViewSchema), shape: "envelope" },
  examples: { response: [exampleManagementKey] },
});

export const createManagementKey = defineOperation({
  id: "createManagementKey",
  method: "POST",
  audit: { action: "management_key.create", targetType: "management_key" },
  path: "/api/keys/management",
  tag: "Management keys",
  summary: "Create a management key",
  description: SCOPES_ON_CREATE,
  auth: "session",
  body: createManagementKeySchema,
  response: {
    status: 201,
    description: "The key was created. `apiKey` is shown only here.",
    schema: createdManagementKeySchema,
    shape: "envelope",
  },
  examples: {
    body: { name: "deploy", scopes: exampleManagementKey.scopes },
    response: {
      id: exampleManagementKey.id,
      name: "deploy",
      keyPrefix: exampleManagementKey.keyPrefix,
      scopes: exampleManagementKey.scopes,
      expiresAt: null,
      apiKey: EXAMPLE_MK,
    },
  },
});

export const updateManagementKey = defineOperation({
  id: "updateManagementKey",
  method: "PUT",
  audit: { action: "management_key.update", targetType: "management_key" },
  path: "/api/keys/management/{id}",
  tag: "Management keys",
  summary: "Rename, pause or resume a management key",
  description: "A paused key is refused (401) from its next request on, until it is resumed. Only a signed-in session may change management keys.",
  auth: "session",
  body: updateManagementKeySchema,
  response: { status: 200, description: "The updated management key.", schema: managementKeyViewSchema, shape: "envelope" },
  examples: { params: managementKeyId, body: { isActive: false }, response: { ...exampleManagementKey, isActive: false } },
});

export const deleteManagementKey = defineOperation({
  id: "deleteManagementKey",
  method: "DELETE",
  audit: { action: "management_key.delete", targetType: "management_key" },
  path: "/api/keys/management/{id}",
  tag: "Management keys",
  summary: "Delete a management key",
  description: REVOKED_AT_ONCE,
  auth: "session",
  response: deleted,
  examples: { params: managementKeyId, response: { deleted: true } },
});

export const listBillingKeys = defineOperation({
  id: "listBillingKeys",
  method: "GET",
  path: "/api/billing-keys",
  tag: "Billing keys (ModelSwitch)",
  summary: "List billing keys",
  description: "Your management keys, in the ModelSwitch shape.",
  auth: "session",
  response: { status: 200, description: "The caller's billing keys, newest first.", schema: billingKeyListSchema, shape: "as-is" },
  examples: {
    response: {
      keys: [
        {
          id: exampleManagementKey.id,
          name: "deploy",
          prefix: exampleManagementKey.keyPrefix,
          active: true,
          createdAt: exampleManagementKey.createdAt,
          expiresAt: null,
          scopes: exampleManagementKey.scopes,
        },
      ],
    },
  },
});

export const createBillingKey = defineOperation({
  id: "createBillingKey",
  method: "POST",
  audit: { action: "management_key.create", targetType: "management_key" },
  path: "/api/billing-keys",
  tag: "Billing keys (ModelSwitch)",
  summary: "Create a billing key",
  description: `Creates a management key. Only a signed-in session may, never another billing key. ${SCOPES_ON_CREATE}`,
  auth: "session",
  body: createManagementKeySchema,
  response: { status: 201, description: "The key was created. `key` is shown only here.", schema: createdBillingKeySchema, shape: "as-is" },
  examples: {
    body: { name: "billing", expires_at: "2099-01-31T00:00:00Z", scopes: ["billing:read", "usage:read"] },
    response: { id: exampleManagementKey.id, key: EXAMPLE_MK, prefix: exampleManagementKey.keyPrefix, scopes: ["billing:read", "usage:read"] },
  },
});

export const deleteBillingKey = defineOperation({
  id: "deleteBillingKey",
  method: "DELETE",
  audit: { action: "management_key.delete", targetType: "management_key" },
  path: "/api/billing-keys/{id}",
  tag: "Billing keys (ModelSwitch)",
  summary: "Delete a billing key",
  description: REVOKED_AT_ONCE,
  auth: "session",
  response: { status: 200, description: "The key was deleted.", schema: deletedBillingKeySchema, shape: "as-is" },
  examples: { params: managementKeyId, response: { status: "deleted" } },
});
