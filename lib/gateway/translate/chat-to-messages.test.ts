import { describe, expect, it } from "vitest";
import type { Json } from "@/lib/gateway/protocols/adapter";
import { chatToMessages } from "@/lib/gateway/translate/chat-to-messages";
import type { UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * A Chat Completions client on an Anthropic route (PRODUCT.md, "Protocols:
 * any SDK, any model"): what the route is sent, and what the client gets back.
 */

const ctx = { model: "claude-public", maxOutputTokens: 4096 };
const base = { model: "claude-public", messages: [{ role: "user", content: "hi" }] };

/** The translated body, failing the test on a refusal. */
function translated(body: Json): { body: Json; dropped: string[] } {
  const t = chatToMessages.request(body, ctx);
  if ("unsupported" in t) throw new Error(`refused: ${t.message}`);
  return t;
}
const bodyOf = (body: Json) => translated(body).body;

describe("Chat → Anthropic requests", () => {
  it("moves system and developer messages, wherever they are, to `system` in order", () => {
    const out = bodyOf({
      model: "m",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "hi" },
        { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
        { role: "user", content: "again" },
      ],
    });
    expect(out.system).toEqual([
      { type: "text", text: "Be terse." },
      { type: "text", text: "Use metric units." },
    ]);
    // The two user messages, no longer separated, merge into one (Anthropic wants roles to alternate).
    expect(out.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "hi" },
          { type: "text", text: "again" },
        ],
      },
    ]);
  });

  it("maps text and image parts: a base64 data URL inline, an http URL by reference", () => {
    const out = bodyOf({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  it("turns an assistant's tool calls into tool_use blocks (ids kept) and parallel tool results into one user message, in order, with the user's text after them", () => {
    const out = bodyOf({
      model: "m",
      messages: [
        { role: "user", content: "Weather in Paris and Oslo?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "call_b", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: "18C" },
        { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "9C" }] },
        { role: "user", content: "Thanks, and?" },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_a", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_b", name: "weather", input: { city: "Oslo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_a", content: "18C" },
          { type: "tool_result", tool_use_id: "call_b", content: [{ type: "text", text: "9C" }] },
          { type: "text", text: "Thanks, and?" },
        ],
      },
    ]);
  });

  it("puts a merged user turn's tool results before its text, as Anthropic wants", () => {
    const out = bodyOf({
      model: "m",
      messages: [
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "user", content: "first" },
        { role: "tool", tool_call_id: "c1", content: "done" },
      ],
    });
    expect((out.messages as Json[])[1]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "c1", content: "done" },
        { type: "text", text: "first" },
      ],
    });
  });

  it("refuses a content part it cannot carry (audio input), naming it", () => {
    const t = chatToMessages.request(
      { model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AA==", format: "wav" } }] }] },
      ctx,
    );
    expect(t).toMatchObject({ unsupported: "messages[0].content[0]" });
  });

  it("an assistant message with only tool calls (content null) has no empty text block; empty arguments are {}", () => {
    const out = bodyOf({
      model: "m",
      messages: [
        { role: "user", content: "now?" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "clock", arguments: "" } }] },
        { role: "tool", tool_call_id: "c1", content: "noon" },
      ],
    });
    expect((out.messages as Json[])[1]).toEqual({ role: "assistant", content: [{ type: "tool_use", id: "c1", name: "clock", input: {} }] });
  });

  it("refuses tool-call arguments that are not a JSON object, naming where they are", () => {
    const t = chatToMessages.request(
      {
        model: "m",
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{not json" } }] },
        ],
      },
      ctx,
    );
    expect(t).toMatchObject({ unsupported: "messages[1].tool_calls[0].function.arguments" });
  });

  it("maps tools, a default input schema included", () => {
    const out = bodyOf({
      ...base,
      tools: [
        {
          type: "function",
          function: { name: "weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } } },
        },
        { type: "function", function: { name: "ping" } },
      ],
    });
    expect(out.tools).toEqual([
      { name: "weather", description: "Weather now", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      { name: "ping", input_schema: { type: "object", properties: {} } },
    ]);
  });

  const tools = [{ type: "function", function: { name: "f" } }];
  it.each([
    ["auto", undefined, { type: "auto" }],
    ["none", undefined, { type: "none" }],
    ["required", undefined, { type: "any" }],
    [{ type: "function", function: { name: "f" } }, undefined, { type: "tool", name: "f" }],
    [undefined, false, { type: "auto", disable_parallel_tool_use: true }],
    ["required", false, { type: "any", disable_parallel_tool_use: true }],
    [undefined, undefined, undefined],
  ])("maps tool_choice %j with parallel_tool_calls %j to %j", (toolChoice, parallel, expected) => {
    const t = translated({ ...base, tools, tool_choice: toolChoice, parallel_tool_calls: parallel });
    expect(t.body.tool_choice).toEqual(expected);
    expect(t.dropped).toEqual([]);
  });

  it("carries stop, temperature, top_p, stream and the model; stream_options is consumed", () => {
    const out = bodyOf({ ...base, stop: "END", temperature: 0.2, top_p: 0.9, stream: true, stream_options: { include_usage: true } });
    expect(out).toMatchObject({ model: "claude-public", stop_sequences: ["END"], temperature: 0.2, top_p: 0.9, stream: true });
    expect(out).not.toHaveProperty("stream_options");
    expect(bodyOf({ ...base, stop: ["a", "b"] }).stop_sequences).toEqual(["a", "b"]);
  });

  it("sends max_completion_tokens, else max_tokens, else the model's output cap (Anthropic requires one)", () => {
    expect(bodyOf({ ...base, max_completion_tokens: 10, max_tokens: 20 }).max_tokens).toBe(10);
    expect(bodyOf({ ...base, max_tokens: 20 }).max_tokens).toBe(20);
    expect(bodyOf(base).max_tokens).toBe(4096);
  });

  it.each([
    ["n", { n: 2 }],
    ["logprobs", { logprobs: true }],
    ["top_logprobs", { top_logprobs: 3 }],
    ["response_format", { response_format: { type: "json_object" } }],
    ["frequency_penalty", { frequency_penalty: 0.5 }],
    ["presence_penalty", { presence_penalty: -1 }],
    ["logit_bias", { logit_bias: { "50256": -100 } }],
    ["audio", { audio: { voice: "alloy", format: "mp3" } }],
    ["modalities", { modalities: ["text", "audio"] }],
    ["prediction", { prediction: { type: "content", content: "x" } }],
  ])("refuses %s, which would change the answer, with a sentence naming it", (field, extra) => {
    const t = chatToMessages.request({ ...base, ...extra }, ctx);
    expect(t).toMatchObject({ unsupported: field });
    expect("message" in t && t.message).toContain(`'${field}'`);
  });

  it("does not refuse or list the neutral values: n 1, logprobs false, zero penalties, empty logit_bias, text format", () => {
    const t = translated({
      ...base,
      n: 1,
      logprobs: false,
      frequency_penalty: 0,
      presence_penalty: 0,
      logit_bias: {},
      response_format: { type: "text" },
      modalities: ["text"],
    });
    expect(t.dropped).toEqual([]);
  });

  it("drops advisory fields and lists them by name, in the order met (parallel_tool_calls only when true)", () => {
    const t = translated({
      ...base,
      user: "u1",
      seed: 7,
      metadata: { a: "b" },
      parallel_tool_calls: true,
      service_tier: "auto",
      prompt_cache_key: "k",
      store: false,
      reasoning_effort: "low",
      verbosity: "low",
      web_search_options: {},
      some_future_field: 1,
    });
    expect(t.dropped).toEqual([
      "user",
      "seed",
      "metadata",
      "parallel_tool_calls",
      "service_tier",
      "prompt_cache_key",
      "store",
      "reasoning_effort",
      "verbosity",
      "web_search_options",
      "some_future_field",
    ]);
    for (const field of t.dropped) expect(t.body).not.toHaveProperty(field);
  });
});

