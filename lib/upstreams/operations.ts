import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { deletedSchema } from "@/lib/keys/schemas";
import { createUpstreamSchema, updateUpstreamSchema, upstreamTestResultSchema, upstreamViewSchema, type UpstreamView } from "@/lib/upstreams/schemas";

/** Upstreams: where the gateway sends models' requests. Operator endpoints. */

const exampleUpstream: UpstreamView = {
  id: "cm9x2k1q40000upstr0eu1",
  name: "openai-eu",
  protocol: "openai",
  baseUrl: "https://eu.api.openai.com/v1",
  apiKeyLast4: "x9Qz",
  headerNames: ["OpenAI-Organization"],
  timeoutMs: 120000,
  active: true,
  readOnly: false,
  health: { state: "ok", coolingDownUntil: null, requests5m: 42, errors5m: 1 },
};

const READ_ONLY = "`upstream_read_only`: `env-openai` and `env-anthropic` come from the environment (`OPENAI_*`, `ANTHROPIC_*`) and cannot be changed here.";

export const listUpstreams = defineOperation({
  id: "listUpstreams",
  method: "GET",
  path: "/api/admin/upstreams",
  tag: "Upstreams",
  summary: "List upstreams with their health",
  description:
    "The environment's upstreams first (`env-openai` when `OPENAI_BASE_URL` or `OPENAI_API_KEY` is set, `env-anthropic` likewise; read-only, their ID is their name), then the stored ones by name. API keys and header values are never returned.",
  auth: "admin",
  response: { status: 200, description: "Every upstream.", schema: z.array(upstreamViewSchema), shape: "envelope" },
  examples: {
    response: [
      {
        ...exampleUpstream,
        id: "env-anthropic",
        name: "env-anthropic",
        protocol: "anthropic",
        baseUrl: "https://api.anthropic.com",
        apiKeyLast4: "AbCd",
        headerNames: [],
        timeoutMs: null,
        readOnly: true,
      },
      exampleUpstream,
    ],
  },
});

export const createUpstream = defineOperation({
  id: "createUpstream",
  method: "POST",
  audit: { action: "upstream.create", targetType: "upstream" },
  path: "/api/admin/upstreams",
  tag: "Upstreams",
  summary: "Add an upstream",
  description:
    "The API key and header values are encrypted at rest (AES-256-GCM) and never returned. Models use the upstream once a route names it (`routes` on `POST /api/admin/models`).",
  auth: "admin",
  body: createUpstreamSchema,
  response: { status: 201, description: "The upstream was created.", schema: upstreamViewSchema, shape: "envelope" },
  errors: {
    409: "`upstream_exists`: an upstream has this name. `reserved_upstream_name`: names starting with `env-` belong to the environment's upstreams.",
  },
  examples: {
    body: {
      name: "openai-eu",
      protocol: "openai",
      baseUrl: "https://eu.api.openai.com/v1",
      apiKey: "sk-proj-EXAMPLE0123456789x9Qz",
      headers: { "OpenAI-Organization": "org-EXAMPLE" },
      timeoutMs: 120000,
    },
    response: exampleUpstream,
  },
});

export const updateUpstream = defineOperation({
  id: "updateUpstream",
  method: "PUT",
  audit: { action: "upstream.update", targetType: "upstream" },
  path: "/api/admin/upstreams/{id}",
  tag: "Upstreams",
  summary: "Change an upstream",
  description:
    "Changes the fields sent and keeps the others; the API key and the headers are kept when omitted. A rename moves the model routes that name the upstream. The next gateway request, on every instance, uses the new values.",
  auth: "admin",
  body: updateUpstreamSchema,
  response: { status: 200, description: "The upstream as it now is.", schema: upstreamViewSchema, shape: "envelope" },
  errors: {
    409: `${READ_ONLY} \`upstream_exists\`: another upstream has the new name. \`reserved_upstream_name\`: names starting with \`env-\` are reserved.`,
  },
  examples: {
    params: { id: exampleUpstream.id },
    body: { apiKey: "sk-proj-EXAMPLE0123456789n3wK", active: true },
    response: { ...exampleUpstream, apiKeyLast4: "n3wK" },
  },
});

export const deleteUpstream = defineOperation({
  id: "deleteUpstream",
  method: "DELETE",
  audit: { action: "upstream.delete", targetType: "upstream" },
  path: "/api/admin/upstreams/{id}",
  tag: "Upstreams",
  summary: "Remove an upstream",
  description: "Refused while a model route names it: change those models' `routes` first, or deactivate the upstream instead.",
  auth: "admin",
  response: { status: 200, description: "The upstream was removed.", schema: deletedSchema, shape: "envelope" },
  errors: { 409: `\`upstream_in_use\`: a model route still names it; the message lists the models. ${READ_ONLY}` },
  examples: { params: { id: exampleUpstream.id }, response: { deleted: true } },
});

export const testUpstream = defineOperation({
  id: "testUpstream",
  method: "POST",
  audit: false,
  path: "/api/admin/upstreams/{id}/test",
  tag: "Upstreams",
  summary: "Test an upstream's connection",
  description:
    "Sends one read-only request with the stored key and headers (OpenAI: `GET {baseUrl}/models`; Anthropic: `GET {baseUrl}/v1/models`; no tokens are spent) and says what happened. An upstream that answers with an error is still a 200 here, with `ok: false`, its status and a sentence on what to check. Works for inactive upstreams and for `env-openai` / `env-anthropic`. A test does not count in the upstream's health and never starts a cooldown.",
  auth: "admin",
  response: { status: 200, description: "The test's result.", schema: upstreamTestResultSchema, shape: "envelope" },
  examples: {
    params: { id: exampleUpstream.id },
    response: {
      ok: true,
      status: 200,
      latencyMs: 182,
      url: "https://eu.api.openai.com/v1/models",
      modelCount: 42,
      message: "Connected: 200 in 182 ms; the upstream lists 42 models.",
    },
  },
});
