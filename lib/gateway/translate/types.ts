import type { Json } from "@/lib/gateway/protocols/adapter";

/**
 * The seam between a client's API and a route's protocol when they differ
 * (PRODUCT.md, "Protocols: any SDK, any model"). A translator turns the
 * client's request into the route's, and the route's answer (a whole body,
 * a stream's events, an error) back into the client's. Translators are pure:
 * no I/O, no keys, no money. Usage is metered on the route's side, by the
 * route's protocol adapter, before an answer is translated; a translated
 * answer carries the same counts in the client's vocabulary (cached input
 * tokens counted once), so a translated request costs what it would cost
 * untranslated.
 *
 * Translators compose: a client of the Responses API on an Anthropic route is
 * Responses → Chat Completions → Anthropic Messages.
 */

export interface TranslateContext {
  /** The public model name the client asked for (answers carry it). */
  model: string;
  /** The model's output cap, for a protocol that requires one (Anthropic's `max_tokens`) when the client sent none. */
  maxOutputTokens: number;
  /**
   * The client's request as it sent it (before translation), for a client's
   * protocol whose answers echo the request: a Responses API `response`
   * carries the request's `instructions`, `tools`, `tool_choice`,
   * `temperature`… Without it those come back as a stateless server's
   * defaults. Translators that do not echo the request ignore it.
   */
  request?: Json;
}

/**
 * The route's request, with the client's fields that have no equivalent and do
 * not change the answer (listed in `x-keygate-dropped-params`, by the client's
 * field names, in the order met); or a refusal naming the one field that would
 * change the answer and cannot be carried (400 `unsupported_parameter`).
 */
export type RequestTranslation = { body: Json; dropped: string[] } | { unsupported: string; message: string };

/** One upstream server-sent event, as parsed: its `event:` name, its JSON data (null when the data is not JSON, e.g. `[DONE]`), and the raw data. */
export interface UpstreamEvent {
  event: string | undefined;
  json: Json | null;
  data: string;
}

/**
 * Translates one stream, event by event, holding what it must between events
 * (open content blocks, tool-call indexes, the usage seen). Each call returns
 * the client's events, each a complete SSE event ready to write
 * (`event: …\ndata: …\n\n`), possibly none.
 */
export interface StreamTranslator {
  event(e: UpstreamEvent): string[];
  /**
   * The upstream's stream ended: the closing events the client's protocol
   * needs (`[DONE]`, `message_stop`…) when `complete`; nothing when it was cut
   * off or aborted (`complete` false), so the client sees an incomplete stream
   * once the proxy breaks the connection, never a complete-looking one.
   */
  end(complete: boolean): string[];
}

export interface Translator {
  /** The client's request (already validated by the client's adapter) as the route's. */
  request(body: Json, ctx: TranslateContext): RequestTranslation;
  /** The route's whole answer (a 2xx JSON body) as the client's. */
  response(json: Json, ctx: TranslateContext): Json;
  /** A stream translator for one request; `clientWantsUsage`: the client asked for usage in the stream (OpenAI's `stream_options.include_usage`). */
  stream(ctx: TranslateContext, clientWantsUsage: boolean): StreamTranslator;
  /** The route's error body (any JSON, or null when it was not JSON) as the client's error body, keeping the message. */
  error(json: unknown, status: number): Json;
}
