import Anthropic from "@anthropic-ai/sdk";
import { createParser } from "eventsource-parser";
import fc from "fast-check";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { type Json, isObject, sseEvent } from "@/lib/gateway/protocols/adapter";
import { anthropic } from "@/lib/gateway/protocols/anthropic";
import { openai } from "@/lib/gateway/protocols/openai";
import { chatToMessages } from "@/lib/gateway/translate/chat-to-messages";
import { messagesToChat } from "@/lib/gateway/translate/messages-to-chat";
import type { Translator, UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * A streamed answer, translated event by event, says what the whole answer
 * says translated at once (PRODUCT.md, "Protocols: any SDK, any model"):
 * the same text, the same tool calls (ids, names, arguments, in order), the
 * same stop reason and the same usage, whatever the upstream's answer and
 * however its bytes arrive. The client's stream is assembled as a client
 * would, by a small assembler per protocol that also checks the event order,
 * and by the official SDKs. Usage is charged on the route's side; the client
 * sees the same input and output totals, cached tokens counted once.
 */

const ctx = { model: "public-model", maxOutputTokens: 1024 };
const enc = new TextEncoder();

// ---------- an upstream answer, in the abstract ----------

interface Call {
  name: string;
  args: Json;
  /** Where its arguments' JSON text is cut into fragments. */
  cuts: number[];
}
interface Answer {
  id: string;
  text: string;
  textCuts: number[];
  thinking: boolean;
  calls: Call[];
  /** Picks which started tool call sends its next fragment (interleaving parallel calls). */
  order: number[];
  stop: string;
  usage: { input: number; cacheRead: number; cacheWrite: number; output: number };
  /** Anthropic: message_delta repeats the input counts (newer API versions do). */
  inputInDelta: boolean;
  clientWantsUsage: boolean;
  /** Where the upstream's SSE bytes are cut into network chunks. */
  byteCuts: number[];
}

const cuts = fc.array(fc.nat({ max: 400 }), { maxLength: 5 });
const answers = (stops: readonly string[]): fc.Arbitrary<Answer> =>
  fc.record({
    id: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/),
    text: fc.string({ unit: "binary", maxLength: 30 }),
    textCuts: cuts,
    thinking: fc.boolean(),
    calls: fc.array(
      fc.record({
        name: fc.stringMatching(/^[a-z_]{1,10}$/),
        args: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) as fc.Arbitrary<Json>,
        cuts: fc.array(fc.nat({ max: 400 }), { minLength: 1, maxLength: 4 }),
      }),
      { maxLength: 3 },
    ),
    order: fc.array(fc.nat(), { maxLength: 30 }),
    stop: fc.constantFrom(...stops),
    usage: fc.record({ input: fc.nat(200_000), cacheRead: fc.nat(200_000), cacheWrite: fc.nat(20_000), output: fc.nat(50_000) }),
    inputInDelta: fc.boolean(),
    clientWantsUsage: fc.boolean(),
    byteCuts: fc.array(fc.nat({ max: 100_000 }), { maxLength: 30 }),
  });

/** The string cut at the given code point positions (kept in range, no empty pieces). */
function pieces(s: string, at: number[]): string[] {
  const points = Array.from(s);
  const bounds = [...new Set(at.map((n) => n % (points.length + 1)))].filter((n) => n > 0 && n < points.length).sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const b of [...bounds, points.length]) {
    if (b > from) out.push(points.slice(from, b).join(""));
    from = b;
  }
  return out;
}

type Step = { call: number; start: true } | { call: number; start: false; fragment: string };

/** The order tool calls stream in: each starts after the one before it started; started calls' fragments interleave as `order` picks. */
function schedule(a: Answer): Step[] {
  const fragments = a.calls.map((c) => pieces(JSON.stringify(c.args), c.cuts));
  const steps: Step[] = [];
  let started = 0;
  let pick = 0;
  const pending = () => fragments.some((f, i) => i >= started || f.length > 0);
  while (pending()) {
    const live = fragments.map((f, i) => i).filter((i) => i < started && fragments[i].length > 0);
    const choices = started < a.calls.length ? [...live, started] : live;
    const call = choices[(a.order[pick++] ?? 0) % choices.length];
    if (call === started) {
      steps.push({ call, start: true });
      started++;
    } else steps.push({ call, start: false, fragment: fragments[call].shift() as string });
  }
  return steps;
}

