import { isObject, type Json, sseEvent, tokenCount } from "@/lib/gateway/protocols/adapter";
import { openai } from "@/lib/gateway/protocols/openai";
import type { RequestTranslation, StreamTranslator, TranslateContext, Translator, UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * The OpenAI Responses API (the client's, `POST /v1/responses`) on a route
 * that speaks Chat Completions. Keygate's /v1/responses is stateless: the
 * client sends the whole conversation in `input` and nothing is stored, so
 * whatever needs OpenAI's stored state (`previous_response_id`,
 * `conversation`, `item_reference`, stored prompts, background runs) is
 * refused. Built-in tools Keygate cannot run (web search, file search, code
 * interpreter, …) are dropped and listed, so Codex CLI works with its default
 * tool list; only forcing one is refused.
 *
 * Types and event shapes follow the `openai` SDK (v6,
 * resources/responses/responses.d.ts); its stream helper
 * (lib/responses/ResponseAccumulator) is the judge of the event sequence.
 */

/** A 400 `unsupported_parameter` naming the field. */
type Refusal = { unsupported: string; message: string };

const STATELESS = "Keygate's /v1/responses is stateless";

function refuse(unsupported: string, message: string): Refusal {
  return { unsupported, message };
}

function isRefusal(v: unknown): v is Refusal {
  return isObject(v) && typeof v.unsupported === "string";
}

const isSet = (v: unknown) => v !== undefined && v !== null;

// ---------------------------------------------------------------- request

/** One content part of an input message, as a Chat Completions content part. */
function contentPart(part: unknown): Json | Refusal {
  if (typeof part === "string") return { type: "text", text: part };
  if (!isObject(part)) return refuse("input", "Each content part of an input message must be an object.");
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: typeof part.text === "string" ? part.text : "" };
    case "refusal":
      return { type: "text", text: typeof part.refusal === "string" ? part.refusal : "" };
    case "input_image": {
      if (typeof part.image_url !== "string" || !part.image_url) {
        return refuse("input_image.file_id", `${STATELESS}: send images as URLs or data URLs in 'image_url', not as uploaded files ('file_id').`);
      }
      const detail = part.detail === "low" || part.detail === "high" || part.detail === "auto" ? part.detail : undefined;
      return { type: "image_url", image_url: { url: part.image_url, ...(detail ? { detail } : {}) } };
    }
    case "input_file": {
      if (typeof part.file_data !== "string" || !part.file_data) {
        return refuse("input_file.file_id", `${STATELESS}: send files inline in 'file_data', not as uploaded files ('file_id') or URLs ('file_url').`);
      }
      return { type: "file", file: { file_data: part.file_data, ...(typeof part.filename === "string" ? { filename: part.filename } : {}) } };
    }
    default:
      return refuse(`input:${String(part.type)}`, `Content parts of type '${String(part.type)}' cannot be translated to this model's protocol.`);
  }
}

/** A message's content: a string as is, one text part as a string, other parts as Chat content parts. */
function messageContent(content: unknown): string | Json[] | Refusal {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: Json[] = [];
  for (const p of content) {
    const part = contentPart(p);
    if (isRefusal(part)) return part;
    parts.push(part);
  }
  if (parts.length === 1 && parts[0].type === "text") return parts[0].text as string;
  return parts;
}

/** A function call's output: a string, or input parts of which only text can ride in a Chat `tool` message. */
function toolOutput(output: unknown): string | Refusal {
  if (typeof output === "string") return output;
  if (!Array.isArray(output)) return JSON.stringify(output ?? "");
  let text = "";
  for (const p of output) {
    if (isObject(p) && (p.type === "input_text" || p.type === "output_text") && typeof p.text === "string") text += p.text;
    else return refuse("input:function_call_output", "A function call's output can only carry text on this model's protocol (Chat Completions tool messages).");
  }
  return text;
}

const ROLES: Record<string, string> = {
  user: "user",
  assistant: "assistant",
  system: "system",
  // Chat Completions has `developer` too, but older servers (and most OpenAI-compatible ones) reject it; `system` means the same there.
  developer: "system",
};

