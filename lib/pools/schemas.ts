import { z } from "zod";
import { usdAmount } from "@/lib/billing/money";
import { BLOCK_HOURS, PERIOD_DAYS } from "@/lib/pools/blocks";

/**
 * Pools' request and response schemas. A pool serves some models and sells
 * seats in blocks of the UTC day; prices go over the wire in USD and are
 * stored as integer micro-dollars. Unknown fields are refused, as everywhere.
 */

// For the dashboard's forms, which may import schemas but not the rest of lib/.
export { BLOCK_HOURS, PERIOD_DAYS };

export const MAX_POOL_MODELS = 50;
export const MAX_CAPACITY = 100_000;
export const MAX_PRICE_PER_BLOCK_USD = 100_000;

const poolNameSchema = z
  .string({ error: "name must be a string" })
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters")
  .meta({ description: "What people see, e.g. `Night owls`. Surrounding spaces are trimmed." });

const poolModelsSchema = z
  .array(
    z
      .string({ error: "each model must be a string" })
      .min(1, "a model name must not be empty")
      .max(200, "a model name must be at most 200 characters")
      .regex(/^\S+$/, "a model name must not contain whitespace"),
    { error: "models must be an array of model names" },
  )
  .min(1, "models must name at least one model")
  .max(MAX_POOL_MODELS, `models must name at most ${MAX_POOL_MODELS} models`)
  .refine((models) => new Set(models).size === models.length, { message: "models must not name a model twice" })
  .meta({
    description: "The public model names the pool serves: rows of the model catalogue (`GET /api/admin/models`), or the built-in demo model `keygate/echo`.",
  });

const blockHoursSchema = z
  .number({ error: `blockHours must be one of ${BLOCK_HOURS.join(", ")}` })
  .refine((n) => (BLOCK_HOURS as readonly number[]).includes(n), { message: `blockHours must be one of ${BLOCK_HOURS.join(", ")} (a divisor of 24)` })
  .meta({
    description: `How long each block is, in hours: one of ${BLOCK_HOURS.join(", ")}. Block i covers hours [i×blockHours, (i+1)×blockHours) UTC of every day.`,
  });

const capacitySchema = z
  .number({ error: "capacity must be a whole number of seats" })
  .int("capacity must be a whole number")
  .min(1, "capacity must be at least 1")
  .max(MAX_CAPACITY, `capacity must be at most ${MAX_CAPACITY}`)
  .meta({ description: "Seats per block: how many subscriptions may hold the same block at once." });

const priceSchema = usdAmount("pricePerBlockUsd", MAX_PRICE_PER_BLOCK_USD).meta({
  description: `USD per block per ${PERIOD_DAYS}-day period, at most 6 decimal places.`,
});

export const createPoolSchema = z.strictObject({
  name: poolNameSchema,
  models: poolModelsSchema,
  blockHours: blockHoursSchema,
  capacity: capacitySchema,
  pricePerBlockUsd: priceSchema,
});

export const updatePoolSchema = z
  .strictObject({
    name: poolNameSchema.optional(),
    models: poolModelsSchema.optional(),
    blockHours: blockHoursSchema.optional().meta({
      description:
        "Only while no subscription of the pool is active (409 otherwise). Expired subscriptions of the pool are cancelled by the change: their blocks no longer mean the same hours.",
    }),
    capacity: capacitySchema
      .optional()
      .meta({ description: "Seats per block. Lowering it below the seats already taken only stops new sales; nobody loses a seat." }),
    pricePerBlockUsd: priceSchema.optional().meta({ description: "USD per block per period, for new subscriptions and renewals from now on." }),
    active: z
      .boolean({ error: "active must be true or false" })
      .optional()
      .meta({ description: "false stops sales and renewals and hides the pool from `GET /api/pools`; its subscriptions' keys stop working." }),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "Nothing to update: send at least one of name, models, blockHours, capacity, pricePerBlockUsd, active",
  });

export const subscribeSchema = z.strictObject({
  blocks: z
    .array(
      z.number({ error: "each block must be a block index, a whole number" }).int("each block must be a whole number").min(0, "a block index is 0 or more"),
      {
        error: "blocks must be an array of block indices, e.g. [0, 2]",
      },
    )
    .min(1, "blocks must name at least one block")
    .max(24, "blocks must name at most 24 blocks")
    .refine((blocks) => new Set(blocks).size === blocks.length, { message: "blocks must not name a block twice" })
    .meta({ description: "The block indices to reserve, each once: 0 to 24/blockHours − 1 (see the pool's `blocks`)." }),
});

export type CreatePoolInput = z.output<typeof createPoolSchema>;
export type UpdatePoolInput = z.output<typeof updatePoolSchema>;
export type SubscribeInput = z.output<typeof subscribeSchema>;

// ---------------------------------------------------------------------------
// Responses

export const poolBlockSchema = z
  .strictObject({
    index: z.number().int().meta({ description: "The block's index, as `POST /api/pools/{id}/subscribe` takes it." }),
    startHourUtc: z.number().int().meta({ description: "The hour (UTC) the block starts, inclusive." }),
    endHourUtc: z.number().int().meta({ description: "The hour (UTC) the block ends, exclusive: 24 is midnight." }),
    capacity: z.number().int().meta({ description: "Seats in the block." }),
    remaining: z.number().int().meta({ description: "Seats still for sale now." }),
  })
  .meta({ id: "PoolBlock", description: "One block of the UTC day, with its seats." });

export const poolViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "Opaque pool ID." }),
    name: z.string(),
    models: z.array(z.string()).meta({ description: "The model names the pool's keys may use." }),
    blockHours: z.number().int().meta({ description: "The length of each block, in hours." }),
    capacity: z.number().int().meta({ description: "Seats per block." }),
    pricePerBlockUsd: z.number().meta({ description: `USD per block per ${PERIOD_DAYS}-day period.` }),
    periodDays: z.literal(PERIOD_DAYS).meta({ description: "The length of a subscription period, in days." }),
    active: z.boolean().meta({ description: "Whether the pool is on sale; inactive pools are shown only to operators." }),
    blocks: z.array(poolBlockSchema),
  })
  .meta({ id: "Pool", description: "A pool: models, and the day's blocks with their seats." });

export type PoolView = z.infer<typeof poolViewSchema>;
export type PoolBlockView = z.infer<typeof poolBlockSchema>;
