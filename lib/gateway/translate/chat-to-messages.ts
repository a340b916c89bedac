import { type Json, isObject, sseEvent, tokenCount } from "@/lib/gateway/protocols/adapter";
import {
  chatError,
  chatUsageFromAnthropic,
  finishReasonFromStop,
  nowSeconds,
  objects,
  parseArguments,
  present,
  str,
  Unsupported,
} from "@/lib/gateway/translate/common";
import type { RequestTranslation, StreamTranslator, TranslateContext, Translator, UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * The client speaks OpenAI Chat Completions, the route speaks Anthropic
 * Messages. The request becomes an Anthropic request (system messages to
 * `system`, tool results to `tool_result` blocks, consecutive messages of one
 * role merged, as Anthropic wants roles to alternate); the answer, whole or
 * streamed, becomes a chat completion.
 *
 * `dropped` names top-level fields by their Chat Completions names, in the
 * order the body lists them (`user`, `seed`, `parallel_tool_calls` when true…).
 * Explicit nulls are the defaults they stand for: neither listed nor refused.
 */

type Refusal = { unsupported: string; message: string };

// ---------- request ----------

/** Fields consumed with no trace: mapped below, or defaults that change nothing. */
const HANDLED = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "n",
  "logprobs",
  "top_logprobs",
  "response_format",
  "frequency_penalty",
  "presence_penalty",
  "logit_bias",
  "audio",
  "modalities",
  "prediction",
  "functions",
  "function_call",
]);

/** The request's fields that would change the answer and have no Anthropic equivalent: the first one met, as a refusal. */
function refusal(body: Json): Refusal | null {
  const why = (field: string, message: string): Refusal => ({ unsupported: field, message });
  if (typeof body.n === "number" && body.n > 1)
    return why("n", "'n' > 1 has no equivalent on this model's Anthropic upstream; send one request per completion.");
  if (body.logprobs === true) return why("logprobs", "'logprobs' has no equivalent on this model's Anthropic upstream; send the request without it.");
  if (typeof body.top_logprobs === "number" && body.top_logprobs > 0)
    return why("top_logprobs", "'top_logprobs' has no equivalent on this model's Anthropic upstream; send the request without it.");
  if (present(body.response_format) && !(isObject(body.response_format) && body.response_format.type === "text"))
    return why(
      "response_format",
      "'response_format' (JSON mode or a JSON schema) has no equivalent on this model's Anthropic upstream; describe the format in the prompt, or use a tool with the schema as its parameters.",
    );
  for (const field of ["frequency_penalty", "presence_penalty"])
    if (typeof body[field] === "number" && body[field] !== 0)
      return why(field, `'${field}' has no equivalent on this model's Anthropic upstream; send it as 0 or leave it out.`);
  if (isObject(body.logit_bias) && Object.keys(body.logit_bias).length > 0)
    return why("logit_bias", "'logit_bias' has no equivalent on this model's Anthropic upstream; send the request without it.");
  if (present(body.audio)) return why("audio", "'audio' (audio output) has no equivalent on this model's Anthropic upstream; ask for text only.");
  if (Array.isArray(body.modalities) && body.modalities.includes("audio"))
    return why("modalities", "'modalities' asking for audio has no equivalent on this model's Anthropic upstream; ask for text only.");
  if (present(body.prediction))
    return why("prediction", "'prediction' (predicted outputs) has no equivalent on this model's Anthropic upstream; send the request without it.");
  for (const field of ["functions", "function_call"])
    if (present(body[field]))
      return why(
        field,
        `'${field}' (the deprecated function calling) is not translated for this model's Anthropic upstream; send 'tools' and 'tool_choice' instead.`,
      );
  if (typeof body.temperature === "number" && body.temperature > 1)
    return why("temperature", "'temperature' above 1 has no equivalent on this model's Anthropic upstream (its range is 0 to 1); send a value from 0 to 1.");
  return null;
}

