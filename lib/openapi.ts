import { z } from "zod";
import pkg from "@/package.json";
import { signInSchema, signUpSchema } from "@/lib/auth/schemas";
import type { PublicUser } from "@/lib/auth/users";
import { grantCreditsSchema } from "@/lib/billing/schemas";
import type { billingStatus } from "@/lib/billing/status";
import type { ErrorDetail } from "@/lib/http/errors";
import { MAX_BODY_BYTES } from "@/lib/http/request";
import type { RouteAuth } from "@/lib/http/route";
import type { ManagementKeyView } from "@/lib/keys/management";
import {
  createCreditKeySchema,
  createManagementKeySchema,
  createProxyKeySchema,
  createSubscriptionKeySchema,
  DEFAULT_RPM,
  listKeysQuerySchema,
  updateKeySchema,
} from "@/lib/keys/schemas";
import type { ApiKeyView } from "@/lib/keys/service";

/**
 * The OpenAPI 3.1 document for /api, generated from the zod schemas the route
 * handlers parse with, so the reference cannot describe a field the API does
 * not accept. Response schemas are written here in zod too; the type-level
 * checks below fail `tsc` when one stops matching the view type the services
 * return, and lib/openapi.test.ts validates real responses against them.
 */

// ---------------------------------------------------------------------------
// Response schemas

const isoDateTime = () => z.iso.datetime();
const usd = (description: string) => z.number().meta({ description });

export const errorDetailSchema = z.strictObject({
  path: z.string().optional().meta({ description: "The offending field, dotted, when the error is about one field." }),
  message: z.string(),
});

export const errorEnvelopeSchema = z.strictObject({
  success: z.literal(false),
  error: z.strictObject({
    code: z.string().meta({ description: "A stable snake_case code for programs, e.g. `validation_error`, `not_found`." }),
    message: z.string().meta({ description: "A sentence for people that says what to do next. Never contains a secret." }),
    details: z.array(errorDetailSchema).optional().meta({ description: "One entry per problem, for validation errors." }),
  }),
});

/** The native success envelope around `data`. */
function envelope<T extends z.ZodType>(data: T) {
  return z.strictObject({ success: z.literal(true), data });
}

export const apiKeyViewSchema = z.strictObject({
  id: z.string().meta({ description: "Opaque key ID." }),
  name: z.string(),
  keyPlan: z.enum(["pool", "credits"]).meta({ description: "`credits` for credit keys, `pool` for subscription keys." }),
  keyType: z.enum(["subscription", "credit"]),
  keyPrefix: z.string().meta({ description: "The start of the key, to recognise it by. The full key is never listed." }),
  prefix: z.string().meta({ description: "Same as keyPrefix (ModelSwitch spelling)." }),
  isActive: z.boolean(),
  maxBudget: z.number().nullable().meta({ description: "Spending cap in USD; null means no cap." }),
  spend: usd("USD this key has spent."),
  rpmLimit: z.number().int().nullable().meta({ description: "Requests per minute; null for subscription keys (unlimited)." }),
  tpmLimit: z.number().int().nullable().meta({ description: "Tokens per minute; null means unlimited." }),
  expiresAt: isoDateTime().nullable().meta({ description: "When the key stops working; null means never." }),
  subscriptionId: z.string().nullable(),
  subscriptionStatus: z.string().nullable(),
  subscriptionExpiresAt: isoDateTime().nullable(),
  createdAt: isoDateTime(),
  lastUsedAt: isoDateTime().nullable(),
});

const secret = (what: string) =>
  z.string().meta({ description: `The full ${what}. Shown only in this response: Keygate stores a hash, so it cannot be shown again.` });

export const createdCreditKeySchema = apiKeyViewSchema.extend({ apiKey: secret("key (`sk_live_…`)") });

