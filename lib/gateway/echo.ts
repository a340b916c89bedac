import crypto from "node:crypto";
import type { Protocol } from "@/lib/models/catalogue";
import { estimateTokens } from "@/lib/gateway/protocols";

/**
 * The built-in demo model, keygate/echo: it answers in process, in either
 * protocol, streaming or not, with the words of the last user message. It
 * goes through the same metering, limits and usage records as a real
 * upstream, so `npm start` with no upstream configured shows the whole loop.
 * It looks like an upstream response to the gateway (status, headers, body).
 * A stream paces its words like a real model (25 ms apart), so a demo shows
 * streaming, and a subscription key's one-request-at-a-time rule can be seen.
 */

const WORD_INTERVAL_MS = 25;

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array>;
}

type Json = Record<string, unknown>;

function lastUserText(body: Json): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role !== "user") continue;
    const content = messages[i].content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content
        .map((part) => (part && typeof part === "object" && typeof (part as Json).text === "string" ? (part as Json).text : ""))
        .join(" ");
    }
  }
  return "";
}

export function echoResponse(protocol: Protocol, body: Json, maxTokens: number, promptBytes: number): UpstreamResponse {
  const said = lastUserText(body).trim().split(/\s+/).filter(Boolean);
  const words = ["Echo:", ...said].slice(0, Math.max(1, maxTokens));
  const truncated = said.length + 1 > words.length;
  const inputTokens = estimateTokens(promptBytes);
  const model = typeof body.model === "string" ? body.model : "keygate/echo";
  const id = crypto.randomUUID().replaceAll("-", "");
  const stream = body.stream === true;
  const wantsUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  const text = words.join(" ");
  const events: string[] = [];
  let json: unknown;
  if (protocol === "openai") {
    const base = { id: `chatcmpl-${id}`, created: Math.floor(Date.now() / 1000), model };
    const usage = { prompt_tokens: inputTokens, completion_tokens: words.length, total_tokens: inputTokens + words.length };
    const finish = truncated ? "length" : "stop";
    if (!stream) {
      json = { ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: finish, logprobs: null }], usage };
    } else {
      const chunk = (choices: unknown[], extra: Json = {}) => `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra })}\n\n`;
      events.push(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
      words.forEach((w, i) => events.push(chunk([{ index: 0, delta: { content: i ? ` ${w}` : w }, finish_reason: null }])));
      events.push(chunk([{ index: 0, delta: {}, finish_reason: finish }]));
      if (wantsUsage) events.push(chunk([], { usage }));
      events.push("data: [DONE]\n\n");
    }
  } else {
    const stop = truncated ? "max_tokens" : "end_turn";
    const message = { id: `msg_${id}`, type: "message", role: "assistant", model, stop_sequence: null };
    if (!stream) {
      json = { ...message, content: [{ type: "text", text }], stop_reason: stop, usage: { input_tokens: inputTokens, output_tokens: words.length } };
    } else {
      const event = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
      events.push(event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } }));
      events.push(event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
      words.forEach((w, i) => events.push(event("content_block_delta", { index: 0, delta: { type: "text_delta", text: i ? ` ${w}` : w } })));
      events.push(event("content_block_stop", { index: 0 }));
      events.push(event("message_delta", { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: words.length } }));
      events.push(event("message_stop", {}));
    }
  }
  const encoder = new TextEncoder();
  if (!stream) {
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: once(encoder.encode(JSON.stringify(json))) };
  }
  return { statusCode: 200, headers: { "content-type": "text/event-stream" }, body: each(events.map((e) => encoder.encode(e))) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function* each(chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const [i, c] of chunks.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, WORD_INTERVAL_MS));
    yield c;
  }
}
