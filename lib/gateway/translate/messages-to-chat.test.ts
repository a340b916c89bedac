import { describe, expect, it } from "vitest";
import type { Json } from "@/lib/gateway/protocols/adapter";
import { messagesToChat } from "@/lib/gateway/translate/messages-to-chat";

/**
 * An Anthropic Messages client on an OpenAI Chat Completions route (PRODUCT.md,
 * "Protocols: any SDK, any model"): what the route is sent, and what the
 * client gets back.
 */

const ctx = { model: "gpt-public", maxOutputTokens: 4096 };
const base = { model: "gpt-public", max_tokens: 100, messages: [{ role: "user", content: "hi" }] };

function translated(body: Json): { body: Json; dropped: string[] } {
  const t = messagesToChat.request(body, ctx);
  if ("unsupported" in t) throw new Error(`refused: ${t.message}`);
  return t;
}
const bodyOf = (body: Json) => translated(body).body;

describe("Anthropic → Chat requests", () => {
  it("puts the system prompt (a string or text blocks) first, and keeps system entries inside messages in place", () => {
    const out = bodyOf({
      ...base,
      system: [
        { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Be terse." },
      ],
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: "Mid-conversation reminder." },
        { role: "user", content: "go" },
      ],
    });
    expect(out.messages).toEqual([
      { role: "system", content: "You are Claude Code.\n\nBe terse." },
      { role: "user", content: "hi" },
      { role: "system", content: "Mid-conversation reminder." },
      { role: "user", content: "go" },
    ]);
    expect(bodyOf({ ...base, system: "Be terse." }).messages).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: "hi" },
    ]);
  });

  it("maps text and image blocks (base64 to a data URL, URL as is); one text block is a plain string; cache_control is stripped", () => {
    const out = bodyOf({
      ...base,
      messages: [
        { role: "user", content: [{ type: "text", text: "just text", cache_control: { type: "ephemeral" } }] },
        { role: "assistant", content: "ok" },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: "just text" },
      { role: "assistant", content: "ok" },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  it("maps tool uses to tool_calls (ids kept, thinking left out) and tool results to tool messages, in order, before the user's text", () => {
    const out = bodyOf({
      ...base,
      messages: [
        { role: "user", content: "Weather in Paris and Oslo?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "two calls", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_a", name: "weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_b", name: "weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "text", text: "Thanks, and?" },
            { type: "tool_result", tool_use_id: "toolu_a", content: "18C" },
            { type: "tool_result", tool_use_id: "toolu_b", content: [{ type: "text", text: "9C" }], is_error: true },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: "Weather in Paris and Oslo?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "toolu_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "toolu_b", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_a", content: "18C" },
      { role: "tool", tool_call_id: "toolu_b", content: "9C" },
      { role: "user", content: "Thanks, and?" },
    ]);
    expect(translated({ ...base }).dropped).toEqual([]);
  });

  it("moves an image inside a tool result to the user message after the tool messages (a tool message carries text only)", () => {
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "AA==" } };
    const out = bodyOf({
      ...base,
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "screenshot:" }, image] }] }],
    });
    expect(out.messages).toEqual([
      { role: "tool", tool_call_id: "t1", content: "screenshot:" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }] },
    ]);
  });

  it("maps a PDF document to a file part and a text document to text; an assistant turn of only thinking is empty text", () => {
    const out = bodyOf({
      ...base,
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" }, title: "a.pdf" },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "plain words" } },
          ],
        },
        { role: "assistant", content: [{ type: "redacted_thinking", data: "xyz" }] },
        { role: "user", content: "go on" },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
          { type: "text", text: "plain words" },
        ],
      },
      { role: "assistant", content: "" },
      { role: "user", content: "go on" },
    ]);
  });

  it("refuses a block it cannot carry, naming where it is", () => {
    const t = messagesToChat.request(
      {
        ...base,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "x" },
              { type: "container_upload", file_id: "f" },
            ],
          },
        ],
      },
      ctx,
    );
    expect(t).toMatchObject({ unsupported: "messages[0].content[1]" });
  });

  it("maps custom tools to function tools, and drops server tools, listed as tools:<type>", () => {
    const t = translated({
      ...base,
      tools: [
        { name: "weather", description: "Weather now", input_schema: { type: "object", properties: {} }, cache_control: { type: "ephemeral" } },
        { type: "web_search_20250305", name: "web_search", max_uses: 3 },
        { type: "custom", name: "ping", input_schema: { type: "object" } },
        { type: "bash_20250124", name: "bash" },
      ],
    });
    expect(t.body.tools).toEqual([
      { type: "function", function: { name: "weather", description: "Weather now", parameters: { type: "object", properties: {} } } },
      { type: "function", function: { name: "ping", parameters: { type: "object" } } },
    ]);
    expect(t.dropped).toEqual(["tools:web_search_20250305", "tools:bash_20250124"]);
  });

  it("refuses a tool_choice that forces a server tool it dropped", () => {
    const t = messagesToChat.request(
      { ...base, tools: [{ type: "web_search_20250305", name: "web_search" }], tool_choice: { type: "tool", name: "web_search" } },
      ctx,
    );
    expect(t).toMatchObject({ unsupported: "tool_choice" });
  });

  const tools = [{ name: "f", input_schema: { type: "object" } }];
  it.each([
    [{ type: "auto" }, { tool_choice: "auto" }],
    [{ type: "any" }, { tool_choice: "required" }],
    [{ type: "none" }, { tool_choice: "none" }],
    [{ type: "tool", name: "f" }, { tool_choice: { type: "function", function: { name: "f" } } }],
    [
      { type: "auto", disable_parallel_tool_use: true },
      { tool_choice: "auto", parallel_tool_calls: false },
    ],
  ])("maps tool_choice %j to %j", (choice, expected) => {
    const out = bodyOf({ ...base, tools, tool_choice: choice });
    expect({ tool_choice: out.tool_choice, ...(out.parallel_tool_calls === undefined ? {} : { parallel_tool_calls: out.parallel_tool_calls }) }).toEqual(
      expected,
    );
  });

  it("carries stop_sequences, temperature, top_p, max_tokens; a stream asks the route for usage", () => {
    const out = bodyOf({ ...base, stop_sequences: ["END"], temperature: 0.3, top_p: 0.8, stream: true });
    expect(out).toEqual({
      model: "gpt-public",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 100,
      stop: ["END"],
      temperature: 0.3,
      top_p: 0.8,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("drops Anthropic-only fields and lists them by name, in the order met", () => {
    const t = translated({
      ...base,
      metadata: { user_id: "u" },
      thinking: { type: "enabled", budget_tokens: 1000 },
      context_management: { edits: [] },
      output_config: { effort: "low" },
      top_k: 5,
      service_tier: "auto",
      container: "c",
      mcp_servers: [],
      some_future_field: true,
    });
    expect(t.dropped).toEqual([
      "metadata",
      "thinking",
      "context_management",
      "output_config",
      "top_k",
      "service_tier",
      "container",
      "mcp_servers",
      "some_future_field",
    ]);
    for (const field of t.dropped) expect(t.body).not.toHaveProperty(field);
  });
});

describe("Chat completions → Anthropic answers", () => {
  const answer = {
    id: "chatcmpl-abc",
    object: "chat.completion",
    created: 1,
    model: "gpt-upstream",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "call_2", type: "function", function: { name: "weather", arguments: "not json" } },
          ],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
  };

  it("carries the text, then the tool calls in order as tool_use blocks (arguments that are not JSON become {})", () => {
    expect(messagesToChat.response(answer, ctx)).toEqual({
      id: "msg_abc",
      type: "message",
      role: "assistant",
      model: "gpt-public",
      content: [
        { type: "text", text: "Let me check." },
        { type: "tool_use", id: "call_1", name: "weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_2", name: "weather", input: {} },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 30 },
    });
  });

  it("counts input once: input + cache reads + cache writes equals prompt_tokens", () => {
    const u = messagesToChat.response(answer, ctx).usage as Record<string, number>;
    expect(u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens).toBe(120);
  });

  it.each([
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["function_call", "tool_use"],
    ["content_filter", "refusal"],
  ])("maps finish_reason %s to stop_reason %s", (finish, stop) => {
    const out = messagesToChat.response({ ...answer, choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: finish }] }, ctx);
    expect(out.stop_reason).toBe(stop);
  });

  it("says tool_use whenever there are tool calls, even beside finish_reason stop; a refusal is text", () => {
    const withCalls = { ...answer, choices: [{ ...answer.choices[0], finish_reason: "stop" }] };
    expect(messagesToChat.response(withCalls, ctx).stop_reason).toBe("tool_use");
    const refused = {
      ...answer,
      choices: [{ index: 0, message: { role: "assistant", content: null, refusal: "I can't help with that." }, finish_reason: "stop" }],
    };
    expect(messagesToChat.response(refused, ctx).content).toEqual([{ type: "text", text: "I can't help with that." }]);
  });
});