export const managementKeyViewSchema = z.strictObject({
  id: z.string().meta({ description: "Opaque key ID." }),
  name: z.string(),
  keyPrefix: z.string().meta({ description: "The start of the key, to recognise it by." }),
  isActive: z.boolean(),
  expiresAt: isoDateTime().nullable(),
  lastUsedAt: isoDateTime().nullable(),
  createdAt: isoDateTime(),
});

export const createdManagementKeySchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  keyPrefix: z.string(),
  expiresAt: isoDateTime().nullable(),
  apiKey: secret("management key (`mk_…`)"),
});

const keyCountSchema = z.strictObject({ total: z.number().int(), active: z.number().int() });

export const billingStatusSchema = z.strictObject({
  currency: z.string().meta({ description: "Always `USD`." }),
  balance: usd("Credit balance in USD: top-ups and grants minus usage and subscription charges."),
  spendThisPeriod: usd("USD spent on usage and subscriptions in the current period."),
  period: z
    .strictObject({ start: isoDateTime(), end: isoDateTime() })
    .meta({ description: "The current billing period, a calendar month in UTC; end is exclusive." }),
  activeSubscriptions: z.array(z.unknown()).meta({ description: "Active pool subscriptions." }),
  keys: z.strictObject({ credit: keyCountSchema, subscription: keyCountSchema, management: keyCountSchema }),
});

export const userSchema = z.strictObject({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  createdAt: isoDateTime(),
});

export const sessionTokenSchema = z.strictObject({
  token: z.string().meta({ description: "The session JWT. Send it as `Authorization: Bearer <token>`." }),
  expiresAt: isoDateTime(),
});

export const creditGrantSchema = z.strictObject({
  email: z.string(),
  entryId: z.string().meta({ description: "The ledger entry of this grant." }),
  amountUsd: usd("The amount granted, in USD."),
  balanceUsd: usd("The account's balance after the grant, in USD."),
});

/** The second seed's (ModelSwitch) billing key, as GET /api/billing-keys lists it. */
export const billingKeySchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  active: z.boolean(),
  createdAt: isoDateTime(),
  expiresAt: isoDateTime().nullable(),
});

export const billingKeyListSchema = z.strictObject({ keys: z.array(billingKeySchema) });
export const createdBillingKeySchema = z.strictObject({ id: z.string(), key: secret("billing key (`mk_…`)"), prefix: z.string() });
export const deletedBillingKeySchema = z.strictObject({ status: z.literal("deleted") });
export const createdProxyKeySchema = z.strictObject({ id: z.string(), key: secret("key (`sk_live_…`)") });

export const keyListResponseSchema = z.strictObject({
  success: z.literal(true),
  data: z.array(apiKeyViewSchema),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: "Pass as `cursor` to get the next page; null on the last page (and whenever `limit` is not sent)." }),
});

export const createdSubscriptionKeySchema = z.strictObject({ id: z.string(), apiKey: secret("key (`sk_pool_…`)"), isActive: z.boolean() });
export const deletedResponseSchema = envelope(z.strictObject({ deleted: z.literal(true) }));

export const openApiDocumentSchema = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

// ---------------------------------------------------------------------------
// Compile-time drift checks: `tsc` fails when a response schema and the type
// the service returns disagree in any field, in either direction.

type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type Equal<A, B> =
  (<T>() => T extends Simplify<A> ? 1 : 2) extends <T>() => T extends Simplify<B> ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

export type ResponseSchemaChecks = [
  Expect<Equal<z.infer<typeof apiKeyViewSchema>, ApiKeyView>>,
  Expect<Equal<z.infer<typeof createdCreditKeySchema>, ApiKeyView & { apiKey: string }>>,
  Expect<Equal<z.infer<typeof managementKeyViewSchema>, ManagementKeyView>>,
  Expect<Equal<z.infer<typeof createdManagementKeySchema>, Pick<ManagementKeyView, "id" | "name" | "keyPrefix" | "expiresAt"> & { apiKey: string }>>,
  Expect<Equal<z.infer<typeof billingStatusSchema>, Awaited<ReturnType<typeof billingStatus>>>>,
  Expect<Equal<z.infer<typeof userSchema>, PublicUser>>,
  Expect<Equal<z.infer<typeof errorDetailSchema>, ErrorDetail>>,
  Expect<Equal<z.infer<typeof errorEnvelopeSchema>["error"], { code: string; message: string; details?: ErrorDetail[] }>>,
];

