import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";
import { knownScopes, SCOPES, scopeSchema } from "@/lib/keys/scopes";
import { BUDGET_PERIODS } from "@/lib/limits/periods";
import { SUBSCRIPTION_STATUSES } from "@/lib/subscriptions/schemas";

/**
 * The key endpoints' request and response schemas, shared by the route
 * handlers, the dashboard's forms and the OpenAPI document. View types are
 * `z.infer` of these schemas, so the services, the client and the reference
 * cannot disagree. Both APIs' spellings are accepted where their endpoints
 * overlap (isActive/active, expiresAt/expires_at; see the API
 * compatibility table in docs/api.md); unknown fields are refused, because silently
 * accepting them invites mass assignment.
 */

export const DEFAULT_RPM = 60;

// The dashboard imports schemas only (eslint.config.mjs), so the scope list reaches it from here.
export { hasAllScopes, SCOPE_DESCRIPTIONS, SCOPE_GROUPS, SCOPES, type Scope } from "@/lib/keys/scopes";

export const keyNameSchema = z
  .string({ error: "name must be a string" })
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters")
  .meta({ description: "A label for the key, e.g. the app or script that uses it. Surrounding spaces are trimmed." });

const futureDateTime = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z" })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), { message: "must be in the future" });

const FUTURE_DATE = "An ISO 8601 date-time with an offset, e.g. `2027-01-31T00:00:00Z`; must be in the future.";
const expiresAtField = futureDateTime.meta({ description: `When the key stops working. ${FUTURE_DATE} Omit for a key that never expires.` });
const alias = (of: string) => ({ description: `Alias of \`${of}\` (the ModelSwitch spelling). Send one of the two; if both, they must agree.` });

const rpmSchema = z
  .number({ error: "rpm must be a whole number of requests per minute" })
  .int("rpm must be a whole number")
  .min(1, "rpm must be at least 1")
  .max(100_000, "rpm must be at most 100000")
  .meta({ description: "Requests per minute allowed, in any rolling 60 seconds." });

const tpmSchema = z
  .number({ error: "tpm must be a whole number of tokens per minute" })
  .int("tpm must be a whole number")
  .min(1, "tpm must be at least 1")
  .max(1_000_000_000, "tpm must be at most 1000000000")
  .meta({ description: "Tokens per minute allowed. Omit (or null, on update) for no limit." });

const maxBudgetSchema = usdAmount("maxBudget").meta({
  description: "Spending cap for this key in USD, at most 6 decimal places. Omit (or null, on update) for no cap.",
});

export const MAX_ALLOWED_MODELS = 100;

/**
 * A credit key's model allowlist. Its shape is checked here; that each name
 * is a model in the catalogue is checked by the key service, which reads it.
 * `[]` would be a key that can call nothing: refused, so "every model" has
 * exactly one spelling (null).
 */
const allowedModelsSchema = z
  .array(
    z
      .string({ error: "allowedModels must be an array of model names (strings)" })
      .trim()
      .min(1, "allowedModels must not contain an empty name")
      .max(200, "a model name is at most 200 characters"),
    {
      error: "allowedModels must be an array of model names, or null for every model",
    },
  )
  .min(1, "allowedModels must not be empty: send null for every model, or name at least one model")
  .max(MAX_ALLOWED_MODELS, `allowedModels may name at most ${MAX_ALLOWED_MODELS} models`)
  .transform((names) => [...new Set(names)])
  .nullable()
  .meta({
    description: `The models this key may use (catalogue names, 1 to ${MAX_ALLOWED_MODELS}); any other model gets 403 \`model_not_allowed\`, and GET /v1/models lists only these. null (the default) allows every model. Credit keys only.`,
  });

const budgetPeriodSchema = z.enum(BUDGET_PERIODS, { error: "budgetPeriod must be one of day, week, month, or null (a lifetime budget)" }).nullable().meta({
  description:
    "Makes maxBudget a budget per calendar period in UTC: `day` (from midnight), `week` (from Monday 00:00) or `month` (from the 1st, 00:00); `spend` is then the current period's. null (or omitted on create): maxBudget caps the key's lifetime spend. The first period after setting or changing it counts from the change.",
});

