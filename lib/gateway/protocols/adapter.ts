import type { IncomingMessage } from "node:http";
import type { Env } from "@/lib/env";
import type { ModelKind, Protocol } from "@/lib/models/catalogue";

/**
 * What differs between the inference protocols Keygate speaks, behind one
 * interface: everything outside lib/gateway/protocols/ asks the request's
 * adapter instead of branching on the protocol's name. An adapter reads a
 * request (its model, its output cap), writes the cap Keygate grants, finds
 * the usage in an answer (a whole body or a stream's events), and speaks the
 * protocol's error shape. It knows nothing of keys, limits or money.
 */

export type Json = Record<string, unknown>;

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * Usage as an upstream reports it: each count a whole number of tokens, zero
 * or more, or null where the upstream sent none or sent something that is not
 * a count (negative, fractional, not a number). Whether a count is plausible
 * for the request is the proxy's question (lib/gateway/proxy.ts).
 */
export interface ReportedUsage {
  inputTokens: number | null;
  outputTokens: number | null;
}

/** Our reasons, mapped to each protocol's error vocabulary. */
export type GatewayErrorCode =
  | "invalid_request"
  | "unsupported_parameter"
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
  | "upstream_unavailable"
  | "store_unavailable"
  | "internal_error";

/** Where an upstream is and the credentials it wants (never the client's key). */
export interface UpstreamTarget {
  url: string;
  headers: Record<string, string>;
}

/** What a stream has shown so far, as the adapter reads it event by event. */
export interface StreamReading {
  usage: { inputTokens: number | null; outputTokens: number | null };
  /** Output deltas seen (each is at least one token). */
  deltas: number;
  firstTokenAt: number | null;
}

/** The demo model's answer, rendered in the protocol's shape (lib/gateway/echo.ts). */
export interface EchoAnswer {
  model: string;
  id: string;
  text: string;
  words: string[];
  truncated: boolean;
  inputTokens: number;
  /** The request as the client sent it (model renamed): what an adapter that answers from more than the last user message reads (embeddings' `input`). */
  request: Json;
}

/** What a client's API is: an upstream protocol, or the Responses API (a client's API only, always translated). */
export type ClientProtocol = Protocol | "responses";

export interface ProtocolAdapter {
  readonly protocol: ClientProtocol;
  /** Its name for people, e.g. "OpenAI". */
  readonly label: string;
  /** The path its clients POST to, e.g. /v1/chat/completions. */
  readonly path: string;
  /** Whether an unserved /v1 path is this protocol's (its 404 then comes in this shape). */
  owns(path: string): boolean;
  /**
   * The kind of catalogue model this endpoint serves (absent: `chat`). A
   * model of another kind is refused with 400 naming the endpoint it belongs on.
   */
  readonly modelKind?: ModelKind;

  /** The upstream the environment configures for this protocol, or null (no URL and no key set). */
  envUpstream(env: Env): UpstreamTarget | null;
  /** An upstream of this protocol at `baseUrl` (the SDK's convention: OpenAI's with /v1, Anthropic's without), with its key and extra headers. */
  target(baseUrl: string, apiKey: string | null, headers: Record<string, string>): UpstreamTarget;
  /** The upstream's model list at `baseUrl`: a cheap, read-only request that proves the URL, the key and the headers ("Test connection"). */
  modelList(baseUrl: string, apiKey: string | null, headers: Record<string, string>): UpstreamTarget;
  /** How this protocol's base URLs look, for a person whose URL answered 404. */
  readonly baseUrlConvention: string;
  /** How an operator configures that upstream, for a message. */
  readonly upstreamSettings: string;
  /** Client headers passed on upstream (protocol versions and features). */
  forwardedHeaders(req: IncomingMessage): Record<string, string>;

  /** A sentence for a 400 when the body is not a request of this protocol, or null. */
  invalid(body: Json): string | null;
  /**
   * The client's own output cap, or null when it set none; 0 for an endpoint
   * that generates no tokens (embeddings): admission then reserves the
   * prompt alone, and no output is ever charged.
   */
  requestedMaxTokens(body: Json): number | null;
  /** Sets the output cap sent upstream (in the field the client used, if any). */
  setMaxTokens(body: Json, n: number): void;
  /**
   * For a streamed request: asks the upstream to report usage in the stream
   * if the protocol needs asking, and returns whether the client itself asked
   * (otherwise the usage Keygate asked for is not passed on).
   */
  askForStreamUsage(body: Json): boolean;

  /** Usage from a complete (non-streamed) answer; a count that is missing or not a count is null. */
  usageFromBody(json: Json): ReportedUsage;
  /**
   * Reads one stream event's JSON into `reading`; returns false to drop the
   * event (the usage-only event Keygate asked for on the client's behalf).
   */
  readStreamEvent(json: Json, reading: StreamReading, clientWantsUsage: boolean): boolean;
  /** Writes the public model name over the upstream's, in a body or a stream event; false if the JSON names none. */
  renameModel(json: Json, publicModel: string): boolean;

  /** The protocol's error body. */
  errorBody(status: number, code: GatewayErrorCode, message: string): unknown;
  /** Whether an upstream's error answer is already in the protocol's error shape (the SDKs can read it), so it is passed on as sent. */
  isErrorBody(json: unknown): boolean;
  /** The demo model's answer: a JSON body, or a stream's events (each a complete SSE event). */
  echo(answer: EchoAnswer, stream: boolean, wantsUsage: boolean): { json: unknown } | { events: string[] };
}

/** One SSE event, as written on the wire. */
export function sseEvent(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** A JSON object (not an array, not null): what an upstream's usage or error must be before its fields are read. */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A positive whole number of tokens. */
export function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

/** A count of tokens as an upstream may report it: a whole number, zero or more (and small enough to add up exactly). Anything else is null. */
export function tokenCount(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : null;
}
