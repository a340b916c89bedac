import { type Json, isObject, tokenCount } from "@/lib/gateway/protocols/adapter";
import { anthropic } from "@/lib/gateway/protocols/anthropic";
import { openai } from "@/lib/gateway/protocols/openai";

/**
 * What the Chat Completions ↔ Anthropic Messages translators share: reading
 * loosely typed JSON, the two usage vocabularies, stop reasons, and error
 * bodies. Everything here is pure.
 */

/** The value as an array of objects (anything else in it skipped), or [] when it is not an array. */
export function objects(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The value when it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A field a client sent: present and not null (an explicit null means "the default" in both protocols). */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Seconds since the epoch, as `created` fields carry it. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Tool-call arguments (a JSON string) as the object Anthropic's `tool_use.input`
 * wants, or null when they are not a JSON object. An empty string is `{}`
 * (some clients send it for a tool without parameters).
 */
export function parseArguments(args: unknown): Json | null {
  if (args === undefined || args === null || args === "") return {};
  if (typeof args !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Thrown while a request is mapped, deep in its messages, to refuse it: the
 * field it names (e.g. `messages[2].content[0]`) would change the answer and
 * cannot be carried. Each translator's `request` catches it once and answers
 * `{unsupported, message}`.
 */
export class Unsupported extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------- usage ----------

/**
 * Anthropic usage as Chat Completions usage. Anthropic reports cache writes
 * and cache reads beside `input_tokens`; every one of them is a prompt token
 * (lib/gateway/protocols/anthropic.ts meters them so), so `prompt_tokens` is
 * their sum and `cached_tokens` the reads within it.
 */
export function chatUsageFromAnthropic(u: unknown): Json {
  const usage = isObject(u) ? u : {};
  const read = tokenCount(usage.cache_read_input_tokens) ?? 0;
  const prompt = (tokenCount(usage.input_tokens) ?? 0) + (tokenCount(usage.cache_creation_input_tokens) ?? 0) + read;
  const completion = tokenCount(usage.output_tokens) ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: read } };
}

/**
 * Chat Completions usage as Anthropic usage: the cached tokens, which OpenAI
 * counts inside `prompt_tokens`, move to `cache_read_input_tokens`, so that
 * input + cache reads + cache writes is `prompt_tokens` again (counted once).
 */
export function anthropicUsageFromChat(u: unknown): Json {
  const usage = isObject(u) ? u : {};
  const prompt = tokenCount(usage.prompt_tokens) ?? 0;
  const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const cached = Math.min(tokenCount(details.cached_tokens) ?? 0, prompt);
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: tokenCount(usage.completion_tokens) ?? 0,
  };
}

// ---------- stop reasons ----------

/** Anthropic's stop reason as Chat Completions' finish reason; any tool call makes it "tool_calls" (the client runs tools only then). */
export function finishReasonFromStop(stopReason: unknown, hasToolCalls: boolean): string {
  if (hasToolCalls) return "tool_calls";
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/**
 * Chat Completions' finish reason as Anthropic's stop reason. Any tool call
 * makes it "tool_use": a client told "end_turn" beside tool calls never runs
 * them (LiteLLM #34692).
 */
export function stopReasonFromFinish(finishReason: unknown, hasToolCalls: boolean): string {
  if (hasToolCalls) return "tool_use";
  switch (finishReason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

// ---------- errors ----------

/** The message and type in an error body of either protocol (`{error:{message,type}}`, Anthropic's `{type:"error", error:{…}}`, or `{message}`). */
function errorParts(json: unknown): { message: string | undefined; type: string | undefined } {
  if (!isObject(json)) return { message: undefined, type: undefined };
  const inner = isObject(json.error) ? json.error : json;
  const message = str(inner.message) ?? (typeof json.error === "string" ? json.error : undefined);
  return { message: message || undefined, type: str(inner.type) ?? str(inner.code) };
}

function fallbackMessage(status: number): string {
  return `The model's upstream answered with status ${status} and no error message.`;
}

/** An upstream's error (any shape) in Chat Completions' shape, the upstream's own error type kept as `code`. */
export function chatError(json: unknown, status: number): Json {
  const { message, type } = errorParts(json);
  const body = openai.errorBody(status, "upstream_error", message ?? fallbackMessage(status)) as { error: Json };
  return { error: { ...body.error, code: type ?? "upstream_error" } };
}

/** An upstream's error (any shape) in Anthropic's shape, typed by its status as Keygate types its own errors. */
export function anthropicError(json: unknown, status: number): Json {
  const { message } = errorParts(json);
  return anthropic.errorBody(status, "upstream_error", message ?? fallbackMessage(status)) as Json;
}