/** Advisory fields that are dropped: every field not handled, except `parallel_tool_calls: true` which is listed as the default it is. */
function droppedFields(body: Json): string[] {
  const dropped: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (!present(value)) continue;
    if (field === "parallel_tool_calls" ? value === true : !HANDLED.has(field)) dropped.push(field);
  }
  return dropped;
}

/** A Chat Completions text or string content as plain text (text parts joined), for system prompts and tool results. */
function plainText(content: unknown): string {
  if (typeof content === "string") return content;
  return objects(content)
    .map((p) => str(p.text) ?? str(p.refusal) ?? "")
    .join("");
}

/** An `image_url` part as an Anthropic image block: a base64 `data:` URL inline, any other URL by reference. */
function imageBlock(part: Json, where: string): Json {
  const image = part.image_url;
  const url = str(isObject(image) ? image.url : image);
  if (!url) throw new Unsupported(where, `'${where}.image_url.url' is missing.`);
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } };
  if (url.startsWith("data:")) throw new Unsupported(where, `'${where}' is a data URL that is not base64; send the image base64-encoded.`);
  return { type: "image", source: { type: "url", url } };
}

/** A user message's content (a string or parts) as Anthropic content blocks. */
function userBlocks(content: unknown, where: string): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return objects(content).map((part, j) => {
    const at = `${where}.content[${j}]`;
    if (part.type === "text") return { type: "text", text: str(part.text) ?? "" };
    if (part.type === "image_url") return imageBlock(part, at);
    throw new Unsupported(at, `A '${String(part.type)}' content part (${at}) has no equivalent on this model's Anthropic upstream; send text or images.`);
  });
}

/** An assistant message as Anthropic blocks: its text, then one `tool_use` block per tool call, ids kept. */
function assistantBlocks(m: Json, where: string): Json[] {
  const blocks: Json[] = [{ type: "text", text: plainText(m.content) }];
  objects(m.tool_calls).forEach((call, j) => {
    const fn = isObject(call.function) ? call.function : {};
    const input = parseArguments(fn.arguments);
    const at = `${where}.tool_calls[${j}].function.arguments`;
    if (!input) throw new Unsupported(at, `'${at}' must be a JSON object (as a string) for this model's Anthropic upstream.`);
    blocks.push({ type: "tool_use", id: str(call.id) ?? "", name: str(fn.name) ?? "", input });
  });
  return blocks;
}

/** A `tool` message as a `tool_result` block (a string result stays a string; text parts become text blocks). */
function toolResultBlock(m: Json): Json {
  const content = typeof m.content === "string" ? m.content : objects(m.content).map((p) => ({ type: "text", text: str(p.text) ?? "" }));
  return { type: "tool_result", tool_use_id: str(m.tool_call_id) ?? "", content };
}

/**
 * The conversation as Anthropic's `system` and `messages`: system and
 * developer messages (wherever they are) become system text blocks in order;
 * consecutive messages of one role merge into one (parallel tool results, and
 * the user text after them, form one user message, its tool results first);
 * empty text is left out, as Anthropic refuses empty text blocks.
 */
function conversation(messages: Json[]): { system: Json[]; messages: Json[] } {
  const system: Json[] = [];
  const turns: Array<{ role: string; content: Json[] }> = [];
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    let role = "user";
    let blocks: Json[];
    switch (m.role) {
      case "system":
      case "developer":
        system.push({ type: "text", text: plainText(m.content) });
        return;
      case "user":
        blocks = userBlocks(m.content, where);
        break;
      case "assistant":
        role = "assistant";
        blocks = assistantBlocks(m, where);
        break;
      case "tool":
        blocks = [toolResultBlock(m)];
        break;
      default:
        throw new Unsupported(`${where}.role`, `A '${String(m.role)}' message (${where}) is not translated for this model's Anthropic upstream.`);
    }
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  });
  const nonEmpty = (b: Json) => b.type !== "text" || b.text !== "";
  // Anthropic wants a user turn's tool results before anything else in it.
  const results = (b: Json) => b.type === "tool_result";
  const ordered = (blocks: Json[]) => [...blocks.filter(results), ...blocks.filter((b) => !results(b))];
  return {
    system: system.filter(nonEmpty),
    messages: turns.map((t) => ({ role: t.role, content: ordered(t.content.filter(nonEmpty)) })),
  };
}

