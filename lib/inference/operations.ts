import { defineOperation, type ErrorStatus } from "@/lib/http/operation";
import {
  anthropicErrorSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  embeddingsRequestSchema,
  embeddingsSchema,
  messageSchema,
  messagesRequestSchema,
  modelListSchema,
  openAIErrorSchema,
  responseObjectSchema,
  responsesRequestSchema,
} from "@/lib/inference/schemas";

/**
 * The inference endpoints (`/v1/…`), described for the OpenAPI document and
 * /docs. They are served by the gateway's plain node:http handlers
 * (lib/gateway/router.ts → one protocol adapter each), not by Next route
 * files, so these declarations are documentation: nothing parses with them.
 * lib/openapi.test.ts checks that every path the router serves is here, and
 * drives the gateway to hold the documented statuses and error shapes to
 * what it answers.
 */

/** The x-keygate-* headers of an answer that went upstream (or to the built-in demo models). */
const KEYGATE_HEADERS: Record<string, string> = {
  "x-keygate-usage-id": "The id of this request's usage record (its cost, tokens, upstream and latency), durable before the answer is sent.",
  "x-keygate-upstream": "The upstream that answered (`env-openai`, an upstream's name, or `keygate` for the built-in demo models).",
  "x-keygate-attempts": "How many upstreams were tried: more than 1 when a failing one was skipped (fallback).",
  "server-timing":
    "`keygate;dur=<ms>, upstream;dur=<ms>`: the time spent waiting on upstreams (every attempt, and a whole answer's body) and the rest, Keygate's own share. For a stream, until the response headers.",
  "x-keygate-max-tokens":
    "Present when the client set no output cap and Keygate lowered the model's maximum to what the key's money and tpm window allow: the cap sent upstream.",
  "x-ratelimit-remaining-requests":
    "The key's rpm state (with `x-ratelimit-limit-requests` and `x-ratelimit-reset-requests`), when it has an rpm limit; likewise `…-tokens` for a tpm limit.",
};

const CHAT_HEADERS: Record<string, string> = {
  ...KEYGATE_HEADERS,
  "x-keygate-dropped-params":
    "The client's advisory parameters that a translated request could not carry and that do not change the answer (e.g. `user`, `seed`), comma-separated; absent when none were dropped.",
};

/** Why an inference request is refused, by status: Keygate's reasons (each answer's `error.code` in OpenAI's shape). */
function errors(extra: Partial<Record<ErrorStatus, string>> = {}): Partial<Record<ErrorStatus, string>> {
  const base: Partial<Record<ErrorStatus, string>> = {
    400: "`invalid_request`: the body is not a JSON object, is nested deeper than 64 levels, or is not a request of this endpoint (a field it needs is missing or malformed); or the model is of the other kind (a chat model on `/v1/embeddings`, an embedding model on a chat endpoint), with the endpoint that serves it named.",
    401: "`invalid_api_key`: no key, two different keys (`Authorization` and `x-api-key`), a malformed, unknown, paused or expired key, a management key (`mk_…`), or a subscription key whose subscription has ended.",
    402: "`insufficient_balance`: the account's credit cannot pay for the prompt plus the output cap after requests in flight; `budget_exceeded`: the key's `maxBudget` cannot. Nothing was charged.",
    403: "`outside_reserved_block`: a subscription key outside its reserved UTC blocks (`x-keygate-next-block-at` says when the next starts); `model_not_allowed`: the subscription's pool does not serve this model.",
    404: "`model_not_found`: no active model by that name is served on this endpoint (`GET /v1/models` lists them).",
    413: "`request_too_large`: the body is over 4 MB.",
    429: "`rate_limit_exceeded`: the key's rpm or tpm limit (see `Retry-After` and the `x-ratelimit-*` headers); `concurrency_limit`: a subscription key already has a request in flight. An upstream's own 429 is passed on as sent.",
    500: "`internal_error`: a bug in Keygate (its cause is logged, never sent). Nothing was charged.",
    502: "`upstream_error`: the upstream could not be reached, answered with something that is not this protocol's JSON (an excerpt is quoted), or no upstream is configured or turned on for the model. An upstream's own error status (4xx, 5xx) is passed on with its body. Nothing was charged.",
    503: "`upstream_unavailable`: every upstream serving the model is cooling down after failures (`Retry-After`); `store_unavailable`: Keygate cannot reach its Redis, so no limit can be checked and nothing is admitted. Nothing was charged.",
    504: "`upstream_timeout`: the upstream did not answer in time. Nothing was charged.",
  };
  return { ...base, ...extra };
}