// ---------------------------------------------------------------------------
// Operations

export type HttpMethod = "get" | "post" | "put" | "delete";
export type ResponseShape = "native" | "modelswitch" | "raw";
type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 422 | 429;

/** What the reference says about one request field beyond what the schema says. */
interface FieldDoc {
  description: string;
  /** Extra JSON Schema keywords, e.g. a default the schema applies in a transform. */
  extra?: Record<string, unknown>;
}

export interface OperationDoc {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style: `/api/keys/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  /** `modelswitch`: the second seed's documented shape instead of the native envelope; `raw`: not an API object at all. */
  shape: ResponseShape;
  body?: { schema: z.ZodType; fields: Record<string, FieldDoc> };
  query?: { schema: z.ZodType; fields: Record<string, FieldDoc> };
  success: { status: number; description: string; schema: z.ZodType };
  /** Errors specific to this operation; those implied by auth, body and path are added. */
  errors?: Partial<Record<ErrorStatus, string>>;
}

const FUTURE_DATE = "An ISO 8601 date-time with an offset, e.g. `2027-01-31T00:00:00Z`; must be in the future.";
const alias = (of: string) => `Alias of \`${of}\` (the ModelSwitch spelling). Send one of the two; if both, they must agree.`;

const keyNameDoc: FieldDoc = { description: "A label for the key, e.g. the app or script that uses it. Surrounding spaces are trimmed." };
const expiresAtDoc: FieldDoc = { description: `When the key stops working. ${FUTURE_DATE} Omit for a key that never expires.` };
const emailDoc: FieldDoc = { description: "The account's email address; compared case-insensitively.", extra: { format: "email" } };

export const TAGS = [
  { name: "Accounts", description: "Sign up, and get a session token for scripts." },
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
  { name: "Billing", description: "Balance, spend and key counts." },
  { name: "Admin", description: "Operator endpoints, authenticated by `ADMIN_API_TOKEN`. Off when that variable is unset." },
  { name: "Meta", description: "This document." },
] as const;

export const operations: OperationDoc[] = [
  {
    operationId: "signUp",
    method: "post",
    path: "/api/auth/signup",
    tag: "Accounts",
    summary: "Create an account",
    description: "Rate-limited per client address.",
    auth: "none",
    shape: "native",
    body: {
      schema: signUpSchema,
      fields: {
        email: emailDoc,
        password: { description: "Stored only as a slow (argon2id) hash." },
        name: { description: "A display name." },
      },
    },
    success: { status: 201, description: "The account was created.", schema: envelope(userSchema) },
    errors: { 409: "`email_taken`: an account with this email already exists.", 429: "`rate_limited`: too many sign-ups from this address." },
  },
  {
    operationId: "createSessionToken",
    method: "post",
    path: "/api/auth/token",
    tag: "Accounts",
    summary: "Exchange email and password for a session token",
    description:
      "The token is the same session JWT the dashboard's cookie holds, and is accepted as a Bearer token everywhere a session is. Rate-limited per address and per account against password guessing.",
    auth: "none",
    shape: "native",
    body: { schema: signInSchema, fields: { email: emailDoc, password: { description: "The account's password." } } },
    success: { status: 200, description: "A session token.", schema: envelope(sessionTokenSchema) },
    errors: {
      401: "`invalid_credentials`: the email or password is incorrect.",
      429: "`rate_limited`: too many attempts from this address or for this account. See `Retry-After`.",
    },
  },
  {
    operationId: "listKeys",
    method: "get",
    path: "/api/keys",
    tag: "Consumption keys",
    summary: "List your consumption keys",
    description:
      "Credit and subscription keys, newest first. Lists carry `keyPrefix`, never the key. Without `limit`, every key is returned.",
    auth: "session-or-mk",
    shape: "native",
    query: {
      schema: listKeysQuerySchema,
      fields: {
        limit: { description: "Page size. Omit to get every key." },
        cursor: { description: "The `nextCursor` of the previous page." },
      },
    },
    success: { status: 200, description: "The caller's keys.", schema: keyListResponseSchema },
    errors: { 404: "`invalid_cursor`: the cursor does not match one of your keys." },
  },
  {
    operationId: "createProxyKey",
    method: "post",
    path: "/api/keys",
    tag: "Consumption keys",
    summary: "Create a credit key (ModelSwitch shape)",
    description: `The ModelSwitch create: a credit key with the default limits (${DEFAULT_RPM} requests per minute, no budget cap), answered as \`{id, key}\`.`,
    auth: "session-or-mk",
    shape: "modelswitch",
    body: { schema: createProxyKeySchema, fields: { name: keyNameDoc, expires_at: expiresAtDoc, expiresAt: { description: alias("expires_at") } } },
    success: { status: 201, description: "The key was created. `key` is shown only here.", schema: createdProxyKeySchema },
    errors: { 402: "`insufficient_balance`: credit keys need a balance above zero. Top up first." },
  },
  {
    operationId: "createCreditKey",
    method: "post",
    path: "/api/keys/credit",
    tag: "Consumption keys",
    summary: "Create a credit key",
    description: "Usage is priced per model and deducted from your shared credit balance.",
    auth: "session-or-mk",
    shape: "native",
    body: {
      schema: createCreditKeySchema,
      fields: {
        name: keyNameDoc,
        maxBudget: { description: "Spending cap for this key in USD, at most 6 decimal places. Omit for no cap." },
        rpm: { description: "Requests per minute allowed.", extra: { default: DEFAULT_RPM } },
        tpm: { description: "Tokens per minute allowed. Omit for no limit." },
        expiresAt: expiresAtDoc,
        expires_at: { description: alias("expiresAt") },
      },
    },
    success: {
      status: 201,
      description: "The key object plus `apiKey`, the full key, shown only here.",
      schema: envelope(createdCreditKeySchema),
    },
    errors: { 402: "`insufficient_balance`: credit keys need a balance above zero. Top up first." },
  },
  {
    operationId: "createSubscriptionKey",
    method: "post",
    path: "/api/keys/subscription",
    tag: "Consumption keys",
    summary: "Create a subscription (pool) key",
    description:
      "A key for a pool subscription: unlimited during your reserved time blocks, one concurrent request at a time, expiring with the subscription.",
    auth: "session-or-mk",
    shape: "native",
    body: {
      schema: createSubscriptionKeySchema,
      fields: {
        subscriptionId: { description: "The subscription the key is for. Omit to use your most recent active subscription." },
        name: { description: "A label for the key." },
      },
    },
    success: { status: 201, description: "The key was created. `apiKey` is shown only here.", schema: envelope(createdSubscriptionKeySchema) },
    errors: { 409: "`no_active_subscription`: you have no active subscription (or not the one named)." },
  },
  {
    operationId: "updateKey",
    method: "put",
    path: "/api/keys/{id}",
    tag: "Consumption keys",
    summary: "Update a consumption key",
    description:
      "Send at least one field. Deactivating a key revokes it at once. `null` clears `maxBudget`, `tpm` or `expiresAt`. Subscription keys accept only `name` and `isActive`.",
    auth: "session-or-mk",
    shape: "native",
    body: {
      schema: updateKeySchema,
      fields: {
        name: { description: "A new label." },
        isActive: { description: "false deactivates the key immediately; true reactivates it." },
        active: { description: alias("isActive") },
        maxBudget: { description: "Spending cap in USD; null removes the cap." },
        rpm: { description: "Requests per minute allowed." },
        tpm: { description: "Tokens per minute allowed; null removes the limit." },
        expiresAt: { description: `${FUTURE_DATE} null means never.` },
        expires_at: { description: alias("expiresAt") },
      },
    },
    success: { status: 200, description: "The updated key.", schema: envelope(apiKeyViewSchema) },
    errors: { 422: "`not_applicable`: a field other than name or isActive was sent for a subscription key." },
  },
  {
    operationId: "deleteKey",
    method: "delete",
    path: "/api/keys/{id}",
    tag: "Consumption keys",
    summary: "Delete a consumption key",
    description: "The key is refused (401) from the next request on.",
    auth: "session-or-mk",
    shape: "native",
    success: { status: 200, description: "The key was deleted.", schema: deletedResponseSchema },
  },
  {
    operationId: "listManagementKeys",
    method: "get",
    path: "/api/keys/management",
    tag: "Management keys",
    summary: "List your management keys",
    auth: "session",
    shape: "native",
    success: { status: 200, description: "The caller's management keys, newest first.", schema: envelope(z.array(managementKeyViewSchema)) },
  },
  {
    operationId: "createManagementKey",
    method: "post",
    path: "/api/keys/management",
    tag: "Management keys",
    summary: "Create a management key",
    auth: "session",
    shape: "native",
    body: {
      schema: createManagementKeySchema,
      fields: { name: keyNameDoc, expiresAt: expiresAtDoc, expires_at: { description: alias("expiresAt") } },
    },
    success: { status: 201, description: "The key was created. `apiKey` is shown only here.", schema: envelope(createdManagementKeySchema) },
  },
  {
    operationId: "deleteManagementKey",
    method: "delete",
    path: "/api/keys/management/{id}",
    tag: "Management keys",
    summary: "Delete a management key",
    description: "The key is refused (401) from the next request on.",
    auth: "session",
    shape: "native",
    success: { status: 200, description: "The key was deleted.", schema: deletedResponseSchema },
  },
  {
    operationId: "listBillingKeys",
    method: "get",
    path: "/api/billing-keys",
    tag: "Billing keys (ModelSwitch)",
    summary: "List billing keys",
    description: "Your management keys, in the ModelSwitch shape.",
    auth: "session",
    shape: "modelswitch",
    success: { status: 200, description: "The caller's billing keys, newest first.", schema: billingKeyListSchema },
  },
  {
    operationId: "createBillingKey",
    method: "post",
    path: "/api/billing-keys",
    tag: "Billing keys (ModelSwitch)",
    summary: "Create a billing key",
    description: "Creates a management key. Only a signed-in session may, never another billing key.",
    auth: "session",
    shape: "modelswitch",
    body: {
      schema: createManagementKeySchema,
      fields: { name: keyNameDoc, expires_at: expiresAtDoc, expiresAt: { description: alias("expires_at") } },
    },
    success: { status: 201, description: "The key was created. `key` is shown only here.", schema: createdBillingKeySchema },
  },
  {
    operationId: "deleteBillingKey",
    method: "delete",
    path: "/api/billing-keys/{id}",
    tag: "Billing keys (ModelSwitch)",
    summary: "Delete a billing key",
    description: "The key is refused (401) from the next request on.",
    auth: "session",
    shape: "modelswitch",
    success: { status: 200, description: "The key was deleted.", schema: deletedBillingKeySchema },
  },
  {
    operationId: "getBillingStatus",
    method: "get",
    path: "/api/billing/status",
    tag: "Billing",
    summary: "Balance, spend this period, subscriptions and key counts",
    auth: "session-or-mk",
    shape: "native",
    success: { status: 200, description: "The caller's billing status.", schema: envelope(billingStatusSchema) },
  },
  {
    operationId: "grantCredits",
    method: "post",
    path: "/api/admin/credits",
    tag: "Admin",
    summary: "Grant credit to an account",
    description: "Appends a grant to the account's ledger.",
    auth: "admin",
    shape: "native",
    body: {
      schema: grantCreditsSchema,
      fields: {
        email: { ...emailDoc, description: "The account to credit." },
        amountUsd: { description: "USD to add, at most 6 decimal places." },
        note: { description: "Why, for the ledger. Defaults to \"Operator grant\"." },
      },
    },
    success: { status: 201, description: "The grant and the new balance.", schema: envelope(creditGrantSchema) },
    errors: { 404: "`not_found`: no account uses this email." },
  },
  {
    operationId: "getOpenApiDocument",
    method: "get",
    path: "/api/openapi.json",
    tag: "Meta",
    summary: "This OpenAPI document",
    description: "Rendered for people at /docs.",
    auth: "none",
    shape: "raw",
    success: { status: 200, description: "The OpenAPI 3.1 document.", schema: openApiDocumentSchema },
  },
];

// ---------------------------------------------------------------------------
// The document

type JsonSchema = z.core.JSONSchema.JSONSchema;

interface ParameterObject {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: { "application/json": { schema: JsonSchema } };
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Array<Record<string, string[]>>;
  parameters?: ParameterObject[];
  requestBody?: { required: boolean; content: { "application/json": { schema: JsonSchema } } };
  responses: Record<string, ResponseObject>;
  /** Which of the route wrapper's auth modes the handler uses. */
  "x-keygate-auth": RouteAuth;
  /** `native` for the {success, data} envelope, `modelswitch` for the ModelSwitch API's documented shape. */
  "x-keygate-shape": ResponseShape;
}

type SecurityScheme =
  | { type: "http"; scheme: "bearer"; bearerFormat?: string; description: string }
  | { type: "apiKey"; in: "cookie"; name: string; description: string };

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string; description: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<HttpMethod, OperationObject>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<SecuritySchemeName, SecurityScheme>;
  };
}

