import { z } from "zod";
import { MICROS_PER_USD } from "@/lib/billing/money";
import { upstreamNameSchema } from "@/lib/upstreams/schemas";

/**
 * The model catalogue's request and response schemas. The catalogue is the
 * price book: prices go over the wire as USD per million tokens and are
 * stored as integer micro-dollars per million tokens, so a price has at most
 * 6 decimals ($0.000001 per MTok is the smallest step).
 */

/** The built-in demo model's name; the catalogue cannot hold a row by that name. */
export const RESERVED_MODEL_NAME = "keygate/echo";
/** The built-in demo embedding model's name, reserved likewise. */
export const RESERVED_EMBEDDING_MODEL_NAME = "keygate/echo-embedding";
export const RESERVED_MODEL_NAMES: readonly string[] = [RESERVED_MODEL_NAME, RESERVED_EMBEDDING_MODEL_NAME];

export const PROVIDERS = ["openai", "anthropic"] as const;

/** What a model does: `chat` answers on the chat endpoints, `embedding` on `/v1/embeddings`. */
export const MODEL_KINDS = ["chat", "embedding"] as const;

/** The highest price accepted, in USD per million tokens: far above any real model, and safe for the gateway's arithmetic in plain numbers. */
export const MAX_USD_PER_MTOK = 1_000_000;

export const MAX_OUTPUT_TOKENS = 1_000_000;

const modelName = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, `${field} must not be empty`)
    .max(200, `${field} must be at most 200 characters`)
    .regex(/^\S+$/, `${field} must not contain spaces or other whitespace`);

export const modelNameSchema = modelName("model").meta({
  description: "The public model name clients send, e.g. `gpt-4o-mini`; 1 to 200 characters, no whitespace. Case-sensitive.",
});

/** A price in USD per million tokens: zero or more, at most 6 decimals. */
function usdPerMTok(field: string) {
  return (
    z
      .number({ error: `${field} must be a number of US dollars per million tokens, e.g. 0.15` })
      .min(0, `${field} must be 0 or more`)
      .max(MAX_USD_PER_MTOK, `${field} must be at most ${MAX_USD_PER_MTOK.toLocaleString("en-US")}`)
      // Exact, as in usdAmount (lib/billing/money.ts): n has at most 6 decimals
      // iff the nearest micro-dollar converts back to the same double.
      .refine((n) => Math.round(n * MICROS_PER_USD) / MICROS_PER_USD === n, {
        message: `${field} can have at most 6 decimal places`,
      })
  );
}

const KEEPS = "On an update, omit it to keep the current value.";

export const MAX_ROUTES = 16;
export const MAX_ROUTE_PRIORITY = 1000;
export const MAX_ROUTE_WEIGHT = 1000;

export const routeInputSchema = z.strictObject({
  upstream: upstreamNameSchema.meta({
    description: "The upstream's `name`: one of `GET /api/admin/upstreams`, including `env-openai` / `env-anthropic` when configured.",
  }),
  upstreamModel: modelName("upstreamModel")
    .nullable()
    .optional()
    .meta({ description: "The name sent to this upstream; omitted or `null` means the model's own `upstreamModel` (or its name)." }),
  priority: z
    .number({ error: "priority must be a whole number" })
    .int("priority must be a whole number")
    .min(0, "priority must be 0 or more")
    .max(MAX_ROUTE_PRIORITY, `priority must be at most ${MAX_ROUTE_PRIORITY}`)
    .optional()
    .meta({ description: "Lower is tried first; default 0." }),
  weight: z
    .number({ error: "weight must be a whole number" })
    .int("weight must be a whole number")
    .min(1, "weight must be at least 1")
    .max(MAX_ROUTE_WEIGHT, `weight must be at most ${MAX_ROUTE_WEIGHT}`)
    .optional()
    .meta({ description: `Routes of equal priority share traffic in proportion to their weight (1 to ${MAX_ROUTE_WEIGHT}); default 1.` }),
});

const routesSchema = z
  .array(routeInputSchema, { error: "routes must be an array of {upstream, upstreamModel?, priority?, weight?}" })
  .max(MAX_ROUTES, `routes can have at most ${MAX_ROUTES} entries`)
  .superRefine((routes, ctx) => {
    const seen = new Set<string>();
    routes.forEach((r, i) => {
      const pair = JSON.stringify([r.upstream, r.upstreamModel ?? null]);
      if (seen.has(pair)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "upstream"],
          message: `routes has "${r.upstream}"${r.upstreamModel ? ` with upstreamModel "${r.upstreamModel}"` : ""} twice; each (upstream, upstreamModel) pair may appear once`,
        });
      }
      seen.add(pair);
    });
  })
  .meta({
    description: `Where the gateway sends the model's requests, at most ${MAX_ROUTES}: lower \`priority\` first, equal priorities shared by \`weight\`. Omit to keep the current routes; \`[]\` removes them, and the model goes to its \`provider\`'s environment upstream, as it does without routes.`,
  });