/** `input` (a string, or an array of items) as Chat messages, appended to `messages`. */
function inputMessages(input: unknown, messages: Json[]): Refusal | null {
  if (input === undefined || input === null) return null;
  if (typeof input === "string") {
    messages.push({ role: "user", content: input });
    return null;
  }
  if (!Array.isArray(input)) return refuse("input", "'input' must be a string or an array of items.");
  for (const item of input) {
    if (!isObject(item)) return refuse("input", "Each item of 'input' must be an object.");
    const type = item.type ?? "message";
    switch (type) {
      case "message": {
        const role = typeof item.role === "string" ? ROLES[item.role] : undefined;
        if (!role) return refuse("input", `Input messages have the role user, assistant, system or developer, not '${String(item.role)}'.`);
        const content = messageContent(item.content);
        if (isRefusal(content)) return content;
        messages.push({ role, content });
        break;
      }
      case "function_call": {
        const call = { id: String(item.call_id ?? ""), type: "function", function: { name: String(item.name ?? ""), arguments: String(item.arguments ?? "") } };
        // Parallel calls are consecutive function_call items: one assistant message carries them all, the
        // message the model wrote just before them included.
        const last = messages[messages.length - 1];
        if (last?.role === "assistant") {
          last.tool_calls = [...((last.tool_calls as Json[] | undefined) ?? []), call];
          if (last.content === "") last.content = null;
        } else {
          messages.push({ role: "assistant", content: null, tool_calls: [call] });
        }
        break;
      }
      case "function_call_output": {
        const content = toolOutput(item.output);
        if (isRefusal(content)) return content;
        messages.push({ role: "tool", tool_call_id: String(item.call_id ?? ""), content });
        break;
      }
      // The model's earlier reasoning: history Chat Completions has no place for (Codex CLI sends it, encrypted, with store: false).
      case "reasoning":
        break;
      case "item_reference":
        return refuse("input:item_reference", `${STATELESS}: send the items themselves in 'input' instead of references to stored ones.`);
      default:
        return refuse(
          `input:${String(type)}`,
          `Input items of type '${String(type)}' (a built-in tool's call or output) cannot be translated: Keygate cannot run built-in tools.`,
        );
    }
  }
  return null;
}

/**
 * `tool_choice` as Chat's; forcing a tool Keygate drops is refused. With no
 * function tools left, "auto" and "none" go (Chat Completions rejects a
 * `tool_choice` without `tools`, and they mean the same then).
 */
function toolChoice(choice: unknown, functions: number): unknown {
  if (choice === "auto" || choice === "none") return functions ? choice : undefined;
  if (choice === "required") {
    return functions ? choice : refuse("tool_choice", "'tool_choice' is 'required' but no function tools remain: Keygate cannot run built-in tools.");
  }
  if (isObject(choice) && choice.type === "function" && typeof choice.name === "string") return { type: "function", function: { name: choice.name } };
  if (isObject(choice) && choice.type === "allowed_tools" && Array.isArray(choice.tools)) {
    const tools = choice.tools.map((t) => (isObject(t) && t.type === "function" && typeof t.name === "string" ? t.name : null));
    if (tools.every((n) => n !== null)) {
      return { type: "allowed_tools", allowed_tools: { mode: choice.mode, tools: tools.map((name) => ({ type: "function", function: { name } })) } };
    }
  }
  const type = isObject(choice) ? String(choice.type) : String(choice);
  return refuse("tool_choice", `'tool_choice' forces the tool '${type}': Keygate cannot run built-in tools.`);
}

function textFormat(format: unknown): Json | null {
  if (!isObject(format)) return null;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type === "json_schema") {
    const schema: Json = { name: format.name };
    for (const k of ["description", "schema", "strict"]) if (isSet(format[k])) schema[k] = format[k];
    return { type: "json_schema", json_schema: schema };
  }
  return null;
}