type SecuritySchemeName = "sessionCookie" | "sessionToken" | "managementKey" | "adminToken";

const SECURITY_SCHEMES: Record<SecuritySchemeName, SecurityScheme> = {
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "next-auth.session-token",
    description:
      "The dashboard's NextAuth session cookie (`__Secure-next-auth.session-token` over HTTPS). Used only when no Authorization header is sent. Changes authenticated by cookie must come from Keygate's own pages (Origin / Sec-Fetch-Site check).",
  },
  sessionToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The session token from `POST /api/auth/token`: the same JWT the cookie holds, sent as `Authorization: Bearer <token>`.",
  },
  managementKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "mk_…",
    description:
      "A management key, `Authorization: Bearer mk_…`. Acts as its owner on the management API; it cannot be used for inference, and cannot list, create or delete management keys.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description: "The operator's `ADMIN_API_TOKEN`, `Authorization: Bearer <token>`. The admin API is off when it is unset.",
  },
};

const SECURITY: Record<RouteAuth, Array<Record<string, string[]>>> = {
  none: [],
  session: [{ sessionCookie: [] }, { sessionToken: [] }],
  "session-or-mk": [{ sessionCookie: [] }, { sessionToken: [] }, { managementKey: [] }],
  admin: [{ adminToken: [] }],
};