describe("Anthropic answers → chat completions", () => {
  const answer = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-upstream",
    content: [
      { type: "thinking", thinking: "hmm", signature: "sig" },
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "weather", input: { city: "Oslo" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 20 },
  };

  it("carries the text, the tool calls in order with their ids, and the public model name; thinking is left out", () => {
    const out = chatToMessages.response(answer, ctx);
    expect(out).toMatchObject({ id: "chatcmpl-msg_1", object: "chat.completion", model: "claude-public" });
    expect(out.choices).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Let me check.",
          refusal: null,
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_2", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        finish_reason: "tool_calls",
        logprobs: null,
      },
    ]);
  });

  it("counts every input token once: prompt_tokens is input + cache writes + cache reads, cached_tokens the reads", () => {
    expect(chatToMessages.response(answer, ctx).usage).toEqual({
      prompt_tokens: 115,
      completion_tokens: 20,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ])("maps stop_reason %s to finish_reason %s", (stop, finish) => {
    const out = chatToMessages.response({ ...answer, content: [{ type: "text", text: "x" }], stop_reason: stop }, ctx);
    expect((out.choices as Json[])[0].finish_reason).toBe(finish);
  });

  it("says tool_calls whenever there are tool calls, whatever the stop reason; content is null without text", () => {
    const out = chatToMessages.response({ ...answer, content: [answer.content[2]], stop_reason: "end_turn" }, ctx);
    const choice = (out.choices as Json[])[0] as { finish_reason: string; message: Json };
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
  });
});

/** Feeds Anthropic events to a fresh stream translator and returns the chunks' JSON (or the literal data). */
function translateStream(events: Json[], wantsUsage = true, complete: boolean | null = null): unknown[] {
  const t = chatToMessages.stream(ctx, wantsUsage);
  const out: string[] = [];
  for (const json of events) out.push(...t.event({ event: String(json.type), json, data: JSON.stringify(json) } satisfies UpstreamEvent));
  if (complete !== null) out.push(...t.end(complete));
  return out.map((s) => {
    expect(s).toMatch(/^data: .*\n\n$/s);
    const data = s.slice(6, -2);
    return data === "[DONE]" ? data : (JSON.parse(data) as unknown);
  });
}

