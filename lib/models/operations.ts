import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { deletedSchema } from "@/lib/keys/schemas";
import {
  availableModelSchema,
  deleteModelQuerySchema,
  modelViewSchema,
  RESERVED_EMBEDDING_MODEL_NAME,
  RESERVED_MODEL_NAME,
  upsertModelSchema,
  type ModelView,
} from "@/lib/models/schemas";

/** The model catalogue and price book, with each model's routes to upstreams, edited by operators. */

const exampleModel: ModelView = {
  model: "gpt-4o-mini",
  provider: "openai",
  kind: "chat",
  upstreamModel: null,
  inputUsdPerMTok: 0.15,
  outputUsdPerMTok: 0.6,
  maxOutputTokens: 16384,
  active: true,
  routes: [],
  createdAt: "2026-11-02T10:00:00.000Z",
  updatedAt: "2026-11-24T17:45:12.000Z",
};

const RESERVED = `\`reserved_model\`: \`${RESERVED_MODEL_NAME}\` and \`${RESERVED_EMBEDDING_MODEL_NAME}\` are the built-in demo models, which are not catalogue rows.`;

export const listAvailableModels = defineOperation({
  id: "listAvailableModels",
  method: "GET",
  path: "/api/models",
  tag: "Models",
  summary: "List the models your keys can call",
  description:
    "The active models, sorted by name: what `GET /v1/models` lists for a key without an allowlist, and the names a credit key's `allowedModels` may hold. Prices are on the Models page.",
  auth: "session-or-mk",
  scope: "keys:read",
  response: { status: 200, description: "The active models, sorted by name.", schema: z.array(availableModelSchema), shape: "envelope" },
  examples: {
    response: [
      { model: "claude-haiku", provider: "anthropic", kind: "chat" },
      { model: "gpt-4o-mini", provider: "openai", kind: "chat" },
    ],
  },
});

export const listModels = defineOperation({
  id: "listModels",
  method: "GET",
  path: "/api/admin/models",
  tag: "Models",
  summary: "List the model catalogue",
  description: `Every model in the catalogue, active or not, sorted by name, each with its \`kind\` (\`chat\` or \`embedding\`). The built-in demo models \`${RESERVED_MODEL_NAME}\` and \`${RESERVED_EMBEDDING_MODEL_NAME}\` are not rows and are not listed here.`,
  auth: "admin",
  response: { status: 200, description: "The catalogue, sorted by model name.", schema: z.array(modelViewSchema), shape: "envelope" },
  examples: {
    response: [
      {
        ...exampleModel,
        model: "claude-haiku",
        provider: "anthropic",
        upstreamModel: "claude-3-5-haiku-20241022",
        inputUsdPerMTok: 0.8,
        outputUsdPerMTok: 4,
        maxOutputTokens: 8192,
        routes: [
          { upstream: "anthropic-main", upstreamModel: null, priority: 0, weight: 3 },
          { upstream: "anthropic-backup", upstreamModel: null, priority: 0, weight: 1 },
          { upstream: "env-anthropic", upstreamModel: null, priority: 1, weight: 1 },
        ],
      },
      exampleModel,
    ],
  },
});

export const upsertModel = defineOperation({
  id: "upsertModel",
  method: "POST",
  audit: { action: "model.upsert", targetType: "model" },
  path: "/api/admin/models",
  tag: "Models",
  summary: "Add or change a model and its prices",
  description:
    "Upsert by `model`. A new model needs `provider`, `inputUsdPerMTok`, `outputUsdPerMTok` and `maxOutputTokens` (and `kind` when it is an `embedding` model: the default is `chat`); an existing one changes only the fields sent and keeps the rest. An embedding model is served on `/v1/embeddings` only, charged on input tokens, and must be served by OpenAI-protocol upstreams. Either way the answer is 200 with the row as it now is. Prices apply to requests that start after the change; each usage record keeps the prices it was charged at. `routes`, when sent, replaces the model's routes (`[]` removes them); omitted, they are kept.",
  auth: "admin",
  body: upsertModelSchema,
  response: { status: 200, description: "The model was created or updated; this is the row as it now is.", schema: modelViewSchema, shape: "envelope" },
  errors: {
    400: "`validation_error`: the model is new and a field it needs (`provider`, a price or `maxOutputTokens`) is missing, `kind` is not `chat` or `embedding`, a route names an upstream that does not exist or repeats another route, or an embedding model would be served by an Anthropic upstream (its provider's without routes, or a route's); `details` names each one.",
    409: RESERVED,
  },
  examples: {
    body: {
      model: "gpt-4o-mini",
      provider: "openai",
      inputUsdPerMTok: 0.15,
      outputUsdPerMTok: 0.6,
      maxOutputTokens: 16384,
      routes: [{ upstream: "openai-eu", weight: 2 }, { upstream: "env-openai" }],
    },
    response: {
      ...exampleModel,
      routes: [
        { upstream: "openai-eu", upstreamModel: null, priority: 0, weight: 2 },
        { upstream: "env-openai", upstreamModel: null, priority: 0, weight: 1 },
      ],
    },
  },
});

export const deleteModel = defineOperation({
  id: "deleteModel",
  method: "DELETE",
  audit: { action: "model.delete", targetType: "model" },
  path: "/api/admin/models",
  tag: "Models",
  summary: "Remove a model from the catalogue",
  description:
    "From the next request on, the gateway answers 404 `model_not_found` for it. Usage already recorded keeps its prices. To stop serving a model for a while, upsert it with `active: false` instead.",
  auth: "admin",
  query: deleteModelQuerySchema,
  response: { status: 200, description: "The model was removed.", schema: deletedSchema, shape: "envelope" },
  errors: { 404: "`not_found`: no model by that name is in the catalogue.", 409: RESERVED },
  examples: { query: { model: "gpt-4o-mini" }, response: { deleted: true } },
});