const STREAM_EXAMPLE_CHAT = [
  'data: {"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1764930000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}',
  'data: {"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1764930000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
  "data: [DONE]",
  "",
].join("\n\n");

export const createChatCompletion = defineOperation({
  id: "createChatCompletion",
  method: "POST",
  audit: false,
  path: "/v1/chat/completions",
  tag: "Inference",
  summary: "Chat Completions (OpenAI)",
  description:
    "OpenAI's Chat Completions API, for any chat model in the catalogue: point an OpenAI SDK's `baseURL` at `<this server>/v1` with an `sk_…` key. The request is admitted in one atomic step (rpm, tpm, the key's budget and the account's balance, reserving the prompt's bound plus the output cap), relayed to the model's upstream (falling back to the next route on a retryable failure before the first byte), and settled at the upstream's usage: a credit key pays the catalogue's prices, a subscription key $0 inside its reserved blocks. Unknown fields are passed on.",
  auth: "consumption-key",
  servedBy: "node",
  body: chatCompletionRequestSchema,
  response: {
    status: 200,
    description: "The upstream's answer, under the public model name.",
    schema: chatCompletionSchema,
    shape: "as-is",
    headers: CHAT_HEADERS,
    stream: {
      description:
        "`chat.completion.chunk` events, relayed as they arrive, ending in `data: [DONE]`; a usage chunk (empty `choices`) comes before it when `stream_options.include_usage` is `true`.",
      example: STREAM_EXAMPLE_CHAT,
    },
  },
  errorSchema: openAIErrorSchema,
  errors: errors(),
  examples: {
    body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }], max_completion_tokens: 256 },
    response: {
      id: "chatcmpl-9x",
      object: "chat.completion",
      created: 1764930000,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello!", refusal: null }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    },
  },
});

export const createMessage = defineOperation({
  id: "createMessage",
  method: "POST",
  audit: false,
  path: "/v1/messages",
  tag: "Inference",
  summary: "Messages (Anthropic)",
  description:
    "Anthropic's Messages API, for any chat model in the catalogue: point `@anthropic-ai/sdk`'s `baseURL` at this server (without `/v1`) with an `sk_…` key, as `x-api-key` or a Bearer token. Admission, routing and settlement as for Chat Completions. `anthropic-version` and `anthropic-beta` headers and unknown fields are passed on. Errors come in Anthropic's shape: the reasons below are each answer's `error.type` (`invalid_request_error`, `authentication_error`, `billing_error`, `permission_error`, `not_found_error`, `request_too_large`, `rate_limit_error`, `overloaded_error`, `api_error`) with Keygate's reason in the message.",
  auth: "consumption-key",
  servedBy: "node",
  body: messagesRequestSchema,
  response: {
    status: 200,
    description: "The upstream's answer, under the public model name.",
    schema: messageSchema,
    shape: "as-is",
    headers: CHAT_HEADERS,
    stream: {
      description:
        "Anthropic's event sequence (`message_start`, `content_block_*`, `message_delta` with the output usage, `message_stop`), relayed as it arrives.",
      example: [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello!"}}',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}',
        'event: message_stop\ndata: {"type":"message_stop"}',
        "",
      ].join("\n\n"),
    },
  },
  errorSchema: anthropicErrorSchema,
  errors: errors(),
  examples: {
    body: { model: "claude-haiku", max_tokens: 256, messages: [{ role: "user", content: "Say hello" }] },
    response: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-haiku",
      content: [{ type: "text", text: "Hello!" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 9, output_tokens: 2 },
    },
  },
});