function translateRequest(body: Json): RequestTranslation {
  const dropped: string[] = [];
  const drop = (name: string) => {
    if (!dropped.includes(name)) dropped.push(name);
  };
  const messages: Json[] = [];
  if (typeof body.instructions === "string" && body.instructions) messages.push({ role: "system", content: body.instructions });
  const refused = inputMessages(body.input, messages);
  if (refused) return refused;
  const out: Json = { model: body.model, messages };

  const tools: Json[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (isObject(t) && t.type === "function" && typeof t.name === "string") {
      const fn: Json = { name: t.name };
      for (const k of ["description", "parameters", "strict"]) if (isSet(t[k])) fn[k] = t[k];
      tools.push({ type: "function", function: fn });
    }
  }

  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case "model":
      case "input":
      case "instructions":
        break;
      case "tools":
        for (const t of Array.isArray(value) ? value : [])
          if (!(isObject(t) && t.type === "function")) drop(`tools:${isObject(t) ? String(t.type) : typeof t}`);
        if (tools.length) out.tools = tools;
        break;
      case "tool_choice": {
        if (!isSet(value)) break;
        const choice = toolChoice(value, tools.length);
        if (isRefusal(choice)) return choice;
        if (choice !== undefined) out.tool_choice = choice;
        break;
      }
      case "parallel_tool_calls":
        // Without tools it means nothing, and Chat Completions rejects it.
        if (typeof value === "boolean" && tools.length) out.parallel_tool_calls = value;
        break;
      case "max_output_tokens":
        if (isSet(value)) out.max_tokens = value;
        break;
      case "temperature":
      case "top_p":
        if (isSet(value)) out[key] = value;
        break;
      case "text":
        if (isObject(value)) {
          const format = textFormat(value.format);
          if (format) out.response_format = format;
          if (isSet(value.verbosity)) drop("text.verbosity");
        }
        break;
      case "stream":
        if (value === true) {
          out.stream = true;
          out.stream_options = { include_usage: true };
        }
        break;
      case "store":
        // Nothing is stored: asking for storage changes nothing in the answer.
        if (value === true) drop("store");
        break;
      case "background":
        if (value === true) return refuse("background", `${STATELESS}: background responses (kept on the server to be polled) are not available.`);
        break;
      case "previous_response_id":
        if (isSet(value) && value !== "")
          return refuse("previous_response_id", `${STATELESS}: send the whole conversation in 'input' instead of 'previous_response_id'.`);
        break;
      case "conversation":
        if (isSet(value)) return refuse("conversation", `${STATELESS}: send the whole conversation in 'input' instead of a stored 'conversation'.`);
        break;
      case "prompt":
        if (isSet(value)) return refuse("prompt", `${STATELESS}: stored prompt templates ('prompt') are not available; send 'instructions' and 'input'.`);
        break;
      case "top_logprobs":
        if (isSet(value) && value !== 0)
          return refuse("top_logprobs", "'top_logprobs' (log probabilities) cannot be returned through Keygate's /v1/responses.");
        break;
      case "n":
        if (isSet(value) && value !== 1) return refuse("n", "Only one answer per request ('n' = 1) is available.");
        break;
      default:
        // user, metadata, service_tier, prompt_cache_key, include, reasoning, truncation, safety_identifier,
        // client_metadata, max_tool_calls, stream_options, …: advisory, or about state Keygate does not keep.
        drop(key);
    }
  }
  return { body: out, dropped };
}

// ---------------------------------------------------------------- response

/** What a Chat Completions answer's id becomes: the id of its response, its messages and its function calls. */
function baseId(chatId: unknown): string {
  if (typeof chatId === "string" && chatId) return chatId.replace(/^chatcmpl-/, "");
  return crypto.randomUUID().replace(/-/g, "");
}

const messageId = (base: string, n: number) => (n ? `msg_${base}_${n}` : `msg_${base}`);
const functionCallId = (base: string, n: number) => `fc_${base}_${n}`;
/** A call id for an upstream that sent none (a function call's output must name it). */
const fallbackCallId = (base: string, n: number) => `call_${base}_${n}`;

/** Chat usage as Responses usage (both count cached tokens inside the input tokens), or undefined when the upstream sent none. */
function responsesUsage(u: unknown): Json | undefined {
  if (!isObject(u)) return undefined;
  const input = tokenCount(u.prompt_tokens) ?? 0;
  const output = tokenCount(u.completion_tokens) ?? 0;
  const inDetails = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const outDetails = isObject(u.completion_tokens_details) ? u.completion_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: tokenCount(inDetails.cached_tokens) ?? 0, cache_write_tokens: tokenCount(inDetails.cache_write_tokens) ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: tokenCount(outDetails.reasoning_tokens) ?? 0 },
    total_tokens: tokenCount(u.total_tokens) ?? input + output,
  };
}