export const AUTH_LABELS: Record<RouteAuth, string> = {
  none: "None",
  session: "Signed-in session only (cookie or session token)",
  "session-or-mk": "Session (cookie or session token) or management key",
  admin: "Admin token",
};

const DESCRIPTION = [
  "Keygate manages API keys for LLM inference: consumption keys (`sk_…`) that apps use for inference, and management keys (`mk_…`) that scripts use for this API.",
  "Authentication: with an `Authorization` header, that header is the only credential looked at. `Bearer mk_…` is a management key; `Bearer sk_…` is refused with 403, because consumption keys are for inference only; any other Bearer token is a session token from `POST /api/auth/token`. Without the header, the NextAuth session cookie of the dashboard is used. Sign-in for the dashboard goes through NextAuth's own `/api/auth/*` routes, which are not part of this API. Missing or bad credentials get 401 with `WWW-Authenticate: Bearer`.",
  "Responses: success is `{\"success\": true, \"data\": …}`; an error is `{\"success\": false, \"error\": {\"code\", \"message\", \"details\"?}}` with an honest HTTP status (500 only for bugs, whose cause is logged and never sent). The ModelSwitch-compatible endpoints (`GET/POST /api/billing-keys`, `DELETE /api/billing-keys/{id}`, `POST /api/keys`) answer in that API's documented shapes instead, and their errors still use the envelope.",
  `Requests: bodies are JSON objects of at most ${MAX_BODY_BYTES / 1024} KB. Unknown fields are refused with 400. Where the two APIs Keygate follows spell a field differently, both spellings are accepted (\`isActive\`/\`active\`, \`expiresAt\`/\`expires_at\`). IDs are opaque strings; another account's ID answers 404, exactly like a missing one.`,
].join("\n\n");