export const upsertModelSchema = z.strictObject({
  model: modelNameSchema,
  provider: z
    .enum(PROVIDERS, { error: 'provider must be "openai" or "anthropic"' })
    .optional()
    .meta({
      description: `Which upstream serves the model: \`openai\` (called at \`/v1/chat/completions\`) or \`anthropic\` (at \`/v1/messages\`). Required to create. ${KEEPS}`,
    }),
  kind: z
    .enum(MODEL_KINDS, { error: 'kind must be "chat" or "embedding"' })
    .optional()
    .meta({
      description: `What the model does: \`chat\` (the default on create) answers on \`/v1/chat/completions\`, \`/v1/messages\` and \`/v1/responses\`; \`embedding\` answers only on \`/v1/embeddings\`, is charged on input tokens at \`inputUsdPerMTok\` (its output price is never used), and must be served by OpenAI-protocol upstreams: an embedding model with \`provider: "anthropic"\` and no routes, or with a route to an Anthropic upstream, is refused (400 \`validation_error\`). ${KEEPS}`,
    }),
  upstreamModel: modelName("upstreamModel")
    .nullable()
    .optional()
    .meta({ description: `The name sent upstream, when it differs from \`model\`; \`null\` means the same as \`model\`. ${KEEPS}` }),
  inputUsdPerMTok: usdPerMTok("inputUsdPerMTok")
    .optional()
    .meta({ description: `USD per million prompt tokens, e.g. 0.15; 0 or more, at most 6 decimals. Required to create. ${KEEPS}` }),
  outputUsdPerMTok: usdPerMTok("outputUsdPerMTok")
    .optional()
    .meta({ description: `USD per million generated tokens, e.g. 0.6; 0 or more, at most 6 decimals. Required to create. ${KEEPS}` }),
  maxOutputTokens: z
    .number({ error: "maxOutputTokens must be a whole number of tokens" })
    .int("maxOutputTokens must be a whole number")
    .min(1, "maxOutputTokens must be at least 1")
    .max(MAX_OUTPUT_TOKENS, `maxOutputTokens must be at most ${MAX_OUTPUT_TOKENS}`)
    .optional()
    .meta({
      description: `The most tokens one response may generate: the gateway's \`max_tokens\` when a request sends none, and the cap on what it may ask for. Required to create. ${KEEPS}`,
    }),
  active: z
    .boolean({ error: "active must be true or false" })
    .optional()
    .meta({ description: `Whether the gateway serves the model; an inactive one answers 404 \`model_not_found\`. Defaults to true on create. ${KEEPS}` }),
  routes: routesSchema.optional(),
});

/** The fields a new row cannot do without. */
export const REQUIRED_ON_CREATE = ["provider", "inputUsdPerMTok", "outputUsdPerMTok", "maxOutputTokens"] as const;

export const deleteModelQuerySchema = z.object({
  model: modelName("model").meta({ description: "The public name of the model to remove, URL-encoded." }),
});

const isoDateTime = () => z.iso.datetime();

export const modelViewSchema = z
  .strictObject({
    model: z.string().meta({ description: "The public name clients send." }),
    provider: z.enum(PROVIDERS).meta({ description: "Which upstream serves it." }),
    kind: z.enum(MODEL_KINDS).meta({ description: "`chat`: served on the chat endpoints; `embedding`: served on `/v1/embeddings` only." }),
    upstreamModel: z.string().nullable().meta({ description: "The name sent upstream; `null` means the same as `model`." }),
    inputUsdPerMTok: z.number().meta({ description: "USD per million prompt tokens." }),
    outputUsdPerMTok: z.number().meta({ description: "USD per million generated tokens." }),
    maxOutputTokens: z.number().int(),
    active: z.boolean().meta({ description: "Whether the gateway serves it." }),
    routes: z
      .array(
        z.strictObject({
          upstream: z.string().meta({ description: "The upstream's name." }),
          upstreamModel: z.string().nullable().meta({ description: "The name sent to that upstream; `null` means the model's `upstreamModel` (or its name)." }),
          priority: z.number().int(),
          weight: z.number().int(),
        }),
      )
      .meta({ description: "By priority, then as written. Empty: the `provider`'s environment upstream." }),
    createdAt: isoDateTime(),
    updatedAt: isoDateTime(),
  })
  .meta({ id: "Model", description: "A model in the catalogue, with its prices." });

export type UpsertModelInput = z.infer<typeof upsertModelSchema>;
export type RouteInput = z.infer<typeof routeInputSchema>;
export type ModelView = z.infer<typeof modelViewSchema>;

/** An active model as any user sees it: what a key can be allowed (the dashboard's allowlist choices). */
export const availableModelSchema = z
  .strictObject({
    model: z.string().meta({ description: "The public name clients send, and what a key's `allowedModels` names." }),
    provider: z.enum([...PROVIDERS, "keygate"]).meta({ description: "Which upstream serves it; `keygate` for the built-in demo models." }),
    kind: z.enum(MODEL_KINDS),
  })
  .meta({ id: "AvailableModel" });

export type AvailableModel = z.infer<typeof availableModelSchema>;
