import { type Json, isObject, sseEvent } from "@/lib/gateway/protocols/adapter";
import {
  anthropicError,
  anthropicUsageFromChat,
  objects,
  parseArguments,
  present,
  str,
  stopReasonFromFinish,
  Unsupported,
} from "@/lib/gateway/translate/common";
import type { RequestTranslation, StreamTranslator, TranslateContext, Translator, UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * The client speaks Anthropic Messages, the route speaks OpenAI Chat
 * Completions. The request becomes a chat completion request (the system
 * prompt a first system message, tool results `tool` messages, tool uses
 * `tool_calls`); the answer, whole or streamed, becomes an Anthropic message.
 *
 * `dropped` names: a top-level field by its name (`thinking`, `top_k`, …); a
 * server tool Anthropic runs itself (web search, bash, the text editor…),
 * which an OpenAI upstream cannot, as `tools:<its type>`, e.g.
 * `tools:web_search_20250305`.
 */

// ---------- request ----------

/** Fields mapped below; any other top-level field is dropped and listed. */
const HANDLED = new Set(["model", "messages", "system", "max_tokens", "stream", "stop_sequences", "temperature", "top_p", "tools", "tool_choice"]);

/** Anthropic content (a string or blocks) as plain text: its text blocks joined. */
function plainText(content: unknown, separator = ""): string {
  if (typeof content === "string") return content;
  return objects(content)
    .filter((b) => b.type === "text")
    .map((b) => str(b.text) ?? "")
    .join(separator);
}

/** An image block as an `image_url` part: base64 data as a `data:` URL, a URL as itself. */
function imagePart(block: Json, where: string): Json {
  const source = isObject(block.source) ? block.source : {};
  if (source.type === "base64") return { type: "image_url", image_url: { url: `data:${str(source.media_type) ?? ""};base64,${str(source.data) ?? ""}` } };
  if (source.type === "url") return { type: "image_url", image_url: { url: str(source.url) ?? "" } };
  throw new Unsupported(
    where,
    `An image from a '${String(source.type)}' source (${where}) has no equivalent on this model's OpenAI upstream; send it base64-encoded or by URL.`,
  );
}

/** A document block: a PDF (base64) as a `file` part, plain text as text. */
function documentPart(block: Json, where: string): Json {
  const source = isObject(block.source) ? block.source : {};
  if (source.type === "base64")
    return {
      type: "file",
      file: { filename: str(block.title) ?? "document.pdf", file_data: `data:${str(source.media_type) ?? ""};base64,${str(source.data) ?? ""}` },
    };
  if (source.type === "text") return { type: "text", text: str(source.data) ?? "" };
  throw new Unsupported(
    where,
    `A document from a '${String(source.type)}' source (${where}) has no equivalent on this model's OpenAI upstream; send it base64-encoded or as text.`,
  );
}

/** One user content block as a Chat Completions content part. */
function userPart(block: Json, where: string): Json {
  switch (block.type) {
    case "text":
      return { type: "text", text: str(block.text) ?? "" };
    case "image":
      return imagePart(block, where);
    case "document":
      return documentPart(block, where);
    default:
      throw new Unsupported(where, `A '${String(block.type)}' block (${where}) has no equivalent on this model's OpenAI upstream.`);
  }
}

/** User content parts as a message's content: one text part as a plain string, anything else as parts. */
function partsContent(parts: Json[]): string | Json[] {
  return parts.length === 1 && parts[0].type === "text" ? (parts[0].text as string) : parts;
}

/**
 * A user message as Chat Completions messages: its `tool_result` blocks first,
 * one `tool` message each in order, then the rest of its content as one user
 * message. Images inside a tool result (a `tool` message carries text only)
 * follow in that user message, in order.
 */
function userMessages(content: unknown, where: string): Json[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const out: Json[] = [];
  const parts: Json[] = [];
  objects(content).forEach((block, j) => {
    const at = `${where}.content[${j}]`;
    if (block.type !== "tool_result") return void parts.push(userPart(block, at));
    out.push({ role: "tool", tool_call_id: str(block.tool_use_id) ?? "", content: plainText(block.content) });
    objects(block.content).forEach((inner, k) => {
      if (inner.type === "image") parts.push(imagePart(inner, `${at}.content[${k}]`));
    });
  });
  if (parts.length) out.push({ role: "user", content: partsContent(parts) });
  return out;
}

/** An assistant message: its text joined, its `tool_use` blocks as `tool_calls` (ids kept); thinking is history the route cannot read, left out. */
function assistantMessage(content: unknown): Json {
  if (typeof content === "string") return { role: "assistant", content };
  const blocks = objects(content);
  const calls = blocks
    .filter((b) => b.type === "tool_use")
    .map((b) => ({
      id: str(b.id) ?? "",
      type: "function",
      function: { name: str(b.name) ?? "", arguments: JSON.stringify(isObject(b.input) ? b.input : {}) },
    }));
  const text = plainText(blocks);
  // Content may be null beside tool calls only (a turn that was all thinking is an empty text).
  const message: Json = { role: "assistant", content: text || (calls.length ? null : "") };
  if (calls.length) message.tool_calls = calls;
  return message;
}

/** The system prompt and the conversation as Chat Completions messages (system entries inside `messages` kept in place). */
function conversation(body: Json): Json[] {
  const out: Json[] = [];
  if (present(body.system)) out.push({ role: "system", content: plainText(body.system, "\n\n") });
  objects(body.messages).forEach((m, i) => {
    const where = `messages[${i}]`;
    if (m.role === "system") out.push({ role: "system", content: plainText(m.content, "\n\n") });
    else if (m.role === "assistant") out.push(assistantMessage(m.content));
    else out.push(...userMessages(m.content, where));
  });
  return out;
}

/** A custom tool: one whose `type` is absent or "custom". Any other type is a server tool Anthropic runs itself. */
const isCustomTool = (t: Json) => t.type === undefined || t.type === null || t.type === "custom";

/** Custom tools as function tools; server tools dropped, and listed as `tools:<type>`. */
function tools(list: Json[], dropped: string[]): Json[] {
  const out: Json[] = [];
  for (const t of list) {
    if (!isCustomTool(t)) {
      dropped.push(`tools:${String(t.type)}`);
      continue;
    }
    const fn: Json = { name: str(t.name) ?? "", parameters: isObject(t.input_schema) ? t.input_schema : { type: "object", properties: {} } };
    if (typeof t.description === "string") fn.description = t.description;
    out.push({ type: "function", function: fn });
  }
  return out;
}

/** `tool_choice` as Chat Completions' `tool_choice` and `parallel_tool_calls`. */
function toolChoice(choice: Json, out: Json): void {
  if (choice.type === "auto") out.tool_choice = "auto";
  else if (choice.type === "any") out.tool_choice = "required";
  else if (choice.type === "none") out.tool_choice = "none";
  else if (choice.type === "tool") out.tool_choice = { type: "function", function: { name: str(choice.name) ?? "" } };
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

/** A forced tool that was dropped (a server tool): refused, since the answer would be a different one. */
function forcesDroppedTool(body: Json, kept: Json[]): string | null {
  const choice = body.tool_choice;
  if (!isObject(choice) || choice.type !== "tool") return null;
  const name = str(choice.name) ?? "";
  return kept.some((t) => isObject(t.function) && t.function.name === name) ? null : name;
}

function request(body: Json): RequestTranslation {
  const dropped: string[] = [];
  const out: Json = { model: body.model };
  try {
    out.messages = conversation(body);
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.field, message: e.message };
    throw e;
  }
  if (typeof body.max_tokens === "number") out.max_tokens = body.max_tokens;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  for (const field of ["temperature", "top_p"]) if (typeof body[field] === "number") out[field] = body[field];
  const kept = tools(objects(body.tools), dropped);
  const forced = forcesDroppedTool(body, kept);
  if (forced !== null)
    return {
      unsupported: "tool_choice",
      message: `'tool_choice' forces '${forced}', a tool this model's OpenAI upstream cannot run; let the model choose, or force one of its function tools.`,
    };
  if (kept.length) {
    out.tools = kept;
    if (isObject(body.tool_choice)) toolChoice(body.tool_choice, out);
  }
  if (body.stream === true) {
    out.stream = true;
    // The route must report usage in the stream: it is metered, and the client's message_delta carries it.
    out.stream_options = { include_usage: true };
  }
  for (const [field, value] of Object.entries(body)) if (!HANDLED.has(field) && present(value)) dropped.push(field);
  return { body: out, dropped };
}

// ---------- whole answers ----------

/** Tool calls as `tool_use` blocks, in order; arguments that are not a JSON object become `{}`. */
function toolUseBlocks(calls: Json[]): Json[] {
  return calls.map((c) => {
    const fn = isObject(c.function) ? c.function : {};
    return { type: "tool_use", id: str(c.id) ?? "", name: str(fn.name) ?? "", input: parseArguments(fn.arguments) ?? {} };
  });
}

/** A Chat Completions id as an Anthropic message id. */
const messageId = (id: unknown) => `msg_${(str(id) ?? "").replace(/^chatcmpl-/, "")}`;

function response(json: Json, ctx: TranslateContext): Json {
  const choice = objects(json.choices)[0] ?? {};
  const message = isObject(choice.message) ? choice.message : {};
  const text = (str(message.content) ?? "") + (str(message.refusal) ?? "");
  const calls = objects(message.tool_calls);
  const content: Json[] = text ? [{ type: "text", text }] : [];
  content.push(...toolUseBlocks(calls));
  return {
    id: messageId(json.id),
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    stop_reason: stopReasonFromFinish(choice.finish_reason, calls.length > 0),
    stop_sequence: null,
    usage: anthropicUsageFromChat(json.usage),
  };
}

// ---------- streams ----------

/**
 * Chat Completions chunks as Anthropic events. Text opens a text block; each
 * tool call (by its `index`) opens a `tool_use` block at the next block index
 * the first time it is seen, and its argument fragments go to that block, so
 * interleaved parallel calls stay apart. The finish reason and the usage
 * chunk are held until `[DONE]` (or a complete end), which closes every open
 * block in index order and sends `message_delta` with the usage, then
 * `message_stop`. A stream cut short (`end(false)`) gets nothing more: the
 * proxy then breaks the connection, and the client sees an incomplete stream.
 */
class ChatToAnthropicStream implements StreamTranslator {
  private started = false;
  private done = false;
  private blocks = 0;
  private openText: number | null = null;
  /** Tool call index → its block index. */
  private readonly toolBlocks = new Map<number, number>();
  private readonly open = new Set<number>();
  private finishReason: unknown = null;
  private usage: unknown = undefined;

  constructor(private readonly ctx: TranslateContext) {}

  event(e: UpstreamEvent): string[] {
    if (this.done) return [];
    if (e.data.trim() === "[DONE]") return this.close();
    const json = e.json;
    if (!json) return [];
    if (present(json.error)) return this.fail(json.error);
    const out = this.start(json);
    if (isObject(json.usage)) this.usage = json.usage;
    const choice = objects(json.choices)[0];
    if (!choice) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    for (const text of [delta.content, delta.refusal]) if (typeof text === "string" && text) out.push(...this.text(text));
    for (const call of objects(delta.tool_calls)) out.push(...this.toolCall(call));
    if (present(choice.finish_reason)) this.finishReason = choice.finish_reason;
    return out;
  }

  end(complete: boolean): string[] {
    return this.done || !complete ? [] : this.close();
  }

  private emit(type: string, data: Json): string {
    return sseEvent({ type, ...data }, type);
  }

  private start(json: Json): string[] {
    if (this.started) return [];
    this.started = true;
    const message = {
      id: messageId(json.id),
      type: "message",
      role: "assistant",
      model: this.ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return [this.emit("message_start", { message })];
  }

  private text(text: string): string[] {
    const out: string[] = [];
    if (this.openText === null) {
      this.openText = this.blocks++;
      this.open.add(this.openText);
      out.push(this.emit("content_block_start", { index: this.openText, content_block: { type: "text", text: "" } }));
    }
    out.push(this.emit("content_block_delta", { index: this.openText, delta: { type: "text_delta", text } }));
    return out;
  }

  private stopBlock(index: number): string {
    this.open.delete(index);
    return this.emit("content_block_stop", { index });
  }

  private toolCall(call: Json): string[] {
    const out: string[] = [];
    const k = typeof call.index === "number" ? call.index : this.toolBlocks.size;
    const fn = isObject(call.function) ? call.function : {};
    let index = this.toolBlocks.get(k);
    if (index === undefined) {
      if (this.openText !== null) out.push(this.stopBlock(this.openText));
      this.openText = null;
      index = this.blocks++;
      this.toolBlocks.set(k, index);
      this.open.add(index);
      const block = { type: "tool_use", id: str(call.id) ?? `toolu_${k}`, name: str(fn.name) ?? "", input: {} };
      out.push(this.emit("content_block_start", { index, content_block: block }));
    }
    if (typeof fn.arguments === "string" && fn.arguments)
      out.push(this.emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: fn.arguments } }));
    return out;
  }

  private close(): string[] {
    this.done = true;
    const out = [...this.start({})];
    for (const index of [...this.open].sort((a, b) => a - b)) out.push(this.stopBlock(index));
    const stop_reason = stopReasonFromFinish(this.finishReason, this.toolBlocks.size > 0);
    out.push(this.emit("message_delta", { delta: { stop_reason, stop_sequence: null }, usage: anthropicUsageFromChat(this.usage) }));
    out.push(this.emit("message_stop", {}));
    return out;
  }

  /** An `{"error": …}` chunk as Anthropic's error event; the stream ends there. */
  private fail(error: unknown): string[] {
    this.done = true;
    const message = isObject(error) ? str(error.message) : str(error);
    return [this.emit("error", { error: { type: "api_error", message: message ?? "The model's upstream failed mid-stream." } })];
  }
}

export const messagesToChat: Translator = {
  request: (body) => request(body),
  response,
  stream: (ctx) => new ChatToAnthropicStream(ctx),
  error: anthropicError,
};