/** Accepts either spelling of one field; refuses both at once when they disagree. */
function pickAlias<T>(ctx: z.RefinementCtx, a: { name: string; value: T | undefined }, b: { name: string; value: T | undefined }): T | undefined {
  if (a.value !== undefined && b.value !== undefined) {
    const same = a.value instanceof Date && b.value instanceof Date ? a.value.getTime() === b.value.getTime() : a.value === b.value;
    if (!same) {
      ctx.addIssue({ code: "custom", path: [b.name], message: `${a.name} and ${b.name} are the same field; send one of them` });
    }
  }
  // Not `??`: an explicit null (clear the expiry) must survive the alias.
  return a.value !== undefined ? a.value : b.value;
}

export const createCreditKeySchema = z
  .strictObject({
    name: keyNameSchema,
    maxBudget: maxBudgetSchema.optional(),
    budgetPeriod: budgetPeriodSchema.optional(),
    rpm: rpmSchema.optional().meta({ default: DEFAULT_RPM }),
    tpm: tpmSchema.optional(),
    allowedModels: allowedModelsSchema.optional(),
    expiresAt: expiresAtField.optional(),
    expires_at: futureDateTime.optional().meta(alias("expiresAt")),
  })
  .transform((v, ctx) => ({
    name: v.name,
    maxBudget: v.maxBudget,
    budgetPeriod: v.budgetPeriod ?? null,
    rpm: v.rpm ?? DEFAULT_RPM,
    tpm: v.tpm,
    allowedModels: v.allowedModels ?? null,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
  }));

/** POST /api/keys, the ModelSwitch create. */
export const createProxyKeySchema = z
  .strictObject({
    name: keyNameSchema,
    expires_at: expiresAtField.optional(),
    expiresAt: futureDateTime.optional().meta(alias("expires_at")),
  })
  .transform((v, ctx) => ({
    name: v.name,
    maxBudget: undefined,
    budgetPeriod: null,
    rpm: DEFAULT_RPM,
    tpm: undefined,
    allowedModels: null,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
  }));

export const createSubscriptionKeySchema = z.strictObject({
  subscriptionId: z
    .string({ error: "subscriptionId must be a string" })
    .min(1)
    .max(64)
    .optional()
    .meta({ description: "The subscription the key is for. Omit to use your most recent active subscription." }),
  name: keyNameSchema.optional(),
});

export const updateKeySchema = z
  .strictObject({
    name: keyNameSchema.optional(),
    isActive: z
      .boolean({ error: "isActive must be true or false" })
      .optional()
      .meta({ description: "false deactivates the key from the next request on; true reactivates it." }),
    active: z.boolean({ error: "active must be true or false" }).optional().meta(alias("isActive")),
    maxBudget: maxBudgetSchema.nullable().optional().meta({ description: "Spending cap for this key in USD; null removes the cap." }),
    budgetPeriod: budgetPeriodSchema.optional(),
    rpm: rpmSchema.optional(),
    tpm: tpmSchema.nullable().optional().meta({ description: "Tokens per minute allowed; null removes the limit." }),
    allowedModels: allowedModelsSchema.optional(),
    expiresAt: futureDateTime
      .nullable()
      .optional()
      .meta({ description: `When the key stops working. ${FUTURE_DATE} null means never.` }),
    expires_at: futureDateTime.nullable().optional().meta(alias("expiresAt")),
  })
  .transform((v, ctx) => {
    const patch = {
      name: v.name,
      isActive: pickAlias(ctx, { name: "isActive", value: v.isActive }, { name: "active", value: v.active }),
      maxBudget: v.maxBudget,
      budgetPeriod: v.budgetPeriod,
      rpm: v.rpm,
      tpm: v.tpm,
      allowedModels: v.allowedModels,
      expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
    };
    if (Object.values(patch).every((x) => x === undefined)) {
      ctx.addIssue({
        code: "custom",
        message:
          "Nothing to update: send at least one of name, isActive (or active), maxBudget, budgetPeriod, rpm, tpm, allowedModels, expiresAt (or expires_at)",
      });
    }
    return patch;
  });