/** OpenAI's function tools as Anthropic tools. */
function tools(list: Json[]): Json[] {
  return list.map((t) => {
    const fn = isObject(t.function) ? t.function : {};
    const tool: Json = { name: str(fn.name) ?? "", input_schema: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} } };
    if (typeof fn.description === "string") tool.description = fn.description;
    return tool;
  });
}

/** `tool_choice` (default auto) with `parallel_tool_calls: false` as `disable_parallel_tool_use`; undefined when the client set neither. */
function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let mapped: Json | undefined;
  if (choice === "auto") mapped = { type: "auto" };
  else if (choice === "none") return { type: "none" };
  else if (choice === "required") mapped = { type: "any" };
  else if (isObject(choice) && isObject(choice.function)) mapped = { type: "tool", name: str(choice.function.name) ?? "" };
  if (parallel === false) return { ...(mapped ?? { type: "auto" }), disable_parallel_tool_use: true };
  return mapped;
}

function request(body: Json, ctx: TranslateContext): RequestTranslation {
  const refused = refusal(body);
  if (refused) return refused;
  let convo: ReturnType<typeof conversation>;
  try {
    convo = conversation(objects(body.messages));
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.field, message: e.message };
    throw e;
  }
  const out: Json = { model: body.model, messages: convo.messages };
  if (convo.system.length) out.system = convo.system;
  out.max_tokens = tokenCount(body.max_completion_tokens) || tokenCount(body.max_tokens) || ctx.maxOutputTokens;
  if (typeof body.stop === "string") out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) out.stop_sequences = body.stop;
  for (const field of ["temperature", "top_p"]) if (typeof body[field] === "number") out[field] = body[field];
  const toolList = objects(body.tools);
  if (toolList.length) {
    out.tools = tools(toolList);
    const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  if (body.stream === true) out.stream = true;
  return { body: out, dropped: droppedFields(body) };
}

// ---------- whole answers ----------

/** Anthropic `tool_use` blocks as Chat Completions tool calls. */
function toolCalls(content: Json[]): Json[] {
  return content
    .filter((b) => b.type === "tool_use")
    .map((b) => ({
      id: str(b.id) ?? "",
      type: "function",
      function: { name: str(b.name) ?? "", arguments: JSON.stringify(isObject(b.input) ? b.input : {}) },
    }));
}

function response(json: Json, ctx: TranslateContext): Json {
  const content = objects(json.content);
  const text = content
    .filter((b) => b.type === "text")
    .map((b) => str(b.text) ?? "")
    .join("");
  const calls = toolCalls(content);
  const message: Json = { role: "assistant", content: text || null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  return {
    id: `chatcmpl-${str(json.id) ?? ""}`,
    object: "chat.completion",
    created: nowSeconds(),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReasonFromStop(json.stop_reason, calls.length > 0), logprobs: null }],
    usage: chatUsageFromAnthropic(json.usage),
  };
}

// ---------- streams ----------

/**
 * An Anthropic event stream as Chat Completions chunks. Tool calls are
 * numbered 0, 1, 2… in the order their blocks start, and each argument delta
 * finds its call by the Anthropic block index, so interleaved parallel calls
 * stay apart. Usage is the message_start's, revised by message_delta as the
 * route's adapter revises it. A stream cut short (`end(false)`) gets nothing
 * more, not even `[DONE]`: the proxy then breaks the connection, and the
 * client sees an incomplete stream rather than a complete-looking one.
 */
class AnthropicToChatStream implements StreamTranslator {
  private id = "chatcmpl-";
  private readonly created = nowSeconds();
  /** Anthropic block index → tool call index. */
  private readonly toolIndex = new Map<number, number>();
  private usage: Json = {};
  private finished = false;
  private done = false;

  constructor(
    private readonly ctx: TranslateContext,
    private readonly clientWantsUsage: boolean,
  ) {}