// ---------- the upstream's answer, rendered ----------

function anthropicUsage(a: Answer): Json {
  return {
    input_tokens: a.usage.input,
    cache_creation_input_tokens: a.usage.cacheWrite,
    cache_read_input_tokens: a.usage.cacheRead,
    output_tokens: a.usage.output,
  };
}
const toolId = (a: Answer, i: number, prefix: string) => `${prefix}_${a.id}${i}`;

function anthropicWhole(a: Answer): Json {
  const content: Json[] = [];
  if (a.thinking) content.push({ type: "thinking", thinking: "Let me think.", signature: "sig" });
  if (a.text) content.push({ type: "text", text: a.text });
  a.calls.forEach((c, i) => content.push({ type: "tool_use", id: toolId(a, i, "toolu"), name: c.name, input: c.args }));
  return {
    id: `msg_${a.id}`,
    type: "message",
    role: "assistant",
    model: "upstream-model",
    content,
    stop_reason: a.stop,
    stop_sequence: null,
    usage: anthropicUsage(a),
  };
}

function anthropicSse(a: Answer): string {
  const ev = (type: string, data: Json) => sseEvent({ type, ...data }, type);
  const usage = anthropicUsage(a);
  const out = [
    ev("message_start", {
      message: {
        id: `msg_${a.id}`,
        type: "message",
        role: "assistant",
        model: "upstream-model",
        content: [],
        stop_reason: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (a.thinking) {
    out.push(ev("content_block_start", { index, content_block: { type: "thinking", thinking: "" } }));
    out.push(ev("content_block_delta", { index, delta: { type: "thinking_delta", thinking: "Let me think." } }));
    out.push(ev("content_block_delta", { index, delta: { type: "signature_delta", signature: "sig" } }));
    out.push(ev("content_block_stop", { index: index++ }));
  }
  out.push(ev("ping", {}));
  if (a.text) {
    out.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
    for (const text of pieces(a.text, a.textCuts)) out.push(ev("content_block_delta", { index, delta: { type: "text_delta", text } }));
    out.push(ev("content_block_stop", { index: index++ }));
  }
  const first = index;
  for (const step of schedule(a)) {
    const at = first + step.call;
    if (step.start)
      out.push(
        ev("content_block_start", {
          index: at,
          content_block: { type: "tool_use", id: toolId(a, step.call, "toolu"), name: a.calls[step.call].name, input: {} },
        }),
      );
    else out.push(ev("content_block_delta", { index: at, delta: { type: "input_json_delta", partial_json: step.fragment } }));
  }
  a.calls.forEach((_, i) => out.push(ev("content_block_stop", { index: first + i })));
  const deltaUsage = a.inputInDelta ? usage : { output_tokens: a.usage.output };
  out.push(ev("message_delta", { delta: { stop_reason: a.stop, stop_sequence: null }, usage: deltaUsage }));
  out.push(ev("message_stop", {}));
  return out.join("");
}

function openaiUsage(a: Answer): Json {
  const prompt = a.usage.input + a.usage.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: a.usage.output,
    total_tokens: prompt + a.usage.output,
    prompt_tokens_details: { cached_tokens: a.usage.cacheRead },
  };
}

function openaiWhole(a: Answer): Json {
  const message: Json = { role: "assistant", content: a.text || null, refusal: null };
  if (a.calls.length)
    message.tool_calls = a.calls.map((c, i) => ({ id: toolId(a, i, "call"), type: "function", function: { name: c.name, arguments: JSON.stringify(c.args) } }));
  return {
    id: `chatcmpl-${a.id}`,
    object: "chat.completion",
    created: 1,
    model: "upstream-model",
    choices: [{ index: 0, message, finish_reason: a.stop, logprobs: null }],
    usage: openaiUsage(a),
  };
}

function openaiSse(a: Answer): string {
  const chunk = (delta: Json, finish: string | null = null) =>
    sseEvent({
      id: `chatcmpl-${a.id}`,
      object: "chat.completion.chunk",
      created: 1,
      model: "upstream-model",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  const out = [chunk({ role: "assistant", content: "" })];
  for (const content of pieces(a.text, a.textCuts)) out.push(chunk({ content }));
  for (const step of schedule(a)) {
    const call = a.calls[step.call];
    if (step.start)
      out.push(chunk({ tool_calls: [{ index: step.call, id: toolId(a, step.call, "call"), type: "function", function: { name: call.name, arguments: "" } }] }));
    else out.push(chunk({ tool_calls: [{ index: step.call, function: { arguments: step.fragment } }] }));
  }
  out.push(chunk({}, a.stop));
  out.push(sseEvent({ id: `chatcmpl-${a.id}`, object: "chat.completion.chunk", created: 1, model: "upstream-model", choices: [], usage: openaiUsage(a) }));
  out.push("data: [DONE]\n\n");
  return out.join("");
}

// ---------- through the translator ----------

/** The bytes cut at the given positions, as a network delivers them. */
function byteChunks(text: string, at: number[]): Uint8Array[] {
  const bytes = enc.encode(text);
  const bounds = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const b of [...bounds, bytes.length]) {
    out.push(bytes.subarray(from, b));
    from = b;
  }
  return out;
}

/** Parses SSE text as lib/gateway/protocols/stream.ts does (eventsource-parser), event by event. */
function parseSse(chunks: Iterable<string>, onEvent: (e: UpstreamEvent) => void): void {
  const parser = createParser({
    onEvent: (e) => {
      let json: Json | null = null;
      if (e.data.startsWith("{")) json = JSON.parse(e.data) as Json;
      onEvent({ event: e.event, json, data: e.data });
    },
  });
  for (const c of chunks) parser.feed(c);
  parser.feed("\n\n");
}

/** The upstream's SSE, cut at arbitrary bytes, through a stream translator: the client's SSE text. */
function translateSse(translator: Translator, upstream: string, a: Pick<Answer, "byteCuts" | "clientWantsUsage">): string {
  const t = translator.stream(ctx, a.clientWantsUsage);
  const decoder = new TextDecoder();
  const out: string[] = [];
  const text = byteChunks(upstream, a.byteCuts).map((c) => decoder.decode(c, { stream: true }));
  text.push(decoder.decode());
  parseSse(text, (e) => out.push(...t.event(e)));
  out.push(...t.end(true));
  return out.join("");
}

// ---------- the client's side, assembled ----------

/** A Chat Completions stream assembled into an answer, checking the chunk sequence as the client relies on it. */
function assembleChat(sse: string): Json {
  let done = false;
  let finish: unknown = null;
  let usage: unknown = undefined;
  let id: unknown;
  let content = "";
  const calls: Array<{ id: string; type: string; function: { name: string; arguments: string } }> = [];
  parseSse([sse], (e) => {
    expect(done).toBe(false);
    if (e.data === "[DONE]") return void (done = true);
    const c = e.json as Json;
    expect(c.object).toBe("chat.completion.chunk");
    expect(c.model).toBe(ctx.model);
    id ??= c.id;
    expect(c.id).toBe(id);
    if (isObject(c.usage)) usage = c.usage;
    const choice = (c.choices as Json[])[0];
    if (!choice) return;
    expect(finish).toBeNull(); // nothing after the finish chunk but usage
    const delta = choice.delta as Json;
    if (typeof delta.content === "string") content += delta.content;
    for (const tc of (delta.tool_calls as Json[] | undefined) ?? []) {
      const fn = tc.function as Json;
      const k = tc.index as number;
      if (k === calls.length) calls.push({ id: tc.id as string, type: tc.type as string, function: { name: fn.name as string, arguments: "" } });
      expect(k).toBeLessThan(calls.length);
      calls[k].function.arguments += (fn.arguments as string | undefined) ?? "";
    }
    finish = choice.finish_reason;
  });
  expect(done).toBe(true);
  const message: Json = { role: "assistant", content: content || null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  return { id, message, finish_reason: finish, usage };
}

/** An Anthropic event stream assembled into a message, checking the event order as the SDK relies on it. */
function assembleMessage(sse: string): Json {
  let message: Json | null = null;
  let stopped = false;
  const buffers = new Map<number, string>();
  const open = new Set<number>();
  parseSse([sse], (e) => {
    const ev = e.json as Json;
    expect(e.event).toBe(ev.type);
    expect(stopped).toBe(false);
    if (ev.type === "message_start") {
      expect(message).toBeNull();
      message = structuredClone(ev.message as Json);
      return;
    }
    expect(message).not.toBeNull();
    const m = message as Json & { content: Json[]; usage: Json };
    const index = ev.index as number;
    switch (ev.type) {
      case "content_block_start":
        expect(index).toBe(m.content.length);
        m.content.push(structuredClone(ev.content_block as Json));
        open.add(index);
        buffers.set(index, "");
        break;
      case "content_block_delta": {
        expect(open.has(index)).toBe(true);
        const delta = ev.delta as Json;
        if (delta.type === "text_delta") m.content[index].text += delta.text as string;
        else buffers.set(index, (buffers.get(index) as string) + (delta.partial_json as string));
        break;
      }
      case "content_block_stop":
        expect(open.delete(index)).toBe(true);
        if (m.content[index].type === "tool_use" && buffers.get(index)) m.content[index].input = JSON.parse(buffers.get(index) as string) as Json;
        break;
      case "message_delta":
        expect(open.size).toBe(0);
        Object.assign(m, ev.delta);
        Object.assign(m.usage, ev.usage);
        break;
      case "message_stop":
        stopped = true;
        break;
    }
  });
  expect(stopped).toBe(true);
  return message as unknown as Json;
}

/** What a chat completion says, without the fields a stream need not repeat (`created`, `object`). */
function chatEssence(json: Json): Json {
  const choice = (json.choices as Json[])[0];
  return { id: json.id, message: choice.message, finish_reason: choice.finish_reason, usage: json.usage };
}

// ---------- the properties ----------

const ANTHROPIC_STOPS = ["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"] as const;
const OPENAI_STOPS = ["stop", "length", "tool_calls", "content_filter", "function_call"] as const;

describe("Anthropic route, Chat Completions client", () => {
  it("the translated stream assembles to the translated whole answer, and the client sees the usage the route metered", () => {
    fc.assert(
      fc.property(answers(ANTHROPIC_STOPS), (a) => {
        const whole = chatToMessages.response(anthropicWhole(a), ctx);
        const streamed = assembleChat(translateSse(chatToMessages, anthropicSse(a), a));
        const expected = chatEssence(whole);
        expect(streamed).toEqual({ ...expected, usage: a.clientWantsUsage ? expected.usage : undefined });
        if (a.calls.length) expect(expected.finish_reason).toBe("tool_calls");
        // The charge: what the client's adapter reads equals what the route's adapter read.
        expect(openai.usageFromBody(whole)).toEqual(anthropic.usageFromBody(anthropicWhole(a)));
      }),
      { numRuns: 600 },
    );
  });
});

describe("OpenAI route, Anthropic Messages client", () => {
  it("the translated stream assembles to the translated whole answer, and the client sees the usage the route metered", () => {
    fc.assert(
      fc.property(answers(OPENAI_STOPS), (a) => {
        const whole = messagesToChat.response(openaiWhole(a), ctx);
        const streamed = assembleMessage(translateSse(messagesToChat, openaiSse(a), a));
        expect(streamed).toEqual(whole);
        if (a.calls.length) expect(whole.stop_reason).toBe("tool_use");
        expect(anthropic.usageFromBody(whole)).toEqual(openai.usageFromBody(openaiWhole(a)));
      }),
      { numRuns: 600 },
    );
  });
});

// ---------- the official SDKs ----------

/** A fetch that answers every request with this SSE text, in these byte chunks. */
function sseFetch(chunks: Uint8Array[]): typeof fetch {
  return async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c);
          controller.close();
        },
      }),
      { status: 200, headers: { "content-type": "text/event-stream" } },
    );
}