/** A management key's scopes: at least one, each from SCOPES; repeats are kept once, in SCOPES order. */
export const scopesSchema = z
  .array(scopeSchema, { error: 'scopes must be an array of scope names, e.g. ["keys:read"]' })
  .min(1, `A management key needs at least one scope: send some of ${SCOPES.join(", ")}, or omit scopes for all of them`)
  .transform((given) => knownScopes(given))
  .meta({
    description: `What the key may do: some of ${SCOPES.map((s) => `\`${s}\``).join(", ")}. Omit for every scope. Set at creation; it cannot be changed later.`,
    example: ["keys:read", "usage:read"],
  });

export const createManagementKeySchema = z
  .strictObject({
    name: keyNameSchema,
    expiresAt: expiresAtField.optional(),
    expires_at: futureDateTime.optional().meta(alias("expiresAt")),
    scopes: scopesSchema.optional(),
  })
  .transform((v, ctx) => ({
    name: v.name,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
    scopes: v.scopes ?? [...SCOPES],
  }));

/** PUT /api/keys/management/:id: rename or pause a management key. */
export const updateManagementKeySchema = z
  .strictObject({
    name: keyNameSchema.optional(),
    isActive: z
      .boolean({ error: "isActive must be true or false" })
      .optional()
      .meta({ description: "false pauses the key: it gets 401 from its next request on; true resumes it." }),
    active: z.boolean({ error: "active must be true or false" }).optional().meta(alias("isActive")),
  })
  .transform((v, ctx) => {
    const patch = { name: v.name, isActive: pickAlias(ctx, { name: "isActive", value: v.isActive }, { name: "active", value: v.active }) };
    if (patch.name === undefined && patch.isActive === undefined) {
      ctx.addIssue({ code: "custom", message: "Nothing to update: send name, isActive (or active), or both" });
    }
    return patch;
  });

/** The longest grace period a rotation allows: 7 days. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;

/** POST /api/keys/:id/rotate and POST /api/keys/management/:id/rotate. The body may be omitted. */
export const rotateKeySchema = z.strictObject({
  gracePeriodSeconds: z
    .number({ error: "gracePeriodSeconds must be a whole number of seconds" })
    .int("gracePeriodSeconds must be a whole number of seconds")
    .min(0, "gracePeriodSeconds must be at least 0")
    .max(MAX_GRACE_PERIOD_SECONDS, `gracePeriodSeconds must be at most ${MAX_GRACE_PERIOD_SECONDS} (7 days)`)
    .default(0)
    .meta({
      description:
        "How long the old secret keeps working beside the new one, in seconds (0 to 604800, 7 days). 0 (the default): the old secret is refused from the next request on.",
    }),
});

/** A whole number in a query string, written plainly: `10`, never `0x10`, `1e1` or ` 10 `. */
export function queryInteger(name: string, min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,9}$/, `${name} must be a whole number written in digits, e.g. ${name}=20`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));
}

export const listKeysQuerySchema = z.object({
  limit: queryInteger("limit", 1, 100).optional().meta({ description: "Page size, 1 to 100. Omit to get every key." }),
  cursor: z.string().max(64, "cursor is not valid").optional().meta({ description: "The `nextCursor` of the previous page." }),
});

// ---------------------------------------------------------------------------
// Responses

const isoDateTime = () => z.iso.datetime();
const secret = (what: string) =>
  z.string().meta({ description: `The full ${what}. Shown only in this response: Keygate stores a hash, so it cannot be shown again.` });

export const apiKeyViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "Opaque key ID." }),
    name: z.string(),
    keyPlan: z.enum(["pool", "credits"]).meta({ description: "`credits` for credit keys, `pool` for subscription keys." }),
    keyType: z.enum(["subscription", "credit"]),
    keyPrefix: z.string().meta({ description: "The start of the key, to recognise it by. The full key is never listed." }),
    prefix: z.string().meta({ description: "Same as keyPrefix (ModelSwitch spelling)." }),
    isActive: z.boolean(),
    maxBudget: z.number().nullable().meta({ description: "Spending cap in USD (per period with a budgetPeriod); null means no cap." }),
    spend: z.number().meta({ description: "USD this key has spent: in its current budget period with a budgetPeriod, else in its lifetime." }),
    budgetPeriod: z
      .enum(BUDGET_PERIODS)
      .nullable()
      .meta({ description: "`day`, `week` or `month` (calendar periods in UTC): maxBudget and spend are per period. null: a lifetime budget." }),
    budgetResetsAt: isoDateTime()
      .nullable()
      .meta({ description: "When the current budget period ends and spend starts again from zero; null without a budgetPeriod." }),
    rpmLimit: z.number().int().nullable().meta({ description: "Requests per minute; null for subscription keys (unlimited)." }),
    tpmLimit: z.number().int().nullable().meta({ description: "Tokens per minute; null means unlimited." }),
    allowedModels: z
      .array(z.string())
      .nullable()
      .meta({ description: "The models this key may use; null means every model (always null for subscription keys: their pool decides)." }),
    expiresAt: isoDateTime().nullable().meta({ description: "When the key stops working; null means never." }),
    subscriptionId: z.string().nullable().meta({ description: "The subscription of a subscription key; null for credit keys." }),
    subscriptionStatus: z
      .enum(SUBSCRIPTION_STATUSES)
      .nullable()
      .meta({ description: "Its subscription's status (`expired` as soon as the period has ended); null for credit keys." }),
    subscriptionExpiresAt: isoDateTime()
      .nullable()
      .meta({ description: "Its subscription's period end, when the key stops working unless the subscription is renewed; null for credit keys." }),
    createdAt: isoDateTime(),
    lastUsedAt: isoDateTime().nullable(),
  })
  .meta({ id: "ApiKey", description: "A consumption key. The key itself is never listed." });

export const createdCreditKeySchema = apiKeyViewSchema
  .extend({ apiKey: secret("key (`sk_live_…`)") })
  .meta({ id: "CreatedCreditKey", description: "A new credit key, with the full key this once." });

export const keyListSchema = z.strictObject({
  success: z.literal(true),
  data: z.array(apiKeyViewSchema),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` to get the next page; null on the last page (and whenever `limit` is not sent)." }),
});