describe("Anthropic streams → chat completion chunks", () => {
  const start = {
    type: "message_start",
    message: {
      id: "msg_9",
      type: "message",
      role: "assistant",
      model: "x",
      content: [],
      usage: { input_tokens: 3, cache_read_input_tokens: 7, output_tokens: 1 },
    },
  };
  const stop = { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 12 } };

  it("keeps interleaved parallel tool calls apart: argument deltas go to the call of their block", () => {
    const chunks = translateStream([
      start,
      { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_a", name: "f", input: {} } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_b", name: "g", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"b":' } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"a":1}' } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "2}" } },
      stop,
      { type: "message_stop" },
    ]) as Array<{ choices: Array<{ delta: Json; finish_reason: string | null }>; usage?: Json } | string>;
    const deltas = chunks.flatMap((c) => (typeof c === "string" ? [] : c.choices.map((ch) => ch.delta.tool_calls))).filter(Boolean);
    expect(deltas).toEqual([
      [{ index: 0, id: "toolu_a", type: "function", function: { name: "f", arguments: "" } }],
      [{ index: 1, id: "toolu_b", type: "function", function: { name: "g", arguments: "" } }],
      [{ index: 1, function: { arguments: '{"b":' } }],
      [{ index: 0, function: { arguments: '{"a":1}' } }],
      [{ index: 1, function: { arguments: "2}" } }],
    ]);
    expect(chunks.at(-3)).toMatchObject({ choices: [{ finish_reason: "tool_calls" }] });
    expect(chunks.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 7 } } });
    expect(chunks.at(-1)).toBe("[DONE]");
  });

  it("sends no usage chunk when the client did not ask for one, and drops pings and thinking", () => {
    const chunks = translateStream(
      [
        start,
        { type: "ping" },
        { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } },
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "s" } },
        { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
        { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi" } },
        { ...stop, delta: { stop_reason: "end_turn" } },
        { type: "message_stop" },
      ],
      false,
    );
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toMatchObject({
      id: "chatcmpl-msg_9",
      object: "chat.completion.chunk",
      model: "claude-public",
      choices: [{ delta: { role: "assistant", content: "" } }],
    });
    expect(chunks[1]).toMatchObject({ choices: [{ delta: { content: "Hi" } }] });
    expect(chunks[2]).toMatchObject({ choices: [{ finish_reason: "stop" }] });
    expect(chunks[3]).toBe("[DONE]");
  });

  it("takes a larger input count revised in message_delta, as the route's adapter meters it", () => {
    const chunks = translateStream(
      [start, { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { input_tokens: 50, output_tokens: 4 } }],
      true,
      true,
    );
    expect(chunks.at(-2)).toMatchObject({ usage: { prompt_tokens: 50, completion_tokens: 4, total_tokens: 54 } });
  });

  it("turns an error event into the error data the OpenAI SDK throws on, and sends nothing after it", () => {
    const chunks = translateStream(
      [start, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, { type: "message_stop" }],
      true,
      true,
    );
    expect(chunks.at(-1)).toEqual({ error: { message: "Overloaded", type: "overloaded_error", param: null, code: null } });
    expect(chunks).toHaveLength(2);
  });

  it("sends nothing more, not even [DONE], when the upstream's stream was cut off", () => {
    expect(translateStream([start], true, false)).toHaveLength(1);
  });

  it("closes a stream that ended without message_stop: finish chunk, usage, [DONE]", () => {
    const chunks = translateStream([start], true, true);
    expect(chunks.slice(1)).toMatchObject([{ choices: [{ finish_reason: "stop" }] }, { usage: { prompt_tokens: 10 } }, "[DONE]"]);
  });
});

describe("Anthropic errors → Chat Completions errors", () => {
  it("keeps the message and gives the OpenAI type for the status, the upstream's type as code", () => {
    expect(chatToMessages.error({ type: "error", error: { type: "rate_limit_error", message: "Slow down" } }, 429)).toEqual({
      error: { message: "Slow down", type: "rate_limit_error", param: null, code: "rate_limit_error" },
    });
    expect(chatToMessages.error({ type: "error", error: { type: "invalid_request_error", message: "bad" } }, 400)).toMatchObject({
      error: { message: "bad", type: "invalid_request_error" },
    });
    expect(chatToMessages.error({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, 529)).toMatchObject({
      error: { message: "Overloaded", type: "api_error", code: "overloaded_error" },
    });
  });

  it("gives a message with the status for a body that is not an error body", () => {
    const out = chatToMessages.error(null, 502) as { error: { message: string } };
    expect(out.error.message).toContain("502");
    expect((chatToMessages.error([1, 2], 500) as { error: { message: string } }).error.message).toContain("500");
  });
});
