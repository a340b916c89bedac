import type { IncomingMessage } from "node:http";
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

/** Anthropic Messages (`POST /v1/messages`). */

const ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
  504: "timeout_error",
};

/**
 * Input tokens, cache writes and cache reads included (each is a prompt token
 * the upstream read), or null when input_tokens is missing or any of the
 * three is present but not a count.
 */
function inputTokens(u: Json): number | null {
  const input = tokenCount(u.input_tokens);
  const written = u.cache_creation_input_tokens == null ? 0 : tokenCount(u.cache_creation_input_tokens);
  const read = u.cache_read_input_tokens == null ? 0 : tokenCount(u.cache_read_input_tokens);
  return input === null || written === null || read === null ? null : input + written + read;
}

export const anthropic: ProtocolAdapter = {
  protocol: "anthropic",
  label: "Anthropic",
  path: "/v1/messages",
  owns: (path) => path.startsWith("/v1/messages"),

  upstreamSettings: "ANTHROPIC_BASE_URL or ANTHROPIC_API_KEY",
  envUpstream(e: Env): UpstreamTarget | null {
    if (!e.ANTHROPIC_BASE_URL && !e.ANTHROPIC_API_KEY) return null;
    return anthropic.target(e.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com", e.ANTHROPIC_API_KEY ?? null, {});
  },
  target(baseUrl, apiKey, headers) {
    const base = baseUrl.replace(/\/+$/, "");
    return { url: `${base}/v1/messages`, headers: { ...headers, ...(apiKey ? { "x-api-key": apiKey } : {}) } };
  },
  modelList(baseUrl, apiKey, headers) {
    const base = baseUrl.replace(/\/+$/, "");
    return { url: `${base}/v1/models`, headers: { ...headers, "anthropic-version": "2023-06-01", ...(apiKey ? { "x-api-key": apiKey } : {}) } };
  },
  baseUrlConvention: "Anthropic base URLs have no /v1, e.g. https://api.anthropic.com",
  forwardedHeaders(req: IncomingMessage) {
    const out: Record<string, string> = { "content-type": "application/json" };
    const version = req.headers["anthropic-version"];
    out["anthropic-version"] = typeof version === "string" ? version : "2023-06-01";
    const beta = req.headers["anthropic-beta"];
    if (typeof beta === "string") out["anthropic-beta"] = beta;
    return out;
  },

  invalid(body) {
    if (typeof body.model !== "string" || !body.model) return "The request needs a 'model': one of the names GET /v1/models lists.";
    if (!Array.isArray(body.messages) || body.messages.length === 0) return "The request needs a non-empty 'messages' array.";
    const v = body.max_tokens;
    if (v !== undefined && v !== null && !isCount(v)) return "'max_tokens' must be a positive whole number of tokens.";
    return null;
  },
  requestedMaxTokens: (body) => (isCount(body.max_tokens) ? body.max_tokens : null),
  setMaxTokens(body, n) {
    body.max_tokens = n;
  },
  // Anthropic streams always carry usage (message_start and message_delta).
  askForStreamUsage: () => true,

  usageFromBody(json): ReportedUsage {
    const u = json.usage;
    if (!isObject(u)) return { inputTokens: null, outputTokens: null };
    return { inputTokens: inputTokens(u), outputTokens: tokenCount(u.output_tokens) };
  },
  readStreamEvent(json, reading: StreamReading) {
    switch (json.type) {
      case "message_start": {
        const message = json.message;
        const u = isObject(message) ? message.usage : undefined;
        if (isObject(u)) {
          reading.usage.inputTokens = inputTokens(u);
          if (u.output_tokens !== undefined) reading.usage.outputTokens = tokenCount(u.output_tokens);
        }
        break;
      }
      case "content_block_delta":
        reading.deltas++;
        reading.firstTokenAt ??= performance.now();
        break;
      case "message_delta": {
        // The final counts: output always, input when the upstream revises it (the larger of the two reports stands).
        const u = json.usage;
        if (!isObject(u)) break;
        if (u.output_tokens !== undefined) reading.usage.outputTokens = tokenCount(u.output_tokens);
        if (u.input_tokens !== undefined) {
          const input = inputTokens(u);
          reading.usage.inputTokens = input === null ? null : Math.max(reading.usage.inputTokens ?? 0, input);
        }
        break;
      }
    }
    return true;
  },
  renameModel(json, publicModel) {
    if (typeof json.model === "string") {
      json.model = publicModel;
      return true;
    }
    const message = json.message as Json | undefined;
    if (!message || typeof message.model !== "string") return false;
    message.model = publicModel;
    return true;
  },

  errorBody: (status: number, _code: GatewayErrorCode, message: string) => ({ type: "error", error: { type: ERROR_TYPE[status] ?? "api_error", message } }),
  // What @anthropic-ai/sdk reads: {"type": "error", "error": {"type": …, "message": …}}.
  isErrorBody: (json) => isObject(json) && json.type === "error" && isObject(json.error) && typeof json.error.message === "string",

  echo(a, stream) {
    const stop = a.truncated ? "max_tokens" : "end_turn";
    const message = { id: `msg_${a.id}`, type: "message", role: "assistant", model: a.model, stop_sequence: null };
    if (!stream)
      return {
        json: {
          ...message,
          content: [{ type: "text", text: a.text }],
          stop_reason: stop,
          usage: { input_tokens: a.inputTokens, output_tokens: a.words.length },
        },
      };
    const event = (type: string, data: Json) => sseEvent({ type, ...data }, type);
    const events = [
      event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: a.inputTokens, output_tokens: 1 } } }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ];
    a.words.forEach((w, i) => events.push(event("content_block_delta", { index: 0, delta: { type: "text_delta", text: i ? ` ${w}` : w } })));
    events.push(event("content_block_stop", { index: 0 }));
    events.push(event("message_delta", { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: a.words.length } }));
    events.push(event("message_stop", {}));
    return { events };
  },
};