export const createdProxyKeySchema = z.strictObject({ id: z.string(), key: secret("key (`sk_live_…`)") });
export const createdSubscriptionKeySchema = z.strictObject({ id: z.string(), apiKey: secret("key (`sk_pool_…`)"), isActive: z.boolean() });
export const deletedSchema = z.strictObject({ deleted: z.literal(true) });

const scopesView = z.array(z.enum(SCOPES)).meta({ description: "What the key may do (see the reference's introduction); fixed at creation." });

export const managementKeyViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "Opaque key ID." }),
    name: z.string(),
    keyPrefix: z.string().meta({ description: "The start of the key, to recognise it by." }),
    isActive: z.boolean(),
    scopes: scopesView,
    expiresAt: isoDateTime().nullable(),
    lastUsedAt: isoDateTime().nullable(),
    createdAt: isoDateTime(),
  })
  .meta({ id: "ManagementKey", description: "A management key. The key itself is never listed." });

export const createdManagementKeySchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    keyPrefix: z.string(),
    scopes: scopesView,
    expiresAt: isoDateTime().nullable(),
    apiKey: secret("management key (`mk_…`)"),
  })
  .meta({ id: "CreatedManagementKey", description: "A new management key, with the full key this once." });

/** A management key in the ModelSwitch billing-key shape. */
export const billingKeySchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    active: z.boolean(),
    createdAt: isoDateTime(),
    expiresAt: isoDateTime().nullable(),
    scopes: scopesView,
  })
  .meta({ id: "BillingKey", description: "A management key in the ModelSwitch billing-key shape." });