/** Noise the generator adds that says nothing a reader needs. */
function tidy({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

function withoutDialect(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}

/** Request bodies and queries are converted as the client sends them: before any transform. */
function inputSchema(schema: z.ZodType, fields: Record<string, FieldDoc>, where: string): JsonSchema {
  const json = withoutDialect(z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", override: tidy }));
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of Object.keys(properties)) {
    if (!fields[name]) throw new Error(`openapi: ${where} accepts '${name}' but the reference does not describe it`);
  }
  for (const [name, doc] of Object.entries(fields)) {
    if (!properties[name]) throw new Error(`openapi: ${where} describes '${name}', which the schema does not accept`);
    properties[name] = { ...properties[name], description: doc.description, ...doc.extra };
  }
  return json;
}

const COMPONENT_NAMES: Array<[z.ZodType, string, string]> = [
  [errorEnvelopeSchema, "Error", "The native error envelope."],
  [apiKeyViewSchema, "ApiKey", "A consumption key. The key itself is never listed."],
  [createdCreditKeySchema, "CreatedCreditKey", "A new credit key, with the full key this once."],
  [managementKeyViewSchema, "ManagementKey", "A management key. The key itself is never listed."],
  [createdManagementKeySchema, "CreatedManagementKey", "A new management key, with the full key this once."],
  [billingKeySchema, "BillingKey", "A management key in the ModelSwitch billing-key shape."],
  [billingStatusSchema, "BillingStatus", "The caller's balance, spend and key counts."],
  [userSchema, "User", "An account."],
];

function ucFirst(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function buildDocument(): OpenApiDocument {
  const registry = z.registry<{ id: string; description?: string }>();
  for (const [schema, id, description] of COMPONENT_NAMES) registry.add(schema, { id, description });
  for (const op of operations) {
    if (!registry.has(op.success.schema)) registry.add(op.success.schema, { id: `${ucFirst(op.operationId)}Response` });
  }
  const ref = (schema: z.ZodType): JsonSchema => ({ $ref: `#/components/schemas/${registry.get(schema)!.id}` });
  const converted = z.toJSONSchema(registry, { target: "draft-2020-12", uri: (id) => `#/components/schemas/${id}`, override: tidy });
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) schemas[id] = withoutDialect(schema);

  const paths: OpenApiDocument["paths"] = {};
  for (const op of operations) {
    const where = `${op.method.toUpperCase()} ${op.path}`;
    const parameters: ParameterObject[] = [];
    for (const [, name] of op.path.matchAll(/\{(\w+)\}/g)) {
      parameters.push({
        name,
        in: "path",
        required: true,
        description: "Opaque ID.",
        schema: { type: "string", maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" },
      });
    }
    if (op.query) {
      const query = inputSchema(op.query.schema, op.query.fields, `${where} query`);
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: "query", required: query.required?.includes(name) ?? false, description, schema: rest });
      }
    }

    const responses: Record<string, ResponseObject> = {
      [op.success.status]: { description: op.success.description, content: { "application/json": { schema: ref(op.success.schema) } } },
    };
    for (const [status, text] of Object.entries(errorResponses(op)).sort(([a], [b]) => Number(a) - Number(b))) {
      const response: ResponseObject = { description: text, content: { "application/json": { schema: ref(errorEnvelopeSchema) } } };
      if (status === "401") response.headers = { "WWW-Authenticate": { description: "`Bearer`", schema: { type: "string" } } };
      if (status === "429") response.headers = { "Retry-After": { description: "Seconds until you may try again.", schema: { type: "integer" } } };
      responses[status] = response;
    }

    let requestBody: OperationObject["requestBody"];
    if (op.body) {
      const schema = inputSchema(op.body.schema, op.body.fields, `${where} body`);
      requestBody = { required: (schema.required?.length ?? 0) > 0, content: { "application/json": { schema } } };
    }

    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      security: SECURITY[op.auth],
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
      "x-keygate-auth": op.auth,
      "x-keygate-shape": op.shape,
    };
  }

  return {
    openapi: "3.1.0",
    info: { title: "Keygate API", version: pkg.version, description: DESCRIPTION },
    servers: [{ url: "/", description: "This Keygate instance" }],
    tags: TAGS.map((t) => ({ ...t })),
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}