describe("the official SDKs read the translated streams", () => {
  it("openai's ChatCompletionStream finalChatCompletion() equals the translated whole answer (Anthropic route)", async () => {
    await fc.assert(
      fc.asyncProperty(answers(ANTHROPIC_STOPS), async (a) => {
        const sse = translateSse(chatToMessages, anthropicSse(a), { ...a, clientWantsUsage: true });
        const client = new OpenAI({ apiKey: "k", baseURL: "http://sdk.test/v1", maxRetries: 0, fetch: sseFetch(byteChunks(sse, a.byteCuts)) });
        const final = await client.chat.completions.stream({ model: ctx.model, messages: [{ role: "user", content: "hi" }] }).finalChatCompletion();
        const whole = chatEssence(chatToMessages.response(anthropicWhole(a), ctx));
        const message = final.choices[0].message;
        expect({
          id: final.id,
          content: message.content || null,
          tool_calls: message.tool_calls?.map((c) => ({
            id: c.id,
            type: c.type,
            function: { name: c.type === "function" ? c.function.name : "", arguments: c.type === "function" ? c.function.arguments : "" },
          })),
          finish_reason: final.choices[0].finish_reason,
          usage: final.usage,
        }).toEqual({
          id: whole.id,
          content: (whole.message as Json).content,
          tool_calls: (whole.message as Json).tool_calls,
          finish_reason: whole.finish_reason,
          usage: whole.usage,
        });
      }),
      { numRuns: 150 },
    );
  });

  it("@anthropic-ai/sdk's MessageStream finalMessage() equals the translated whole answer (OpenAI route)", async () => {
    await fc.assert(
      fc.asyncProperty(answers(OPENAI_STOPS), async (a) => {
        const sse = translateSse(messagesToChat, openaiSse(a), a);
        const client = new Anthropic({ apiKey: "k", baseURL: "http://sdk.test", maxRetries: 0, fetch: sseFetch(byteChunks(sse, a.byteCuts)) });
        const final = await client.messages.stream({ model: ctx.model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] }).finalMessage();
        expect(final).toMatchObject(messagesToChat.response(openaiWhole(a), ctx));
      }),
      { numRuns: 150 },
    );
  });

  it("openai's SDK throws the message of an Anthropic error event; Anthropic's SDK throws the message of an OpenAI error chunk", async () => {
    const anthropicFail = [
      sseEvent(
        { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 1, output_tokens: 0 } } },
        "message_start",
      ),
      sseEvent({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"),
    ].join("");
    const a = { byteCuts: [], clientWantsUsage: true };
    const toChat = translateSse(chatToMessages, anthropicFail, a);
    const oa = new OpenAI({ apiKey: "k", baseURL: "http://sdk.test/v1", maxRetries: 0, fetch: sseFetch([enc.encode(toChat)]) });
    await expect(oa.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "hi" }] }).finalChatCompletion()).rejects.toThrow(/Overloaded/);

    const openaiFail = [
      sseEvent({ id: "chatcmpl-1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] }),
      sseEvent({ error: { message: "Upstream exploded", type: "server_error" } }),
    ].join("");
    const toMessages = translateSse(messagesToChat, openaiFail, a);
    const an = new Anthropic({ apiKey: "k", baseURL: "http://sdk.test", maxRetries: 0, fetch: sseFetch([enc.encode(toMessages)]) });
    await expect(an.messages.stream({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).finalMessage()).rejects.toThrow(
      /Upstream exploded/,
    );
  });
});