export const rotatedKeySchema = z
  .strictObject({
    id: z.string().meta({ description: "The key's ID, unchanged: its name, limits, spend and history stay with it." }),
    apiKey: secret("new secret (`sk_live_…`, `sk_pool_…` or `mk_…`)"),
    keyPrefix: z.string().meta({ description: "The new secret's prefix, as the key lists now show it." }),
    previousKeyExpiresAt: isoDateTime()
      .nullable()
      .meta({ description: "When the old secret stops working (401); null when the grace period was 0 and it already has." }),
  })
  .meta({ id: "RotatedKey", description: "A key's new secret, shown this once." });

export const billingKeyListSchema = z.strictObject({ keys: z.array(billingKeySchema) });
export const createdBillingKeySchema = z.strictObject({ id: z.string(), key: secret("billing key (`mk_…`)"), prefix: z.string(), scopes: scopesView });
export const deletedBillingKeySchema = z.strictObject({ status: z.literal("deleted") });

export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;
export type ManagementKeyView = z.infer<typeof managementKeyViewSchema>;
export type BillingKeyView = z.infer<typeof billingKeySchema>;

export type CreateCreditKeyInput = z.output<typeof createCreditKeySchema>;
export type UpdateKeyInput = z.output<typeof updateKeySchema>;
export type CreateSubscriptionKeyInput = z.output<typeof createSubscriptionKeySchema>;
export type CreateManagementKeyInput = z.output<typeof createManagementKeySchema>;
export type UpdateManagementKeyInput = z.output<typeof updateManagementKeySchema>;
export type RotateKeyInput = z.output<typeof rotateKeySchema>;
export type RotatedKey = z.infer<typeof rotatedKeySchema>;

export const verifyKeyRequestSchema = z.strictObject({
  // Any string is a question with an answer (a 200 with valid:false and its code), however unlike a key it is; only the body's size is bounded (16 KB).
  key: z.string({ error: "key must be a string: the consumption key to check" }).meta({
    description:
      "The consumption key to check (`sk_live_…` or `sk_pool_…`). Any string gets an answer; one that is not a key is `valid: false` with `malformed_key`.",
  }),
});

export const VERIFY_CODES = [
  "valid",
  "malformed_key",
  "unknown_key",
  "key_inactive",
  "key_expired",
  "key_rotated",
  "not_a_consumption_key",
  "insufficient_balance",
  "budget_exceeded",
  "outside_reserved_block",
] as const;

export const verifyKeyResultSchema = z
  .strictObject({
    valid: z.boolean().meta({ description: "Whether the gateway would admit a request with this key now (before its rate limits)." }),
    code: z.enum(VERIFY_CODES).meta({ description: "`valid`, or why not." }),
    keyId: z.string().nullable(),
    keyType: z.enum(["credit", "subscription"]).nullable(),
    ownerId: z.string().nullable(),
    limits: z
      .strictObject({
        rpm: z.number().int().nullable(),
        tpm: z.number().int().nullable(),
        maxBudget: z.number().nullable(),
        expiresAt: z.iso.datetime().nullable(),
        allowedModels: z.array(z.string()).nullable().meta({ description: "The models the key may use; null: every model (a subscription key: its pool's)." }),
      })
      .nullable(),
    remaining: z
      .strictObject({
        requests: z.number().int().nullable().meta({ description: "Requests left in the current rolling minute (null: no rpm limit)." }),
        tokens: z.number().int().nullable().meta({ description: "Tokens left in the current rolling minute (null: no tpm limit)." }),
        budget: z.number().nullable().meta({ description: "USD left of the key's maxBudget after requests in flight (null: no cap)." }),
        balance: z.number().meta({ description: "USD left of the account's balance after requests in flight." }),
      })
      .nullable(),
  })
  .meta({ id: "KeyVerification" });

export type KeyVerification = z.infer<typeof verifyKeyResultSchema>;