type Status = "in_progress" | "completed" | "incomplete" | "failed";

function incompleteReason(finish: unknown): string | null {
  if (finish === "length") return "max_output_tokens";
  if (finish === "content_filter") return "content_filter";
  return null;
}

/** The echo of the client's request that a Response object carries (a stateless server's values where the client set none). */
function requestEcho(request: Json | undefined): Json {
  const r = request ?? {};
  const text = isObject(r.text) ? r.text : {};
  return {
    instructions: typeof r.instructions === "string" ? r.instructions : null,
    max_output_tokens: typeof r.max_output_tokens === "number" ? r.max_output_tokens : null,
    metadata: isObject(r.metadata) ? r.metadata : {},
    parallel_tool_calls: typeof r.parallel_tool_calls === "boolean" ? r.parallel_tool_calls : true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: typeof r.temperature === "number" ? r.temperature : null,
    text: { format: isObject(text.format) ? text.format : { type: "text" } },
    tool_choice: r.tool_choice ?? "auto",
    // Only the function tools: the built-in ones were dropped and could not have been used.
    tools: Array.isArray(r.tools) ? r.tools.filter((t) => isObject(t) && t.type === "function") : [],
    top_p: typeof r.top_p === "number" ? r.top_p : null,
    truncation: "disabled",
  };
}

interface ResponseParts {
  id: string;
  createdAt: number;
  status: Status;
  incompleteReason?: string | null;
  error?: Json | null;
  output: Json[];
  usage?: Json;
}

function responseObject(p: ResponseParts, ctx: TranslateContext): Json {
  const echo = requestEcho(ctx.request);
  return {
    id: `resp_${p.id}`,
    object: "response",
    created_at: p.createdAt,
    status: p.status,
    background: false,
    error: p.error ?? null,
    incomplete_details: p.incompleteReason ? { reason: p.incompleteReason } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    model: ctx.model,
    output: p.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: null,
    reasoning: echo.reasoning,
    store: false,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: echo.truncation,
    metadata: echo.metadata,
    ...(p.usage ? { usage: p.usage } : {}),
  };
}

const textPart = (text: string): Json => ({ type: "output_text", text, annotations: [], logprobs: [] });
const refusalPart = (refusal: string): Json => ({ type: "refusal", refusal });

const nowSeconds = () => Math.floor(Date.now() / 1000);

function translateResponse(json: Json, ctx: TranslateContext): Json {
  const base = baseId(json.id);
  const choice = Array.isArray(json.choices) && isObject(json.choices[0]) ? json.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const reason = incompleteReason(choice.finish_reason);
  const output: Json[] = [];
  const parts: Json[] = [];
  if (typeof message.content === "string" && message.content) parts.push(textPart(message.content));
  if (typeof message.refusal === "string" && message.refusal) parts.push(refusalPart(message.refusal));
  if (parts.length) output.push({ id: messageId(base, 0), type: "message", status: "completed", role: "assistant", content: parts });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  calls.forEach((call, n) => {
    const fn = isObject(call.function) ? call.function : {};
    output.push({
      id: functionCallId(base, n),
      type: "function_call",
      status: "completed",
      call_id: typeof call.id === "string" && call.id ? call.id : fallbackCallId(base, n),
      name: typeof fn.name === "string" ? fn.name : "",
      arguments: typeof fn.arguments === "string" ? fn.arguments : "",
    });
  });
  // A truncated answer: its last item is the one cut short.
  if (reason && output.length) output[output.length - 1].status = "incomplete";
  return responseObject(
    {
      id: base,
      createdAt: typeof json.created === "number" ? json.created : nowSeconds(),
      status: reason ? "incomplete" : "completed",
      incompleteReason: reason,
      output,
      usage: responsesUsage(json.usage),
    },
    ctx,
  );
}

// ---------------------------------------------------------------- stream

interface OpenMessage {
  index: number;
  item: Json;
  parts: Json[];
  /** The part being streamed: its kind and what it holds so far. */
  part: { kind: "output_text" | "refusal"; text: string } | null;
}

interface OpenCall {
  index: number;
  item: Json;
}