  private chunk(choices: Json[], extra: Json = {}): string {
    return sseEvent({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.ctx.model, choices, ...extra });
  }

  private delta(delta: Json, finishReason: string | null = null): string {
    return this.chunk([{ index: 0, delta, finish_reason: finishReason }]);
  }

  event(e: UpstreamEvent): string[] {
    const json = e.json;
    if (this.done || !json) return [];
    switch (json.type) {
      case "message_start":
        return this.start(isObject(json.message) ? json.message : {});
      case "content_block_start":
        return this.blockStart(json);
      case "content_block_delta":
        return this.blockDelta(json);
      case "message_delta":
        return this.messageDelta(json);
      case "message_stop":
        return this.close();
      case "error":
        return this.fail(json);
      default:
        return [];
    }
  }

  end(complete: boolean): string[] {
    if (this.done || !complete) return [];
    return this.close();
  }

  private start(message: Json): string[] {
    this.id = `chatcmpl-${str(message.id) ?? ""}`;
    if (isObject(message.usage)) this.usage = { ...message.usage };
    return [this.delta({ role: "assistant", content: "" })];
  }

  private blockStart(json: Json): string[] {
    const block = isObject(json.content_block) ? json.content_block : {};
    if (block.type === "text" && typeof block.text === "string" && block.text) return [this.delta({ content: block.text })];
    if (block.type !== "tool_use" || typeof json.index !== "number") return [];
    const k = this.toolIndex.size;
    this.toolIndex.set(json.index, k);
    return [this.delta({ tool_calls: [{ index: k, id: str(block.id) ?? "", type: "function", function: { name: str(block.name) ?? "", arguments: "" } }] })];
  }

  private blockDelta(json: Json): string[] {
    const delta = isObject(json.delta) ? json.delta : {};
    if (delta.type === "text_delta" && typeof delta.text === "string" && delta.text) return [this.delta({ content: delta.text })];
    if (delta.type !== "input_json_delta" || typeof delta.partial_json !== "string" || !delta.partial_json) return [];
    const k = typeof json.index === "number" ? this.toolIndex.get(json.index) : undefined;
    if (k === undefined) return [];
    return [this.delta({ tool_calls: [{ index: k, function: { arguments: delta.partial_json } }] })];
  }

  /** The finish reason, and the final counts: output always; input when it is revised to a larger total (as anthropic.ts meters it). */
  private messageDelta(json: Json): string[] {
    const u = isObject(json.usage) ? json.usage : {};
    if (u.output_tokens !== undefined) this.usage.output_tokens = u.output_tokens;
    if (u.input_tokens !== undefined) {
      const revised = {
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_creation_input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens,
      };
      const total = (x: Json) => chatUsageFromAnthropic(x).prompt_tokens as number;
      if (total(revised) >= total(this.usage)) Object.assign(this.usage, revised);
    }
    const stop = isObject(json.delta) ? json.delta.stop_reason : undefined;
    this.finished = true;
    return [this.delta({}, finishReasonFromStop(stop, this.toolIndex.size > 0))];
  }

  private close(): string[] {
    const out = this.finished ? [] : [this.delta({}, finishReasonFromStop(undefined, this.toolIndex.size > 0))];
    this.finished = this.done = true;
    if (this.clientWantsUsage) out.push(this.chunk([], { usage: chatUsageFromAnthropic(this.usage) }));
    out.push("data: [DONE]\n\n");
    return out;
  }

  /** Anthropic's error event as the `{"error": …}` data the OpenAI SDK throws on; the stream ends there. */
  private fail(json: Json): string[] {
    this.done = true;
    const error = isObject(json.error) ? json.error : {};
    return [
      sseEvent({
        error: { message: str(error.message) ?? "The model's upstream failed mid-stream.", type: str(error.type) ?? "api_error", param: null, code: null },
      }),
    ];
  }
}

export const chatToMessages: Translator = {
  request,
  response,
  stream: (ctx, clientWantsUsage) => new AnthropicToChatStream(ctx, clientWantsUsage),
  error: chatError,
};