/** The errors an operation can answer, from what the route wrapper does plus the operation's own. */
function errorResponses(op: OperationDoc): Partial<Record<ErrorStatus, string>> {
  const out: Partial<Record<ErrorStatus, string[]>> = {};
  const add = (status: ErrorStatus, text: string) => (out[status] ??= []).push(text);
  const mutation = op.method !== "get";

  if (op.body) {
    add(400, "`validation_error`: a field is missing, malformed or unknown (see `details`); `invalid_json`: the body is not JSON.");
    add(413, `\`payload_too_large\`: the body is over ${MAX_BODY_BYTES / 1024} KB.`);
  }
  if (op.query) add(400, "`validation_error`: a query parameter is malformed.");
  if (op.auth === "session" || op.auth === "session-or-mk") {
    add(401, "No credentials, or an invalid, expired, deactivated or deleted session token or key.");
    add(403, "`consumption_key_not_allowed`: an `sk_` key was sent; consumption keys are for inference only.");
    if (op.auth === "session") add(403, "`management_key_not_allowed`: management keys cannot manage management keys; use a session.");
    if (mutation) add(403, "`cross_site_request`: a cookie-authenticated change from another site.");
  }
  if (op.auth === "admin") {
    add(401, "The admin token is missing or wrong.");
    add(404, "`admin_disabled`: `ADMIN_API_TOKEN` is not set on the server.");
  }
  if (op.path.includes("{id}")) add(404, "`not_found`: no such key in your account (another account's key is not found either).");
  for (const [status, text] of Object.entries(op.errors ?? {})) add(Number(status) as ErrorStatus, text);

  return Object.fromEntries(Object.entries(out).map(([status, texts]) => [status, texts.join(" ")]));
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  return (cached ??= buildDocument());
}

/** The zod schema a documented response of this operation is validated with (used by the tests). */
export function responseSchema(method: HttpMethod, path: string, status: number): z.ZodType | undefined {
  const op = operations.find((o) => o.method === method && o.path === path);
  if (!op) return undefined;
  if (status === op.success.status) return op.success.schema;
  return String(status) in openApiDocument().paths[op.path]![op.method]!.responses ? errorEnvelopeSchema : undefined;
}
