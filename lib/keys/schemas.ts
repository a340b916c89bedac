import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";

/**
 * Request schemas for the key endpoints, shared by route handlers, dashboard
 * forms and the OpenAPI document. Both seeds' spellings are accepted where the
 * endpoints overlap (isActive/active, expiresAt/expires_at); unknown fields
 * are refused, because silently accepting them invites mass assignment.
 */

export const DEFAULT_RPM = 60;

export const keyNameSchema = z
  .string({ error: "name must be a string" })
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters");

const futureDateTime = z
  .iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2027-01-31T00:00:00Z" })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), { message: "must be in the future" });

const rpmSchema = z
  .number({ error: "rpm must be a whole number of requests per minute" })
  .int("rpm must be a whole number")
  .min(1, "rpm must be at least 1")
  .max(100_000, "rpm must be at most 100000");

const tpmSchema = z
  .number({ error: "tpm must be a whole number of tokens per minute" })
  .int("tpm must be a whole number")
  .min(1, "tpm must be at least 1")
  .max(1_000_000_000, "tpm must be at most 1000000000");

/** Accepts either spelling of one field; refuses both at once when they disagree. */
function pickAlias<T>(
  ctx: z.RefinementCtx,
  a: { name: string; value: T | undefined },
  b: { name: string; value: T | undefined },
): T | undefined {
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
    maxBudget: usdAmount("maxBudget").optional(),
    rpm: rpmSchema.optional(),
    tpm: tpmSchema.optional(),
    expiresAt: futureDateTime.optional(),
    expires_at: futureDateTime.optional(),
  })
  .transform((v, ctx) => ({
    name: v.name,
    maxBudget: v.maxBudget,
    rpm: v.rpm ?? DEFAULT_RPM,
    tpm: v.tpm,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
  }));

/** POST /api/keys, the second seed's create. */
export const createProxyKeySchema = z
  .strictObject({
    name: keyNameSchema,
    expires_at: futureDateTime.optional(),
    expiresAt: futureDateTime.optional(),
  })
  .transform((v, ctx) => ({
    name: v.name,
    maxBudget: undefined,
    rpm: DEFAULT_RPM,
    tpm: undefined,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
  }));

export const createSubscriptionKeySchema = z.strictObject({
  subscriptionId: z.string({ error: "subscriptionId must be a string" }).min(1).max(64).optional(),
  name: keyNameSchema.optional(),
});

export const updateKeySchema = z
  .strictObject({
    name: keyNameSchema.optional(),
    isActive: z.boolean({ error: "isActive must be true or false" }).optional(),
    active: z.boolean({ error: "active must be true or false" }).optional(),
    maxBudget: usdAmount("maxBudget").nullable().optional(),
    rpm: rpmSchema.optional(),
    tpm: tpmSchema.nullable().optional(),
    expiresAt: futureDateTime.nullable().optional(),
    expires_at: futureDateTime.nullable().optional(),
  })
  .transform((v, ctx) => {
    const patch = {
      name: v.name,
      isActive: pickAlias(ctx, { name: "isActive", value: v.isActive }, { name: "active", value: v.active }),
      maxBudget: v.maxBudget,
      rpm: v.rpm,
      tpm: v.tpm,
      expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
    };
    if (Object.values(patch).every((x) => x === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "Nothing to update: send at least one of name, isActive (or active), maxBudget, rpm, tpm, expiresAt (or expires_at)",
      });
    }
    return patch;
  });

export const createManagementKeySchema = z
  .strictObject({
    name: keyNameSchema,
    expiresAt: futureDateTime.optional(),
    expires_at: futureDateTime.optional(),
  })
  .transform((v, ctx) => ({
    name: v.name,
    expiresAt: pickAlias(ctx, { name: "expiresAt", value: v.expiresAt }, { name: "expires_at", value: v.expires_at }),
  }));

export const listKeysQuerySchema = z.object({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(100, "limit must be at most 100")
    .optional(),
  cursor: z.string().max(64, "cursor is not valid").optional(),
});

export type CreateCreditKeyInput = z.output<typeof createCreditKeySchema>;
export type UpdateKeyInput = z.output<typeof updateKeySchema>;
export type CreateManagementKeyInput = z.output<typeof createManagementKeySchema>;
