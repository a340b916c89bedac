import type { Env } from "@/lib/env";
import {
  sseEvent,
  type GatewayErrorCode,
  type Json,
  isCount,
  isObject,
  type ProtocolAdapter,
  type ReportedUsage,
  type StreamReading,
  tokenCount,
  type UpstreamTarget,
} from "@/lib/gateway/protocols/adapter";

/** OpenAI Chat Completions (`POST /v1/chat/completions`). */

const ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

export const openai: ProtocolAdapter = {
  protocol: "openai",
  label: "OpenAI",
  path: "/v1/chat/completions",
  owns: (path) => !path.startsWith("/v1/messages"),

  upstreamSettings: "OPENAI_BASE_URL or OPENAI_API_KEY",
  envUpstream(e: Env): UpstreamTarget | null {
    if (!e.OPENAI_BASE_URL && !e.OPENAI_API_KEY) return null;
    return openai.target(e.OPENAI_BASE_URL ?? "https://api.openai.com/v1", e.OPENAI_API_KEY ?? null, {});
  },
  target(baseUrl, apiKey, headers) {
    const base = baseUrl.replace(/\/+$/, "");
    return { url: `${base}/chat/completions`, headers: { ...headers, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) } };
  },
  modelList(baseUrl, apiKey, headers) {
    const base = baseUrl.replace(/\/+$/, "");
    return { url: `${base}/models`, headers: { ...headers, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) } };
  },
  baseUrlConvention: "OpenAI-compatible base URLs end in /v1, e.g. https://api.openai.com/v1",
  forwardedHeaders: () => ({ "content-type": "application/json" }),

  invalid(body) {
    if (typeof body.model !== "string" || !body.model) return "The request needs a 'model': one of the names GET /v1/models lists.";
    if (!Array.isArray(body.messages) || body.messages.length === 0) return "The request needs a non-empty 'messages' array.";
    for (const field of ["max_tokens", "max_completion_tokens"]) {
      const v = body[field];
      if (v !== undefined && v !== null && !isCount(v)) return `'${field}' must be a positive whole number of tokens.`;
    }
    return null;
  },
  requestedMaxTokens(body) {
    const value = body.max_completion_tokens ?? body.max_tokens;
    return isCount(value) ? value : null;
  },
  setMaxTokens(body, n) {
    if (body.max_completion_tokens !== undefined) body.max_completion_tokens = n;
    else body.max_tokens = n;
  },
  askForStreamUsage(body) {
    const options = (body.stream_options && typeof body.stream_options === "object" ? body.stream_options : {}) as Json;
    body.stream_options = { ...options, include_usage: true };
    return options.include_usage === true;
  },

  usageFromBody(json): ReportedUsage {
    const u = json.usage;
    if (!isObject(u)) return { inputTokens: null, outputTokens: null };
    return { inputTokens: tokenCount(u.prompt_tokens), outputTokens: tokenCount(u.completion_tokens) };
  },
  readStreamEvent(json, reading: StreamReading, clientWantsUsage) {
    const choices = json.choices as Array<{ delta?: Json }> | undefined;
    const delta = choices?.[0]?.delta;
    if (delta && ((typeof delta.content === "string" && delta.content) || delta.tool_calls || (typeof delta.refusal === "string" && delta.refusal))) {
      reading.deltas++;
      reading.firstTokenAt ??= performance.now();
    }
    const u = json.usage;
    if (isObject(u)) {
      // A later usage event replaces an earlier one, a count that is not one included (it then counts as missing).
      if (u.prompt_tokens !== undefined) reading.usage.inputTokens = tokenCount(u.prompt_tokens);
      if (u.completion_tokens !== undefined) reading.usage.outputTokens = tokenCount(u.completion_tokens);
      // The usage-only chunk Keygate asked for on the client's behalf.
      if (!clientWantsUsage && Array.isArray(choices) && choices.length === 0) return false;
    }
    return true;
  },
  renameModel(json, publicModel) {
    if (typeof json.model !== "string") return false;
    json.model = publicModel;
    return true;
  },

  errorBody: (status: number, code: GatewayErrorCode, message: string) => ({ error: { message, type: ERROR_TYPE[status] ?? "api_error", param: null, code } }),
  // What the openai SDK reads: {"error": {"message": …}}.
  isErrorBody: (json) => isObject(json) && isObject(json.error) && typeof json.error.message === "string",

  echo(a, stream, wantsUsage) {
    const base = { id: `chatcmpl-${a.id}`, created: Math.floor(Date.now() / 1000), model: a.model };
    const usage = { prompt_tokens: a.inputTokens, completion_tokens: a.words.length, total_tokens: a.inputTokens + a.words.length };
    const finish = a.truncated ? "length" : "stop";
    if (!stream) {
      return {
        json: {
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: a.text, refusal: null }, finish_reason: finish, logprobs: null }],
          usage,
        },
      };
    }
    const chunk = (choices: unknown[], extra: Json = {}) => sseEvent({ ...base, object: "chat.completion.chunk", choices, ...extra });
    const events = [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])];
    a.words.forEach((w, i) => events.push(chunk([{ index: 0, delta: { content: i ? ` ${w}` : w }, finish_reason: null }])));
    events.push(chunk([{ index: 0, delta: {}, finish_reason: finish }]));
    if (wantsUsage) events.push(chunk([], { usage }));
    events.push("data: [DONE]\n\n");
    return { events };
  },
};
