import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { deletedSchema } from "@/lib/keys/schemas";
import { deleteModelQuerySchema, modelViewSchema, RESERVED_MODEL_NAME, upsertModelSchema, type ModelView } from "@/lib/models/schemas";

/** The model catalogue and price book, edited by the operator with the admin token. */

const exampleModel: ModelView = {
  model: "gpt-4o-mini",
  provider: "openai",
  upstreamModel: null,
  inputUsdPerMTok: 0.15,
  outputUsdPerMTok: 0.6,
  maxOutputTokens: 16384,
  active: true,
  createdAt: "2026-11-02T10:00:00.000Z",
  updatedAt: "2026-11-24T17:45:12.000Z",
};

const RESERVED = `\`reserved_model\`: \`${RESERVED_MODEL_NAME}\` is the built-in demo model, which is not a catalogue row.`;

export const listModels = defineOperation({
  id: "listModels",
  method: "GET",
  path: "/api/admin/models",
  tag: "Models",
  summary: "List the model catalogue",
  description: `Every model in the catalogue, active or not, sorted by name. The built-in demo model \`${RESERVED_MODEL_NAME}\` is not a row and is not listed here.`,
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
      },
      exampleModel,
    ],
  },
});

export const upsertModel = defineOperation({
  id: "upsertModel",
  method: "POST",
  path: "/api/admin/models",
  tag: "Models",
  summary: "Add or change a model and its prices",
  description:
    "Upsert by `model`. A new model needs `provider`, `inputUsdPerMTok`, `outputUsdPerMTok` and `maxOutputTokens`; an existing one changes only the fields sent and keeps the rest. Either way the answer is 200 with the row as it now is. Prices apply to requests that start after the change; each usage record keeps the prices it was charged at.",
  auth: "admin",
  body: upsertModelSchema,
  response: { status: 200, description: "The model was created or updated; this is the row as it now is.", schema: modelViewSchema, shape: "envelope" },
  errors: {
    400: "`validation_error`: the model is new and a field it needs (`provider`, a price or `maxOutputTokens`) is missing; `details` names each one.",
    409: RESERVED,
  },
  examples: {
    body: { model: "gpt-4o-mini", provider: "openai", inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6, maxOutputTokens: 16384 },
    response: exampleModel,
  },
});

export const deleteModel = defineOperation({
  id: "deleteModel",
  method: "DELETE",
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
