import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";

/**
 * The fake upstream must speak the real protocols: the official OpenAI and
 * Anthropic SDKs parse its replies and streams without error and report the
 * usage it sent. The gateway's tests rely on these guarantees.
 */

let up: FakeUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  up = await startFakeUpstream();
  openai = new OpenAI({ baseURL: up.openaiBaseUrl, apiKey: "test", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: up.anthropicBaseUrl, apiKey: "test", maxRetries: 0 });
});
afterAll(() => up.close());
beforeEach(() => {
  up.options = {};
  up.reset();
});

// "Say hi, please!" is 15 UTF-8 bytes → ceil(15 / 4) = 4 prompt tokens.
const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Say hi, please!" }] };
// System "Be terse, ok?" (13 bytes) + "héllo" (6) + "wörld" (6) = 25 bytes → 7 input tokens.
const msg = {
  model: "claude-test",
  max_tokens: 100,
  system: "Be terse, ok?",
  messages: [
    {
      role: "user" as const,
      content: [
        { type: "text" as const, text: "héllo" },
        { type: "text" as const, text: "wörld" },
      ],
    },
  ],
};

describe("fake upstream: OpenAI Chat Completions", () => {
  it("non-streaming reply has outputTokens words, echoes the model and reports deterministic usage", async () => {
    const res = await openai.chat.completions.create(chat);
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("gpt-4o-mini");
    expect(res.choices[0].message).toMatchObject({ role: "assistant", content: "w0 w1 w2 w3 w4" });
    expect(res.choices[0].finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    expect(up.requests).toHaveLength(1);
    expect(up.requests[0]).toMatchObject({ path: "/v1/chat/completions", body: chat, aborted: false });
    expect(up.requests[0].headers.authorization).toBe("Bearer test");
  });

  it("stream with include_usage: role delta, one chunk per word, finish chunk, then a usage chunk the SDK reports", async () => {
    up.options.outputTokens = 3;
    const stream = await openai.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(["w0", " w1", " w2"]);
    expect(chunks[4].choices[0].finish_reason).toBe("stop");
    expect(chunks[5].choices).toEqual([]);
    expect(chunks[5].usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    expect(chunks).toHaveLength(6);

    const final = await openai.chat.completions.stream({ ...chat, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.choices[0].message.content).toBe("w0 w1 w2");
    expect(final.usage?.completion_tokens).toBe(3);
  });

  it("stream without include_usage, or with streamUsage false, never sends usage", async () => {
    const plain = await openai.chat.completions.create({ ...chat, stream: true });
    for await (const c of plain) expect(c.usage ?? undefined).toBeUndefined();

    up.options.streamUsage = false;
    const asked = await openai.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of asked) chunks.push(c);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("w0 w1 w2 w3 w4");
  });

  it("max_tokens and max_completion_tokens cap the words and set finish_reason length", async () => {
    const capped = await openai.chat.completions.create({ ...chat, max_tokens: 2 });
    expect(capped.choices[0]).toMatchObject({ message: { content: "w0 w1" }, finish_reason: "length" });
    expect(capped.usage?.completion_tokens).toBe(2);

    const stream = openai.chat.completions.stream({ ...chat, max_completion_tokens: 3, stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]).toMatchObject({ message: { content: "w0 w1 w2" }, finish_reason: "length" });

    const roomy = await openai.chat.completions.create({ ...chat, max_tokens: 50 });
    expect(roomy.choices[0].finish_reason).toBe("stop");
  });

  it("the status option surfaces as the SDK's APIError with that status and an OpenAI error body", async () => {
    up.options.status = 429;
    const err = await openai.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded" });

    up.options.status = 500;
    const err500 = await openai.chat.completions.create({ ...chat, stream: true }).catch((e: unknown) => e);
    expect(err500).toBeInstanceOf(OpenAI.APIError);
    expect((err500 as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
  });

  it("failMidStreamAfter cuts the socket after n content chunks and the SDK stream throws", async () => {
    up.options.failMidStreamAfter = 2;
    const stream = await openai.chat.completions.create({ ...chat, stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? "");
      })(),
    ).rejects.toThrow();
    expect(seen.join("")).toBe("w0 w1");
    await expect.poll(() => up.inFlight).toBe(0);
    expect(up.requests[0].aborted).toBe(false); // cut on purpose, not a client abort
  });

  it("rejects a missing bearer key with 401 in OpenAI's error shape, and lists models", async () => {
    const res = await fetch(`${up.openaiBaseUrl}/chat/completions`, { method: "POST", body: JSON.stringify(chat) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "invalid_api_key" },
    });

    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain("gpt-4o-mini");
  });
});

describe("fake upstream: Anthropic Messages", () => {
  it("non-streaming reply has the words, end_turn and input tokens counted from system and content blocks", async () => {
    const res = await anthropic.messages.create(msg);
    expect(res).toMatchObject({ type: "message", role: "assistant", model: "claude-test", stop_reason: "end_turn" });
    expect(res.content).toEqual([{ type: "text", text: "w0 w1 w2 w3 w4" }]);
    expect(res.usage).toMatchObject({ input_tokens: 7, output_tokens: 5 });
    expect(up.requests[0].headers.authorization).toBe("Bearer test"); // how @anthropic-ai/sdk 1.x sends apiKey
  });

  it("stream sends the real event sequence and the SDK's final message carries the usage", async () => {
    up.options.outputTokens = 2;
    const stream = await anthropic.messages.create({ ...msg, stream: true });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]); // the SDK swallows ping

    const final = await anthropic.messages.stream(msg).finalMessage();
    expect(final.content).toMatchObject([{ type: "text", text: "w0 w1" }]);
    expect(final.usage).toMatchObject({ input_tokens: 7, output_tokens: 2 });
    expect(final.stop_reason).toBe("end_turn");
  });

  it("max_tokens caps the words and sets stop_reason max_tokens, streamed or not", async () => {
    const res = await anthropic.messages.create({ ...msg, max_tokens: 3 });
    expect(res.content).toEqual([{ type: "text", text: "w0 w1 w2" }]);
    expect(res).toMatchObject({ stop_reason: "max_tokens", usage: { output_tokens: 3 } });

    const final = await anthropic.messages.stream({ ...msg, max_tokens: 1 }).finalMessage();
    expect(final).toMatchObject({ stop_reason: "max_tokens", usage: { output_tokens: 1 } });
  });

  it("the status option surfaces as the SDK's APIError with that status and an Anthropic error body", async () => {
    up.options.status = 500;
    const err = await anthropic.messages.create(msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err).toMatchObject({ status: 500, error: { type: "error", error: { type: "api_error" } } });

    up.options.status = 429;
    const err429 = await anthropic.messages.create({ ...msg, stream: true }).catch((e: unknown) => e);
    expect(err429).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("failMidStreamAfter cuts the socket after n content chunks and the SDK stream throws", async () => {
    up.options.failMidStreamAfter = 1;
    const stream = await anthropic.messages.create({ ...msg, stream: true });
    const deltas: string[] = [];
    await expect(
      (async () => {
        for await (const e of stream) if (e.type === "content_block_delta" && e.delta.type === "text_delta") deltas.push(e.delta.text);
      })(),
    ).rejects.toThrow();
    expect(deltas).toEqual(["w0"]);
  });

  it("accepts x-api-key (the raw API's header) and rejects a request without a key with 401 in Anthropic's error shape", async () => {
    const url = `${up.anthropicBaseUrl}/v1/messages`;
    const ok = await fetch(url, { method: "POST", headers: { "x-api-key": "k" }, body: JSON.stringify(msg) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).content[0].text).toBe("w0 w1 w2 w3 w4");

    const res = await fetch(url, { method: "POST", body: JSON.stringify(msg) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ type: "error", error: { type: "authentication_error", message: expect.any(String) } });
  });
});

describe("fake upstream: tool calls and cached input tokens", () => {
  const toolCalls = [
    { name: "weather", arguments: { city: "Paris", days: 3 } },
    { name: "clock", arguments: {} },
  ];
  // {"city":"Paris","days":3} is 25 bytes, "weather" 7: ceil(32 / 4) = 8 tokens; "clock{}" ceil(7 / 4) = 2.
  const toolTokens = 10;

  it("OpenAI: answers with the tool calls (ids call_<i>), finish_reason tool_calls and cached tokens inside prompt_tokens, streamed or not", async () => {
    up.options = { toolCalls, cachedTokens: 3, outputTokens: 0 };
    const res = await openai.chat.completions.create(chat);
    expect(res.choices[0].finish_reason).toBe("tool_calls");
    expect(res.choices[0].message.content).toBeNull();
    expect(res.choices[0].message.tool_calls).toEqual([
      { id: "call_0", type: "function", function: { name: "weather", arguments: '{"city":"Paris","days":3}' } },
      { id: "call_1", type: "function", function: { name: "clock", arguments: "{}" } },
    ]);
    expect(res.usage).toEqual({ prompt_tokens: 4, completion_tokens: toolTokens, total_tokens: 4 + toolTokens, prompt_tokens_details: { cached_tokens: 3 } });

    up.options = { toolCalls, cachedTokens: 3, outputTokens: 2 };
    const chunks = [];
    for await (const c of await openai.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } })) chunks.push(c);
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((t) => t.index === 0 && !t.id);
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    const final = await openai.chat.completions.stream({ ...chat, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.choices[0].message.content).toBe("w0 w1");
    expect(final.choices[0].message.tool_calls?.map((t) => (t.type === "function" ? [t.id, t.function.name, JSON.parse(t.function.arguments)] : []))).toEqual([
      ["call_0", "weather", { city: "Paris", days: 3 }],
      ["call_1", "clock", {}],
    ]);
    expect(final.choices[0].finish_reason).toBe("tool_calls");
    expect(final.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 2 + toolTokens, prompt_tokens_details: { cached_tokens: 3 } });
  });

  it("Anthropic: answers with tool_use blocks (ids toolu_<i>), stop_reason tool_use and cache reads beside a smaller input_tokens, streamed or not", async () => {
    up.options = { toolCalls, cachedTokens: 5, outputTokens: 0 };
    const res = await anthropic.messages.create(msg);
    expect(res.stop_reason).toBe("tool_use");
    expect(res.content).toEqual([
      { type: "tool_use", id: "toolu_0", name: "weather", input: { city: "Paris", days: 3 } },
      { type: "tool_use", id: "toolu_1", name: "clock", input: {} },
    ]);
    expect(res.usage).toMatchObject({ input_tokens: 2, cache_read_input_tokens: 5, output_tokens: toolTokens });

    up.options = { toolCalls, cachedTokens: 5, outputTokens: 2 };
    const events = [];
    for await (const e of await anthropic.messages.create({ ...msg, stream: true })) events.push(e);
    const jsonDeltas = events.filter((e) => e.type === "content_block_delta" && e.delta.type === "input_json_delta" && e.index === 1);
    expect(jsonDeltas.length).toBeGreaterThanOrEqual(2);
    const final = await anthropic.messages.stream(msg).finalMessage();
    expect(final.content).toEqual([
      { type: "text", text: "w0 w1" },
      { type: "tool_use", id: "toolu_0", name: "weather", input: { city: "Paris", days: 3 } },
      { type: "tool_use", id: "toolu_1", name: "clock", input: {} },
    ]);
    expect(final.stop_reason).toBe("tool_use");
    expect(final.usage).toMatchObject({ input_tokens: 2, cache_read_input_tokens: 5, output_tokens: 2 + toolTokens });
  });

  it("never reports more cached tokens than input tokens", async () => {
    up.options = { cachedTokens: 1000 };
    expect((await openai.chat.completions.create(chat)).usage?.prompt_tokens_details).toEqual({ cached_tokens: 4 });
    expect((await anthropic.messages.create(msg)).usage).toMatchObject({ input_tokens: 0, cache_read_input_tokens: 7 });
  });
});

