import type { IncomingMessage } from "node:http";
import { isCount, isObject, tokenCount, type Json, type ProtocolAdapter, type ReportedUsage, type StreamReading } from "@/lib/gateway/protocols/adapter";
import { openai } from "@/lib/gateway/protocols/openai";
import { parseSseEvent } from "@/lib/gateway/translate/compose";
import { responsesToChat } from "@/lib/gateway/translate/responses-to-chat";

/**
 * The OpenAI Responses API (`POST /v1/responses`), stateless, as a client's
 * API only: no upstream is reached in it. Every route gets Chat Completions
 * (or, through it, Anthropic Messages) from lib/gateway/translate/, so the
 * upstream-facing methods here only serve the demo model, which answers in
 * Chat Completions and is translated like any route. Errors are OpenAI's.
 */

export const responses: ProtocolAdapter = {
  protocol: "responses",
  label: "OpenAI Responses",
  path: "/v1/responses",
  owns: (path) => path.startsWith("/v1/responses"),

  // Never an upstream's protocol: routes are reached through translators (protocols/index.ts pairing).
  upstreamSettings: "OPENAI_BASE_URL or OPENAI_API_KEY",
  envUpstream: () => null,
  target: (baseUrl, apiKey, headers) => openai.target(baseUrl, apiKey, headers),
  modelList: (baseUrl, apiKey, headers) => openai.modelList(baseUrl, apiKey, headers),
  baseUrlConvention: openai.baseUrlConvention,
  forwardedHeaders: (req: IncomingMessage) => openai.forwardedHeaders(req),

  invalid(body) {
    if (typeof body.model !== "string" || !body.model) return "The request needs a 'model': one of the names GET /v1/models lists.";
    const input = body.input;
    if (typeof input === "string" ? !input : !Array.isArray(input) || input.length === 0)
      return "The request needs an 'input': a string, or a non-empty array of input items (messages, function calls and their outputs).";
    if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== "string") return "'instructions' must be a string.";
    const v = body.max_output_tokens;
    if (v !== undefined && v !== null && !isCount(v)) return "'max_output_tokens' must be a positive whole number of tokens.";
    return null;
  },
  requestedMaxTokens: (body) => (isCount(body.max_output_tokens) ? body.max_output_tokens : null),
  setMaxTokens(body, n) {
    body.max_output_tokens = n;
  },
  // A Responses stream always ends with the usage (response.completed).
  askForStreamUsage: () => true,

  usageFromBody(json): ReportedUsage {
    const u = json.usage;
    if (!isObject(u)) return { inputTokens: null, outputTokens: null };
    return { inputTokens: tokenCount(u.input_tokens), outputTokens: tokenCount(u.output_tokens) };
  },
  readStreamEvent(json, reading: StreamReading) {
    const type = json.type;
    if (type === "response.output_text.delta" || type === "response.function_call_arguments.delta" || type === "response.refusal.delta") {
      reading.deltas++;
      reading.firstTokenAt ??= performance.now();
    } else if ((type === "response.completed" || type === "response.incomplete") && isObject(json.response)) {
      const usage = responses.usageFromBody(json.response);
      reading.usage.inputTokens = usage.inputTokens;
      reading.usage.outputTokens = usage.outputTokens;
    }
    return true;
  },
  renameModel(json, publicModel) {
    const target = isObject(json.response) ? json.response : json;
    if (typeof target.model !== "string") return false;
    target.model = publicModel;
    return true;
  },

  errorBody: (status, code, message) => openai.errorBody(status, code, message),
  isErrorBody: (json) => openai.isErrorBody(json),

  echo(a, stream) {
    // The demo model answers in Chat Completions, translated as any route's answer is.
    const ctx = { model: a.model, maxOutputTokens: a.words.length };
    const chat = openai.echo(a, stream, true);
    if ("json" in chat) return { json: responsesToChat.response(chat.json as Json, ctx) };
    const translator = responsesToChat.stream(ctx, true);
    const events = chat.events.flatMap((e) => translator.event(parseSseEvent(e)));
    return { events: [...events, ...translator.end(true)] };
  },
};
