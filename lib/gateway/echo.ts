import crypto from "node:crypto";
import { estimateTokens, type Json, type ProtocolAdapter } from "@/lib/gateway/protocols";
import type { UpstreamResponse } from "@/lib/gateway/upstreams";

/**
 * The built-in demo model, keygate/echo: it answers in process, in either
 * protocol (each adapter renders it), streaming or not, with the words of the
 * last user message. It goes through the same metering, limits and usage
 * records as a real upstream, so `npm start` with no upstream configured
 * shows the whole loop. It looks like an upstream response to the gateway
 * (status, headers, body). A stream paces its words like a real model (25 ms
 * apart), so a demo shows streaming, and a subscription key's
 * one-request-at-a-time rule can be seen. keygate/echo-embedding is its
 * counterpart on /v1/embeddings (the embeddings adapter makes its vectors).
 */

const WORD_INTERVAL_MS = 25;

/** The last user message's text: in `messages` (Chat Completions, Anthropic), or in `input` (the Responses API: a string, or items). */
function lastUserText(body: Json): string {
  if (typeof body.input === "string") return body.input;
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : Array.isArray(body.input) ? (body.input as Json[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role !== "user") continue;
    const content = messages[i].content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content.map((part) => (part && typeof part === "object" && typeof (part as Json).text === "string" ? (part as Json).text : "")).join(" ");
    }
  }
  return "";
}

export function echoResponse(adapter: ProtocolAdapter, body: Json, maxTokens: number, promptBytes: number): UpstreamResponse {
  const said = lastUserText(body).trim().split(/\s+/).filter(Boolean);
  const words = ["Echo:", ...said].slice(0, Math.max(1, maxTokens));
  const stream = body.stream === true;
  const answer = adapter.echo(
    {
      model: typeof body.model === "string" ? body.model : "keygate/echo",
      id: crypto.randomUUID().replaceAll("-", ""),
      text: words.join(" "),
      words,
      truncated: said.length + 1 > words.length,
      inputTokens: estimateTokens(promptBytes),
      request: body,
    },
    stream,
    (body.stream_options as Json | undefined)?.include_usage === true,
  );
  const encoder = new TextEncoder();
  if ("json" in answer) return { statusCode: 200, headers: { "content-type": "application/json" }, body: once(encoder.encode(JSON.stringify(answer.json))) };
  return { statusCode: 200, headers: { "content-type": "text/event-stream" }, body: paced(answer.events.map((e) => encoder.encode(e))) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function* paced(chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const [i, c] of chunks.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, WORD_INTERVAL_MS));
    yield c;
  }
}
