import type { Protocol } from "@/lib/models/catalogue";

/**
 * What differs between the OpenAI Chat Completions and the Anthropic Messages
 * protocols, for a gateway that prices and meters them: the error shape, where
 * max_tokens lives, where usage is reported (body and stream), and what a
 * streamed output token looks like.
 */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Our reasons, mapped to each protocol's error vocabulary. */
export type GatewayErrorCode =
  | "invalid_request"
  | "invalid_api_key"
  | "insufficient_balance"
  | "budget_exceeded"
  | "outside_reserved_block"
  | "model_not_allowed"
  | "model_not_found"
  | "rate_limit_exceeded"
  | "concurrency_limit"
  | "request_too_large"
  | "upstream_error"
  | "upstream_timeout"
  | "store_unavailable"
  | "internal_error";

const ANTHROPIC_TYPE: Record<number, string> = {
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

const OPENAI_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

export function errorBody(protocol: Protocol, status: number, code: GatewayErrorCode, message: string): unknown {
  if (protocol === "anthropic") return { type: "error", error: { type: ANTHROPIC_TYPE[status] ?? "api_error", message } };
  return { error: { message, type: OPENAI_TYPE[status] ?? "api_error", param: null, code } };
}

type Json = Record<string, unknown>;

/** The client's own output cap, or null when it set none. */
export function requestedMaxTokens(protocol: Protocol, body: Json): number | null {
  const value = protocol === "openai" ? (body.max_completion_tokens ?? body.max_tokens) : body.max_tokens;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/** Sets the output cap sent upstream (in the field the client used, if any). */
export function setMaxTokens(protocol: Protocol, body: Json, n: number): void {
  if (protocol === "openai" && body.max_completion_tokens !== undefined) body.max_completion_tokens = n;
  else body.max_tokens = n;
}

/** Images are priced per image, not per byte of their URL: hold this many tokens for each. */
const TOKENS_PER_IMAGE = 2_000;

/**
 * An upper bound on the prompt's tokens. A token is at least one UTF-8 byte
 * of text, and the request body holds every byte of the prompt plus its JSON
 * framing (which more than covers the few tokens per message that chat
 * formats add), so the body's length bounds the text; images add a fixed
 * allowance each.
 */
export function promptTokenBound(bodyBytes: number, body: Json): number {
  let images = 0;
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      const type = (value as Json).type;
      if (type === "image_url" || type === "image" || type === "input_image" || type === "document") images++;
      else for (const v of Object.values(value as Json)) if (v && typeof v === "object") visit(v);
    }
  };
  visit(body.messages);
  return bodyBytes + images * TOKENS_PER_IMAGE;
}

/** A rough count for fair billing when an upstream never reports usage: about four bytes a token. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

/** Usage from a complete (non-streamed) response body. */
export function usageFromBody(protocol: Protocol, json: Json): Usage | null {
  const u = json.usage as Json | undefined;
  if (!u || typeof u !== "object") return null;
  if (protocol === "openai") {
    if (typeof u.prompt_tokens !== "number" || typeof u.completion_tokens !== "number") return null;
    return { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens };
  }
  if (typeof u.input_tokens !== "number" || typeof u.output_tokens !== "number") return null;
  return { inputTokens: anthropicInput(u), outputTokens: u.output_tokens };
}

function anthropicInput(u: Json): number {
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  return n(u.input_tokens) + n(u.cache_creation_input_tokens) + n(u.cache_read_input_tokens);
}

/**
 * Reads a server-sent event stream as it passes through: finds the usage,
 * counts output deltas (for a stream cut short, or an upstream that sends no
 * usage), notes the first token, and drops the usage chunk Keygate asked an
 * OpenAI upstream for when the client did not ask for it.
 */
export class StreamMeter {
  usage: { inputTokens: number | null; outputTokens: number | null } = { inputTokens: null, outputTokens: null };
  /** Output deltas seen (each is at least one token). */
  deltas = 0;
  firstTokenAt: number | null = null;
  private pending = "";
  private decoder = new TextDecoder();

  constructor(
    private protocol: Protocol,
    /** Forward OpenAI's usage chunk (the client asked for it). */
    private clientWantsUsage: boolean,
    /** The public model name, written over the upstream's name when they differ. */
    private publicModel: string,
    private upstreamModel: string,
  ) {}

  /** Takes a chunk of the upstream's bytes and returns what to send the client now. */
  push(chunk: Uint8Array): string {
    this.pending += this.decoder.decode(chunk, { stream: true });
    let out = "";
    let end: number;
    while ((end = this.pending.indexOf("\n\n")) >= 0) {
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      const forwarded = this.onEvent(event);
      if (forwarded !== null) out += forwarded + "\n\n";
    }
    return out;
  }

  /** What is left at the end of the stream (an unterminated last event). */
  end(): string {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    return rest;
  }

  private onEvent(event: string): string | null {
    const dataLine = event.split("\n").find((l) => l.startsWith("data:"));
    if (!dataLine) return event;
    const data = dataLine.slice(5).trim();
    if (data === "[DONE]" || !data.startsWith("{")) return event;
    let json: Json;
    try {
      json = JSON.parse(data) as Json;
    } catch {
      return event;
    }
    const keep = this.protocol === "openai" ? this.onOpenAi(json) : this.onAnthropic(json);
    if (!keep) return null;
    if (this.publicModel !== this.upstreamModel && renameModel(json, this.publicModel)) {
      return event.replace(dataLine, `data: ${JSON.stringify(json)}`);
    }
    return event;
  }

  private onOpenAi(json: Json): boolean {
    const choices = json.choices as Array<{ delta?: Json }> | undefined;
    const delta = choices?.[0]?.delta;
    if (delta && ((typeof delta.content === "string" && delta.content) || delta.tool_calls || (typeof delta.refusal === "string" && delta.refusal))) {
      this.deltas++;
      this.firstTokenAt ??= performance.now();
    }
    const u = json.usage as Json | null | undefined;
    if (u && typeof u === "object") {
      if (typeof u.prompt_tokens === "number") this.usage.inputTokens = u.prompt_tokens;
      if (typeof u.completion_tokens === "number") this.usage.outputTokens = u.completion_tokens;
      // The usage-only chunk Keygate asked for on the client's behalf.
      if (!this.clientWantsUsage && Array.isArray(choices) && choices.length === 0) return false;
    }
    return true;
  }

  private onAnthropic(json: Json): boolean {
    switch (json.type) {
      case "message_start": {
        const u = (json.message as Json | undefined)?.usage as Json | undefined;
        if (u) {
          this.usage.inputTokens = anthropicInput(u);
          if (typeof u.output_tokens === "number") this.usage.outputTokens = u.output_tokens;
        }
        break;
      }
      case "content_block_delta":
        this.deltas++;
        this.firstTokenAt ??= performance.now();
        break;
      case "message_delta": {
        const u = json.usage as Json | undefined;
        if (u && typeof u.output_tokens === "number") this.usage.outputTokens = u.output_tokens;
        if (u && typeof u.input_tokens === "number") this.usage.inputTokens = Math.max(this.usage.inputTokens ?? 0, anthropicInput(u));
        break;
      }
    }
    return true;
  }
}

/** Writes the public model name over the upstream's, in a body or a stream event. */
export function renameModel(json: Json, publicModel: string): boolean {
  if (typeof json.model === "string") {
    json.model = publicModel;
    return true;
  }
  const message = json.message as Json | undefined;
  if (message && typeof message.model === "string") {
    message.model = publicModel;
    return true;
  }
  return false;
}