describe("fake upstream: bookkeeping", () => {
  it("maxInFlight counts parallel requests and inFlight returns to zero", async () => {
    up.options.latencyMs = 100;
    await Promise.all([
      ...Array.from({ length: 3 }, () => openai.chat.completions.create(chat)),
      ...Array.from({ length: 2 }, () => anthropic.messages.create(msg)),
    ]);
    expect(up.maxInFlight).toBe(5);
    await expect.poll(() => up.inFlight).toBe(0);
    expect(up.requests).toHaveLength(5);
    for (const r of up.requests) expect(r.endedAt! - r.startedAt).toBeGreaterThanOrEqual(90);
  });

  it("a client abort mid-stream is recorded as aborted and the server stops writing", async () => {
    up.options.chunkDelayMs = 20;
    up.options.outputTokens = 1000;
    const ac = new AbortController();
    const stream = await openai.chat.completions.create({ ...chat, stream: true }, { signal: ac.signal });
    let n = 0;
    // The OpenAI SDK ends the iteration quietly on abort.
    for await (const c of stream) if (c.choices[0]?.delta.content && ++n === 2) ac.abort();
    expect(n).toBeLessThan(10);
    await expect.poll(() => up.requests[0].aborted).toBe(true);
    expect(up.inFlight).toBe(0);
  });

  it("reset clears the recorded requests and maxInFlight", async () => {
    await openai.chat.completions.create(chat);
    expect(up.requests).toHaveLength(1);
    up.reset();
    expect(up.requests).toHaveLength(0);
    expect(up.maxInFlight).toBe(0);
  });
});