/** Feeds Chat chunks (JSON or "[DONE]") to a fresh stream translator and returns the events as [name, data]. */
function translateStream(chunks: Array<Json | string>, complete: boolean | null = null): Array<[string, Json]> {
  const t = messagesToChat.stream(ctx, false);
  const out: string[] = [];
  for (const c of chunks)
    out.push(...t.event({ event: undefined, json: typeof c === "string" ? null : c, data: typeof c === "string" ? c : JSON.stringify(c) }));
  if (complete !== null) out.push(...t.end(complete));
  return out.map((s) => {
    const m = /^event: (\S+)\ndata: (.*)\n\n$/s.exec(s);
    if (!m) throw new Error(`not an SSE event: ${s}`);
    const data = JSON.parse(m[2]) as Json;
    expect(data.type).toBe(m[1]);
    return [m[1], data];
  });
}

describe("Chat completion chunks → Anthropic streams", () => {
  const chunk = (delta: Json, finish: string | null = null): Json => ({
    id: "chatcmpl-s",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const usage = { id: "chatcmpl-s", choices: [], usage: { prompt_tokens: 50, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 40 } } };

  it("opens a text block, then one tool_use block per call; interleaved argument fragments go to their call's block", () => {
    const events = translateStream([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hi" }),
      chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "g", arguments: '{"b":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "2}" } }] }),
      chunk({}, "tool_calls"),
      usage,
      "[DONE]",
    ]);
    expect(events.map(([name, data]) => [name, data.index ?? null])).toEqual([
      ["message_start", null],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_start", 2],
      ["content_block_delta", 2],
      ["content_block_delta", 1],
      ["content_block_delta", 2],
      ["content_block_stop", 1],
      ["content_block_stop", 2],
      ["message_delta", null],
      ["message_stop", null],
    ]);
    expect(events[0][1].message).toMatchObject({ id: "msg_s", model: "gpt-public", content: [], usage: { input_tokens: 0, output_tokens: 0 } });
    expect(events[4][1].content_block).toEqual({ type: "tool_use", id: "call_a", name: "f", input: {} });
    expect(events[6][1].delta).toEqual({ type: "input_json_delta", partial_json: '{"b":' });
    expect(events[11][1]).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 40, output_tokens: 9 },
    });
  });

  it("closes a stream that ended without [DONE], and sends nothing more for one cut off", () => {
    expect(translateStream([chunk({ content: "x" }, "length")], true).map(([n]) => n)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(translateStream([chunk({ content: "x" })], false).map(([n]) => n)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
  });

  it("turns an error chunk into Anthropic's error event, and sends nothing after it", () => {
    const events = translateStream([chunk({ content: "x" }), { error: { message: "boom", type: "server_error" } }, "[DONE]"], true);
    expect(events.at(-1)).toEqual(["error", { type: "error", error: { type: "api_error", message: "boom" } }]);
    expect(events).toHaveLength(4);
  });
});

describe("Chat Completions errors → Anthropic errors", () => {
  it("keeps the message, typed for the status", () => {
    expect(messagesToChat.error({ error: { message: "Slow down", type: "requests", code: "rate_limit_exceeded" } }, 429)).toEqual({
      type: "error",
      error: { type: "rate_limit_error", message: "Slow down" },
    });
    expect(messagesToChat.error({ error: { message: "No key" } }, 401)).toEqual({ type: "error", error: { type: "authentication_error", message: "No key" } });
    expect(messagesToChat.error({ error: { message: "down" } }, 500)).toEqual({ type: "error", error: { type: "api_error", message: "down" } });
  });

  it("gives a message with the status for a body that is not an error body", () => {
    const out = messagesToChat.error("<html>", 502) as { error: { message: string } };
    expect(out.error.message).toContain("502");
  });
});