export const createResponse = defineOperation({
  id: "createResponse",
  method: "POST",
  audit: false,
  path: "/v1/responses",
  tag: "Inference",
  summary: "Responses (OpenAI)",
  description:
    "OpenAI's Responses API, served statelessly for any chat model in the catalogue (what Codex CLI speaks): send the whole conversation in `input` each time. Nothing is stored: `store` is accepted and ignored, and `previous_response_id` is refused. Admission, routing and settlement as for Chat Completions.",
  auth: "consumption-key",
  servedBy: "node",
  body: responsesRequestSchema,
  response: {
    status: 200,
    description: "The answer as a Responses API object, under the public model name.",
    schema: responseObjectSchema,
    shape: "as-is",
    headers: CHAT_HEADERS,
    stream: {
      description: "The `response.*` event sequence (`response.created`, `response.output_text.delta`, …), ending in `response.completed` with usage.",
      example: [
        'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_01","object":"response","status":"in_progress","model":"gpt-4o-mini","output":[]}}',
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_01","output_index":0,"content_index":0,"delta":"Hello!"}',
        'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_01","object":"response","status":"completed","model":"gpt-4o-mini","usage":{"input_tokens":9,"output_tokens":2,"total_tokens":11}}}',
        "",
      ].join("\n\n"),
    },
  },
  errorSchema: openAIErrorSchema,
  errors: errors({
    400: `${errors()[400]} \`unsupported_parameter\`: \`previous_response_id\`, or a \`tool_choice\` that forces a built-in tool Keygate cannot run, or another parameter that would change the answer and has no equivalent on the model's upstream (named in the message).`,
  }),
  examples: {
    body: { model: "gpt-4o-mini", instructions: "Be brief.", input: "Say hello", max_output_tokens: 256 },
    response: {
      id: "resp_01",
      object: "response",
      created_at: 1764930000,
      model: "gpt-4o-mini",
      status: "completed",
      output: [{ type: "message", id: "msg_01", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hello!", annotations: [] }] }],
      usage: { input_tokens: 9, output_tokens: 2, total_tokens: 11 },
    },
  },
});

export const createEmbeddings = defineOperation({
  id: "createEmbeddings",
  method: "POST",
  audit: false,
  path: "/v1/embeddings",
  tag: "Inference",
  summary: "Embeddings (OpenAI)",
  description:
    "OpenAI's Embeddings API, for models of `kind: \"embedding\"` in the catalogue, served by OpenAI-protocol upstreams only. Charged on input tokens (the upstream's `prompt_tokens`) at the model's input price; an embedding generates no output, so admission reserves the prompt's bound alone and nothing is ever charged for output. No streaming. The built-in demo model `keygate/echo-embedding` answers in process with deterministic vectors (8 numbers, or `dimensions`).",
  auth: "consumption-key",
  servedBy: "node",
  body: embeddingsRequestSchema,
  response: {
    status: 200,
    description: "The vectors, one per input, in order, under the public model name.",
    schema: embeddingsSchema,
    shape: "as-is",
    headers: KEYGATE_HEADERS,
  },
  errorSchema: openAIErrorSchema,
  errors: errors({
    400: "`invalid_request`: the body is not a JSON object, `model` or `input` is missing, `input` is empty or not one of its four shapes, `stream` is `true`, `encoding_format` is not `float` or `base64`, `dimensions` is not a positive whole number; or the model is a chat model (use `/v1/chat/completions`, `/v1/messages` or `/v1/responses`).",
    402: "`insufficient_balance` / `budget_exceeded`: the account's credit or the key's `maxBudget` cannot pay for the prompt's bound at the input price. Nothing was charged.",
  }),
  examples: {
    body: { model: "text-embedding-3-small", input: ["The quick brown fox", "jumped over the lazy dog"], encoding_format: "float" },
    response: {
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.0123, -0.0456, 0.0789] },
        { object: "embedding", index: 1, embedding: [-0.0321, 0.0654, -0.0987] },
      ],
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 10, total_tokens: 10 },
    },
  },
});

export const listInferenceModels = defineOperation({
  id: "listInferenceModels",
  method: "GET",
  path: "/v1/models",
  tag: "Inference",
  summary: "List the models a key can call",
  description:
    "Every active model, chat and embedding alike, in OpenAI's list shape (what `client.models.list()` reads), including the built-in demo models while they are on. A subscription key sees the same list; its pool decides which of them it may call.",
  auth: "consumption-key",
  servedBy: "node",
  response: { status: 200, description: "The active models.", schema: modelListSchema, shape: "as-is" },
  errorSchema: openAIErrorSchema,
  errors: {
    401: errors()[401],
    500: errors()[500],
    503: "`store_unavailable`: Keygate cannot reach its Redis to check the key.",
  },
  examples: {
    response: {
      object: "list",
      data: [
        { id: "gpt-4o-mini", object: "model", created: 0, owned_by: "openai" },
        { id: "claude-haiku", object: "model", created: 0, owned_by: "anthropic" },
        { id: "text-embedding-3-small", object: "model", created: 0, owned_by: "openai" },
      ],
    },
  },
});