/**
 * Chat chunks as the Responses event sequence: response.created and
 * response.in_progress at the first chunk; a message item (one content part
 * per run of text or refusal) opened at the first text and closed when a tool
 * call starts or the answer ends; a function_call item per Chat tool-call
 * index, its argument fragments as deltas (parallel calls may interleave),
 * closed at the end in output order; then response.completed or
 * response.incomplete with the whole response, usage included (a Responses
 * client always gets it). The usage chunk comes after the finish reason, so
 * the closing events wait for `[DONE]` (or the end of a complete stream). A
 * stream cut short gets no closing events: the client sees it end without
 * response.completed, as it would from OpenAI, and no answer is invented.
 */
class ResponsesStream implements StreamTranslator {
  private seq = 0;
  private started = false;
  private finished = false;
  private base = "";
  private createdAt = 0;
  private readonly output: Json[] = [];
  private message: OpenMessage | null = null;
  private messages = 0;
  private readonly calls = new Map<number, OpenCall>();
  private finish: unknown = null;
  private usage: unknown = null;

  constructor(private readonly ctx: TranslateContext) {}

  event(e: UpstreamEvent): string[] {
    if (this.finished) return [];
    if (e.data.trim() === "[DONE]") return this.close();
    const json = e.json;
    if (!json) return [];
    const out: string[] = [];
    this.start(json, out);
    if (isObject(json.error)) return this.fail(json.error, out);
    if (json.usage !== undefined && json.usage !== null) this.usage = json.usage;
    const choice = Array.isArray(json.choices) ? json.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObject(choice)) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === "string" && delta.content) this.text("output_text", delta.content, out);
    if (typeof delta.refusal === "string" && delta.refusal) this.text("refusal", delta.refusal, out);
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((tc, i) => isObject(tc) && this.toolCall(tc, i, out));
    if (typeof choice.finish_reason === "string") this.finish = choice.finish_reason;
    return out;
  }

  end(complete: boolean): string[] {
    if (this.finished || !complete) return [];
    return this.close();
  }

  private emit(out: string[], type: string, data: Json): void {
    out.push(sseEvent({ type, sequence_number: this.seq++, ...data }, type));
  }

  private snapshot(status: Status, extra: Partial<ResponseParts> = {}): Json {
    return responseObject({ id: this.base, createdAt: this.createdAt, status, output: this.output, ...extra }, this.ctx);
  }

  private start(json: Json, out: string[]): void {
    if (this.started) return;
    this.started = true;
    this.base = baseId(json.id);
    this.createdAt = typeof json.created === "number" ? json.created : nowSeconds();
    const response = this.snapshot("in_progress");
    this.emit(out, "response.created", { response });
    this.emit(out, "response.in_progress", { response });
  }

  private text(kind: "output_text" | "refusal", delta: string, out: string[]): void {
    if (!this.message) {
      const item: Json = { id: messageId(this.base, this.messages++), type: "message", status: "in_progress", role: "assistant", content: [] };
      this.message = { index: this.output.length, item, parts: [], part: null };
      this.output.push(item);
      this.emit(out, "response.output_item.added", { output_index: this.message.index, item: { ...item, content: [] } });
    }
    const m = this.message;
    if (m.part?.kind !== kind) {
      this.closePart(m, out);
      m.part = { kind, text: "" };
      this.emit(out, "response.content_part.added", { ...this.where(m), part: kind === "output_text" ? textPart("") : refusalPart("") });
    }
    m.part!.text += delta;
    if (kind === "output_text") this.emit(out, "response.output_text.delta", { ...this.where(m), delta, logprobs: [] });
    else this.emit(out, "response.refusal.delta", { ...this.where(m), delta });
  }

  /** Where the message's current part is, as its events name it. */
  private where(m: OpenMessage): Json {
    return { item_id: m.item.id, output_index: m.index, content_index: m.parts.length };
  }

  private closePart(m: OpenMessage, out: string[]): void {
    if (!m.part) return;
    const { kind, text } = m.part;
    const part = kind === "output_text" ? textPart(text) : refusalPart(text);
    if (kind === "output_text") this.emit(out, "response.output_text.done", { ...this.where(m), text, logprobs: [] });
    else this.emit(out, "response.refusal.done", { ...this.where(m), refusal: text });
    this.emit(out, "response.content_part.done", { ...this.where(m), part });
    m.parts.push(part);
    m.part = null;
  }

  private closeMessage(status: "completed" | "incomplete", out: string[]): void {
    const m = this.message;
    if (!m) return;
    this.closePart(m, out);
    Object.assign(m.item, { status, content: m.parts });
    this.emit(out, "response.output_item.done", { output_index: m.index, item: m.item });
    this.message = null;
  }

  private toolCall(tc: Json, position: number, out: string[]): void {
    const key = typeof tc.index === "number" ? tc.index : position;
    const fn = isObject(tc.function) ? tc.function : {};
    let call = this.calls.get(key);
    if (!call) {
      this.closeMessage("completed", out);
      const n = this.calls.size;
      const item: Json = {
        id: functionCallId(this.base, n),
        type: "function_call",
        status: "in_progress",
        call_id: typeof tc.id === "string" && tc.id ? tc.id : fallbackCallId(this.base, n),
        name: typeof fn.name === "string" ? fn.name : "",
        arguments: "",
      };
      call = { index: this.output.length, item };
      this.calls.set(key, call);
      this.output.push(item);
      this.emit(out, "response.output_item.added", { output_index: call.index, item: { ...item } });
    } else if (!call.item.name && typeof fn.name === "string") {
      call.item.name = fn.name;
    }
    if (typeof fn.arguments === "string" && fn.arguments) {
      call.item.arguments += fn.arguments;
      this.emit(out, "response.function_call_arguments.delta", { item_id: call.item.id, output_index: call.index, delta: fn.arguments });
    }
  }

  private close(): string[] {
    const out: string[] = [];
    this.start({}, out);
    this.finished = true;
    const reason = incompleteReason(this.finish);
    const last = this.output.length - 1;
    const itemStatus = (index: number) => (reason && index === last ? "incomplete" : "completed");
    if (this.message) this.closeMessage(itemStatus(this.message.index), out);
    for (const call of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      const { id, name, arguments: args } = call.item;
      this.emit(out, "response.function_call_arguments.done", { item_id: id, output_index: call.index, name, arguments: args });
      call.item.status = itemStatus(call.index);
      this.emit(out, "response.output_item.done", { output_index: call.index, item: call.item });
    }
    const response = this.snapshot(reason ? "incomplete" : "completed", { incompleteReason: reason, usage: responsesUsage(this.usage) });
    this.emit(out, reason ? "response.incomplete" : "response.completed", { response });
    return out;
  }

  /**
   * An error mid-stream: the `error` event, then `response.failed`. The
   * event carries the error both flat (the SDK's ResponseErrorEvent) and
   * nested under `error` (as OpenAI sends it): the `openai` SDK throws an
   * APIError with its message on an event whose data has `error`, and
   * clients that wait for the response's end (Codex CLI) read
   * `response.failed`.
   */
  private fail(error: Json, out: string[]): string[] {
    this.finished = true;
    const message = typeof error.message === "string" ? error.message : "The model's provider failed mid-answer.";
    const code = typeof error.code === "string" ? error.code : null;
    const param = typeof error.param === "string" ? error.param : null;
    const type = typeof error.type === "string" ? error.type : "server_error";
    this.emit(out, "error", { code, message, param, error: { type, code, message, param } });
    const failedCode = type === "rate_limit_error" || code === "rate_limit_exceeded" ? "rate_limit_exceeded" : "server_error";
    this.emit(out, "response.failed", { response: this.snapshot("failed", { error: { code: failedCode, message }, usage: responsesUsage(this.usage) }) });
    return out;
  }
}

// ---------------------------------------------------------------- error

function translateError(json: unknown, status: number): Json {
  // Chat Completions and Responses share OpenAI's error shape.
  if (openai.isErrorBody(json)) return json as Json;
  const message =
    isObject(json) && typeof json.message === "string"
      ? json.message
      : isObject(json) && typeof json.error === "string"
        ? json.error
        : `The model's provider answered with an error (HTTP ${status}).`;
  return openai.errorBody(status, "upstream_error", message) as Json;
}

export const responsesToChat: Translator = {
  request: (body) => translateRequest(body),
  response: translateResponse,
  stream: (ctx) => new ResponsesStream(ctx),
  error: translateError,
};
