import { createParser } from "eventsource-parser";
import fc from "fast-check";
import OpenAI from "openai";
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import type { Json } from "@/lib/gateway/protocols/adapter";
import { responsesToChat } from "@/lib/gateway/translate/responses-to-chat";
import type { TranslateContext } from "@/lib/gateway/translate/types";

const ctx: TranslateContext = { model: "public-model", maxOutputTokens: 4096 };

const SHELL_TOOL = {
  type: "function",
  name: "shell",
  description: "Runs a shell command and returns its output.",
  strict: false,
  parameters: { type: "object", properties: { command: { type: "array", items: { type: "string" } } }, required: ["command"] },
};
const PLAN_TOOL = { type: "function", name: "update_plan", description: "Updates the plan.", strict: false, parameters: { type: "object", properties: {} } };

/** What Codex CLI sends (store: false, a reasoning item, items with id/status, built-in tools beside its function tools). */
const CODEX_BODY: Json = {
  model: "gpt-5-codex",
  instructions: "You are Codex, a coding agent.",
  input: [
    { type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions instructions>" }] },
    { type: "message", role: "user", content: [{ type: "input_text", text: "<environment_context>cwd: /work</environment_context>" }] },
    { type: "message", role: "user", content: [{ type: "input_text", text: "List the files." }] },
    { type: "reasoning", id: "rs_1", summary: [], content: null, encrypted_content: "gAAAAB…" },
    { type: "message", id: "msg_1", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Listing them.", annotations: [] }] },
    { type: "function_call", id: "fc_1", status: "completed", name: "shell", arguments: '{"command":["ls"]}', call_id: "call_1" },
    { type: "function_call", id: "fc_2", status: "completed", name: "shell", arguments: '{"command":["pwd"]}', call_id: "call_2" },
    { type: "function_call_output", call_id: "call_1", output: "a.txt\nb.txt" },
    { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "/work" }] },
    { type: "reasoning", id: "rs_2", summary: [{ type: "summary_text", text: "Done." }], encrypted_content: "gAAAAC…" },
    { type: "function_call", id: "fc_3", name: "update_plan", arguments: "{}", call_id: "call_3" },
    { type: "function_call_output", call_id: "call_3", output: "ok" },
  ],
  tools: [
    SHELL_TOOL,
    { type: "web_search" },
    PLAN_TOOL,
    { type: "custom", name: "apply_patch", format: { type: "grammar" } },
    { type: "local_shell" },
    { type: "web_search" },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { effort: "medium", summary: "auto" },
  store: false,
  stream: true,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "0199a-session",
  text: { verbosity: "low" },
};

const chatTool = (t: Json) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters, strict: t.strict } });

describe("responsesToChat.request", () => {
  it("translates Codex CLI's request: developer → system, reasoning items dropped, parallel calls in one assistant message, built-in tools dropped and listed once each", () => {
    const t = responsesToChat.request(CODEX_BODY, ctx);
    expect(t).toEqual({
      body: {
        model: "gpt-5-codex",
        messages: [
          { role: "system", content: "You are Codex, a coding agent." },
          { role: "system", content: "<permissions instructions>" },
          { role: "user", content: "<environment_context>cwd: /work</environment_context>" },
          { role: "user", content: "List the files." },
          {
            role: "assistant",
            content: "Listing them.",
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "shell", arguments: '{"command":["ls"]}' } },
              { id: "call_2", type: "function", function: { name: "shell", arguments: '{"command":["pwd"]}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "a.txt\nb.txt" },
          { role: "tool", tool_call_id: "call_2", content: "/work" },
          { role: "assistant", content: null, tool_calls: [{ id: "call_3", type: "function", function: { name: "update_plan", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "call_3", content: "ok" },
        ],
        tools: [chatTool(SHELL_TOOL), chatTool(PLAN_TOOL)],
        tool_choice: "auto",
        parallel_tool_calls: true,
        stream: true,
        stream_options: { include_usage: true },
      },
      dropped: ["tools:web_search", "tools:custom", "tools:local_shell", "reasoning", "include", "prompt_cache_key", "text.verbosity"],
    });
  });

  it("takes a string input as one user message, and carries the sampling, cap and output format fields", () => {
    const t = responsesToChat.request(
      {
        model: "m",
        input: "Hi",
        max_output_tokens: 300,
        temperature: 0.2,
        top_p: 0.9,
        text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true, description: "An answer." } },
      },
      ctx,
    );
    expect(t).toEqual({
      body: {
        model: "m",
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 300,
        temperature: 0.2,
        top_p: 0.9,
        response_format: { type: "json_schema", json_schema: { name: "answer", description: "An answer.", schema: { type: "object" }, strict: true } },
      },
      dropped: [],
    });
    const json = responsesToChat.request({ model: "m", input: "Hi", text: { format: { type: "json_object" } } }, ctx);
    expect(json).toMatchObject({ body: { response_format: { type: "json_object" } } });
    const text = responsesToChat.request({ model: "m", input: "Hi", text: { format: { type: "text" } }, stream: false }, ctx);
    expect(text).toEqual({ body: { model: "m", messages: [{ role: "user", content: "Hi" }] }, dropped: [] });
  });

  it("translates content parts: text and refusals as text, images by URL with their detail, messages without a type", () => {
    const t = responsesToChat.request(
      {
        model: "m",
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "What is this?" },
              { type: "input_image", image_url: "https://example.com/cat.png", detail: "low" },
              { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" },
            ],
          },
          { role: "assistant", content: [{ type: "refusal", refusal: "I can't tell." }] },
          { role: "system", content: "Be brief." },
        ],
      },
      ctx,
    );
    expect(t).toEqual({
      body: {
        model: "m",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
              { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "auto" } },
            ],
          },
          { role: "assistant", content: "I can't tell." },
          { role: "system", content: "Be brief." },
        ],
      },
      dropped: [],
    });
  });

  it("maps tool_choice: the strings, and a named function", () => {
    for (const choice of ["auto", "none", "required"]) {
      expect(responsesToChat.request({ model: "m", input: "x", tools: [SHELL_TOOL], tool_choice: choice }, ctx)).toMatchObject({
        body: { tool_choice: choice },
      });
    }
    const named = responsesToChat.request({ model: "m", input: "x", tools: [SHELL_TOOL], tool_choice: { type: "function", name: "shell" } }, ctx);
    expect(named).toMatchObject({ body: { tool_choice: { type: "function", function: { name: "shell" } } } });
  });

  it("carries inline files and allowed-tools choices; refuses files by id and images in a function's output", () => {
    const file = responsesToChat.request(
      { model: "m", input: [{ role: "user", content: [{ type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,AAAA" }] }] },
      ctx,
    );
    expect(file).toMatchObject({
      body: { messages: [{ role: "user", content: [{ type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,AAAA" } }] }] },
    });
    const byId = responsesToChat.request({ model: "m", input: [{ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }] }, ctx);
    expect(byId).toMatchObject({ unsupported: "input_file.file_id" });
    const image = responsesToChat.request(
      { model: "m", input: [{ type: "function_call_output", call_id: "c", output: [{ type: "input_image", image_url: "https://example.com/a.png" }] }] },
      ctx,
    );
    expect(image).toMatchObject({ unsupported: "input:function_call_output" });
    const allowed = responsesToChat.request(
      {
        model: "m",
        input: "x",
        tools: [SHELL_TOOL, PLAN_TOOL],
        tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "shell" }] },
      },
      ctx,
    );
    expect(allowed).toMatchObject({
      body: { tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "shell" } }] } } },
    });
  });

  it("lists advisory fields it drops, by the client's names, in the order met; store: false passes silently", () => {
    const t = responsesToChat.request(
      {
        model: "m",
        user: "u1",
        input: "x",
        metadata: { a: "b" },
        service_tier: "flex",
        store: true,
        truncation: "auto",
        safety_identifier: "s",
        client_metadata: {},
        max_tool_calls: 3,
        background: false,
        something_new: 1,
      },
      ctx,
    );
    expect(t).toMatchObject({
      dropped: ["user", "metadata", "service_tier", "store", "truncation", "safety_identifier", "client_metadata", "max_tool_calls", "something_new"],
    });
    expect(responsesToChat.request({ model: "m", input: "x", store: false }, ctx)).toMatchObject({ dropped: [] });
  });

  it("refuses what needs stored state or changes the answer without an equivalent", () => {
    const refusal = (body: Json) => responsesToChat.request({ model: "m", input: "x", ...body }, ctx);
    expect(refusal({ previous_response_id: "resp_1" })).toEqual({
      unsupported: "previous_response_id",
      message: "Keygate's /v1/responses is stateless: send the whole conversation in 'input' instead of 'previous_response_id'.",
    });
    const forced = refusal({ tools: [SHELL_TOOL, { type: "web_search" }], tool_choice: { type: "web_search" } });
    expect(forced).toMatchObject({ unsupported: "tool_choice" });
    expect((forced as { message: string }).message).toMatch(/Keygate cannot run built-in tools/);
    expect(refusal({ tools: [{ type: "web_search" }], tool_choice: "required" })).toMatchObject({ unsupported: "tool_choice" });
    expect(refusal({ input: [{ type: "item_reference", id: "msg_1" }] })).toMatchObject({ unsupported: "input:item_reference" });
    expect(refusal({ input: [{ type: "local_shell_call", call_id: "c", action: {} }] })).toMatchObject({ unsupported: "input:local_shell_call" });
    expect(refusal({ input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] })).toMatchObject({
      unsupported: "input_image.file_id",
    });
    expect(refusal({ conversation: "conv_1" })).toMatchObject({ unsupported: "conversation" });
    expect(refusal({ background: true })).toMatchObject({ unsupported: "background" });
    expect(refusal({ prompt: { id: "pmpt_1" } })).toMatchObject({ unsupported: "prompt" });
    expect(refusal({ top_logprobs: 5 })).toMatchObject({ unsupported: "top_logprobs" });
  });
});

// ---------------------------------------------------------------- Chat answers, whole and streamed

interface Call {
  id: string;
  name: string;
  args: string;
  cuts: number[];
}

interface Answer {
  id: string;
  created: number;
  text: string;
  textCuts: number[];
  refusal: string;
  calls: Call[];
  /** Which started call sends its next fragment (calls start in order; fragments of started calls interleave). */
  schedule: number[];
  finish: "stop" | "length" | "tool_calls" | "content_filter";
  usage?: { prompt: number; completion: number; cached: number; reasoning: number };
}

function pieces(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out.filter(Boolean);
}

function chatUsage(u: NonNullable<Answer["usage"]>): Json {
  return {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: Math.min(u.cached, u.prompt) },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

/** The answer as a whole Chat Completions body. */
function chatJson(a: Answer): Json {
  const message: Json = { role: "assistant", content: a.text || null, refusal: a.refusal || null };
  if (a.calls.length) message.tool_calls = a.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.args } }));
  return {
    id: a.id,
    object: "chat.completion",
    created: a.created,
    model: "upstream-model",
    choices: [{ index: 0, message, finish_reason: a.finish, logprobs: null }],
    ...(a.usage ? { usage: chatUsage(a.usage) } : {}),
  };
}

/** The same answer as a Chat Completions stream (usage in a last chunk without choices, then [DONE]). */
function chatSse(a: Answer): string {
  const base = { id: a.id, object: "chat.completion.chunk", created: a.created, model: "upstream-model" };
  const chunks: Json[] = [];
  const push = (delta: Json, finish: string | null = null) => chunks.push({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  push({ role: "assistant", content: "" });
  for (const p of pieces(a.text, a.textCuts)) push({ content: p });
  for (const p of pieces(a.refusal, a.textCuts)) push({ refusal: p });
  const fragments = a.calls.map((c, index) => [
    { index, id: c.id, type: "function", function: { name: c.name, arguments: "" } },
    ...pieces(c.args, c.cuts).map((p) => ({ index, function: { arguments: p } })),
  ]);
  let started = 0;
  for (let s = 0; ; s++) {
    const ready = fragments.map((f, i) => i).filter((i) => (i < started && fragments[i].length > 0) || (i === started && i < fragments.length));
    if (!ready.length) break;
    const i = ready[(a.schedule.length ? a.schedule[s % a.schedule.length] : 0) % ready.length];
    if (i === started) started++;
    push({ tool_calls: [fragments[i].shift()] });
  }
  push({}, a.finish);
  if (a.usage) chunks.push({ ...base, choices: [], usage: chatUsage(a.usage) });
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
}

/** Translates a Chat SSE stream delivered in the given byte pieces (split anywhere, even inside a character). */
function translateStream(sse: string, byteCuts: number[] = [], c: TranslateContext = ctx): string {
  const bytes = new TextEncoder().encode(sse);
  const points = [...new Set(byteCuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
  const t = responsesToChat.stream(c, false);
  const decoder = new TextDecoder();
  let out = "";
  const parser = createParser({
    onEvent: (e) => {
      let json: Json | null = null;
      try {
        json = JSON.parse(e.data) as Json;
      } catch {
        json = null;
      }
      out += t.event({ event: e.event, json, data: e.data }).join("");
    },
  });
  let last = 0;
  for (const p of [...points, bytes.length]) {
    parser.feed(decoder.decode(bytes.slice(last, p), { stream: true }));
    last = p;
  }
  parser.feed(decoder.decode());
  return out + t.end(true).join("");
}

/** The client's events, checking each is framed with its type as the SSE event name. */
function events(sse: string): Json[] {
  const out: Json[] = [];
  const parser = createParser({
    onEvent: (e) => {
      const json = JSON.parse(e.data) as Json;
      expect(e.event).toBe(json.type);
      out.push(json);
    },
  });
  parser.feed(sse);
  return out;
}

/**
 * Builds the output from the added items, added parts and deltas only, checking on the way
 * what a client relies on: sequence numbers 0, 1, 2…; every event names an item (by
 * output_index and item_id) and a part added before it and not yet done; each `.done` event
 * repeats exactly what the deltas built. Returns that output and the last event.
 */
function assemble(evs: Json[]): { output: Json[]; last: Json } {
  expect(evs.map((e) => e.sequence_number)).toEqual(evs.map((_, i) => i));
  expect(evs.slice(0, 2).map((e) => e.type)).toEqual(["response.created", "response.in_progress"]);
  const items: Json[] = [];
  const open = new Set<number>();
  const item = (e: Json): Json => {
    const it = items[e.output_index as number];
    expect(it, `${String(e.type)} names an item added earlier`).toBeDefined();
    expect(open.has(e.output_index as number)).toBe(true);
    if ("item_id" in e) expect(e.item_id).toBe(it.id);
    return it;
  };
  const part = (e: Json): Json => {
    const content = item(e).content as Json[];
    expect(content[e.content_index as number], `${String(e.type)} names a part added earlier`).toBeDefined();
    return content[e.content_index as number];
  };
  for (const e of evs.slice(2, -1)) {
    switch (e.type) {
      case "response.output_item.added":
        expect(e.output_index).toBe(items.length);
        expect((e.item as Json).status).toBe("in_progress");
        // As OpenAI streams: a message is done before the next item starts (function calls may stay open together).
        items.forEach((it, i) => expect(it.type === "message" && open.has(i)).toBe(false));
        items.push(structuredClone(e.item as Json));
        open.add(e.output_index as number);
        break;
      case "response.content_part.added": {
        const content = item(e).content as Json[];
        expect(e.content_index).toBe(content.length);
        content.push(structuredClone(e.part as Json));
        break;
      }
      case "response.output_text.delta":
        expect(part(e).type).toBe("output_text");
        part(e).text += e.delta as string;
        break;
      case "response.refusal.delta":
        expect(part(e).type).toBe("refusal");
        part(e).refusal += e.delta as string;
        break;
      case "response.output_text.done":
        expect(e.text).toBe(part(e).text);
        break;
      case "response.refusal.done":
        expect(e.refusal).toBe(part(e).refusal);
        break;
      case "response.content_part.done":
        expect(e.part).toEqual(part(e));
        break;
      case "response.function_call_arguments.delta":
        expect(item(e).type).toBe("function_call");
        item(e).arguments += e.delta as string;
        break;
      case "response.function_call_arguments.done":
        expect(e.arguments).toBe(item(e).arguments);
        expect(e.name).toBe(item(e).name);
        break;
      case "response.output_item.done": {
        const mine = item(e);
        const { status, ...rest } = e.item as Json;
        expect({ ...mine, status }).toEqual({ ...rest, status });
        mine.status = status;
        open.delete(e.output_index as number);
        break;
      }
      default:
        throw new Error(`unexpected event ${String(e.type)}`);
    }
  }
  expect(open.size).toBe(0);
  return { output: items, last: evs[evs.length - 1] };
}

const TEXT_ANSWER: Answer = {
  id: "chatcmpl-abc123",
  created: 1_760_000_000,
  text: "Hello there!",
  textCuts: [2, 5],
  refusal: "",
  calls: [],
  schedule: [],
  finish: "stop",
  usage: { prompt: 120, completion: 4, cached: 100, reasoning: 0 },
};

const TOOLS_ANSWER: Answer = {
  id: "chatcmpl-tools1",
  created: 1_760_000_001,
  text: "Let me look.",
  textCuts: [4],
  refusal: "",
  calls: [
    { id: "call_A", name: "shell", args: '{"command":["ls","-la"]}', cuts: [3, 9, 15] },
    { id: "call_B", name: "read_file", args: '{"path":"README.md"}', cuts: [5, 11] },
  ],
  schedule: [0, 1, 0, 1, 1, 0, 1, 0],
  finish: "tool_calls",
  usage: { prompt: 900, completion: 40, cached: 512, reasoning: 16 },
};

describe("responsesToChat.response", () => {
  it("turns a text answer into a completed response with usage, cached tokens included, and echoes the request", () => {
    const r = responsesToChat.response(chatJson(TEXT_ANSWER), { ...ctx, request: { model: "m", instructions: "Be kind.", temperature: 0.5, input: "Hi" } });
    expect(r).toMatchObject({
      id: "resp_abc123",
      object: "response",
      created_at: 1_760_000_000,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be kind.",
      temperature: 0.5,
      model: "public-model",
      output: [
        {
          id: "msg_abc123",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello there!", annotations: [], logprobs: [] }],
        },
      ],
      usage: {
        input_tokens: 120,
        input_tokens_details: { cached_tokens: 100 },
        output_tokens: 4,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 124,
      },
    });
  });

  it("turns parallel tool calls into function_call items in order, keeping their ids as call_id", () => {
    const r = responsesToChat.response(chatJson(TOOLS_ANSWER), ctx);
    expect(r.status).toBe("completed");
    expect(r.output).toEqual([
      expect.objectContaining({ type: "message", content: [expect.objectContaining({ text: "Let me look." })] }),
      { id: "fc_tools1_0", type: "function_call", status: "completed", call_id: "call_A", name: "shell", arguments: '{"command":["ls","-la"]}' },
      { id: "fc_tools1_1", type: "function_call", status: "completed", call_id: "call_B", name: "read_file", arguments: '{"path":"README.md"}' },
    ]);
    expect(r.usage).toMatchObject({ output_tokens_details: { reasoning_tokens: 16 }, input_tokens_details: { cached_tokens: 512 } });
  });

  it("reports a truncated answer as incomplete (max_output_tokens), its last item incomplete; a filtered one as content_filter", () => {
    const r = responsesToChat.response(chatJson({ ...TEXT_ANSWER, finish: "length" }), ctx);
    expect(r).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, output: [{ status: "incomplete" }] });
    const f = responsesToChat.response(chatJson({ ...TEXT_ANSWER, finish: "content_filter" }), ctx);
    expect(f).toMatchObject({ status: "incomplete", incomplete_details: { reason: "content_filter" } });
  });

  it("turns a refusal into a refusal part", () => {
    const r = responsesToChat.response(chatJson({ ...TEXT_ANSWER, text: "", refusal: "I can't help with that." }), ctx);
    expect(r.output).toEqual([expect.objectContaining({ content: [{ type: "refusal", refusal: "I can't help with that." }] })]);
  });
});

describe("responsesToChat.error", () => {
  it("passes OpenAI's error shape through and wraps anything else in it, keeping the message", () => {
    const body = { error: { message: "Rate limited", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" } };
    expect(responsesToChat.error(body, 429)).toBe(body);
    expect(responsesToChat.error({ message: "upstream exploded" }, 500)).toMatchObject({ error: { message: "upstream exploded", type: "api_error" } });
    expect(responsesToChat.error(null, 502)).toMatchObject({ error: { message: expect.stringContaining("502") } });
  });
});

// ---------------------------------------------------------------- the official SDK as the judge

function sdkAnswering(body: () => string, contentType: string): OpenAI {
  return new OpenAI({
    apiKey: "x",
    baseURL: "http://keygate.invalid/v1",
    maxRetries: 0,
    fetch: async () => new Response(body(), { headers: { "content-type": contentType } }),
  });
}

/** The SDK's parsed response, without what its parser adds (output_parsed, parsed, parsed_arguments, output_text). */
function unparsed(r: unknown): Json {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (["output_parsed", "parsed", "parsed_arguments", "output_text"].includes(k) ? undefined : v))) as Json;
}

describe("the openai SDK reading the translated answers", () => {
  for (const [name, answer] of [
    ["text", TEXT_ANSWER],
    ["text and parallel tool calls", TOOLS_ANSWER],
    ["a truncated answer", { ...TEXT_ANSWER, finish: "length" as const }],
  ] as const) {
    it(`responses.stream().finalResponse() gives what response() gives for the whole answer (${name})`, async () => {
      const expected = responsesToChat.response(chatJson(answer), ctx);
      const client = sdkAnswering(() => translateStream(chatSse(answer)), "text/event-stream");
      const deltas: string[] = [];
      const stream = client.responses.stream({ model: "public-model", input: "Hi" });
      stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
      const final = await stream.finalResponse();
      expect(unparsed(final)).toEqual(expected);
      expect(final.output_text).toBe(answer.text);
      expect(deltas.join("")).toBe(answer.text);
    });
  }

  it("responses.create({stream: true}) iterates the event sequence, ending in response.completed with usage", async () => {
    const client = sdkAnswering(() => translateStream(chatSse(TOOLS_ANSWER)), "text/event-stream");
    const types: string[] = [];
    let completed: Json | undefined;
    for await (const e of await client.responses.create({ model: "public-model", input: "Hi", stream: true })) {
      types.push(e.type);
      if (e.type === "response.completed") completed = e.response as unknown as Json;
    }
    expect(types.slice(0, 7)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
    ]);
    expect(types.at(-1)).toBe("response.completed");
    expect(types.filter((t) => t === "response.output_item.added")).toHaveLength(3);
    expect(completed?.usage).toEqual({
      input_tokens: 900,
      input_tokens_details: { cached_tokens: 512, cache_write_tokens: 0 },
      output_tokens: 40,
      output_tokens_details: { reasoning_tokens: 16 },
      total_tokens: 940,
    });
  });

  it("responses.create() (not streamed) reads response()'s body, output_text included", async () => {
    const client = sdkAnswering(() => JSON.stringify(responsesToChat.response(chatJson(TOOLS_ANSWER), ctx)), "application/json");
    const r = await client.responses.create({ model: "public-model", input: "Hi" });
    expect(r.output_text).toBe("Let me look.");
    expect(r.output.filter((o) => o.type === "function_call").map((o) => [o.call_id, o.name, o.arguments])).toEqual([
      ["call_A", "shell", '{"command":["ls","-la"]}'],
      ["call_B", "read_file", '{"path":"README.md"}'],
    ]);
  });

  it("an error mid-stream makes the SDK throw with the upstream's message; the stream then ends in response.failed", async () => {
    const sse =
      `data: ${JSON.stringify({ id: "chatcmpl-e", created: 1, choices: [{ index: 0, delta: { content: "Hel" } }] })}\n\n` +
      `data: ${JSON.stringify({ error: { message: "Overloaded", type: "server_error", code: null } })}\n\n`;
    const translated = translateStream(sse);
    const client = sdkAnswering(() => translated, "text/event-stream");
    await expect(client.responses.stream({ model: "public-model", input: "Hi" }).finalResponse()).rejects.toThrow(/Overloaded/);
    const evs = events(translated);
    expect(evs.slice(-2)).toMatchObject([
      { type: "error", message: "Overloaded", code: null, param: null },
      { type: "response.failed", response: { status: "failed", error: { code: "server_error", message: "Overloaded" } } },
    ]);
  });

  it("text after a tool call opens a second message item, and the SDK accepts the sequence", async () => {
    const base = { id: "chatcmpl-late", created: 5 };
    const chunk = (delta: Json, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
    const sse = [
      chunk({ content: "First." }),
      chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] }),
      chunk({ content: "Then." }),
      chunk({}, "tool_calls"),
    ]
      .map((c) => `data: ${JSON.stringify(c)}\n\n`)
      .join("");
    const translated = translateStream(sse + "data: [DONE]\n\n");
    const { output } = assemble(events(translated));
    expect(output.map((o) => [o.type, o.id])).toEqual([
      ["message", "msg_late"],
      ["function_call", "fc_late_0"],
      ["message", "msg_late_1"],
    ]);
    const final = await sdkAnswering(() => translated, "text/event-stream")
      .responses.stream({ model: "public-model", input: "Hi" })
      .finalResponse();
    expect(final.output_text).toBe("First.Then.");
  });

  it("a stream cut short gets no closing events: the client sees no response.completed", () => {
    const t = responsesToChat.stream(ctx, false);
    const chunk = { id: "chatcmpl-cut", created: 1, choices: [{ index: 0, delta: { content: "Hel" } }] };
    const out = t.event({ event: undefined, json: chunk, data: JSON.stringify(chunk) });
    expect(t.end(false)).toEqual([]);
    expect(events(out.join("")).map((e) => e.type)).not.toContain("response.completed");
  });
});

// ---------------------------------------------------------------- property

const callArb: fc.Arbitrary<Call> = fc.record({
  id: fc.stringMatching(/^call_[A-Za-z0-9]{1,12}$/),
  name: fc.stringMatching(/^[a-z_]{1,12}$/),
  args: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ v })),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
});

const answerArb: fc.Arbitrary<Answer> = fc.record({
  id: fc.stringMatching(/^chatcmpl-[A-Za-z0-9]{1,10}$/),
  created: fc.integer({ min: 1, max: 2_000_000_000 }),
  text: fc.oneof(fc.constant(""), fc.string({ unit: "binary", maxLength: 40 })),
  textCuts: fc.array(fc.nat(), { maxLength: 8 }),
  refusal: fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }),
  calls: fc.array(callArb, { maxLength: 3 }),
  schedule: fc.array(fc.nat(), { maxLength: 20 }),
  finish: fc.constantFrom("stop", "length", "tool_calls", "content_filter"),
  usage: fc.option(
    fc.record({ prompt: fc.nat({ max: 100_000 }), completion: fc.nat({ max: 10_000 }), cached: fc.nat({ max: 100_000 }), reasoning: fc.nat({ max: 1_000 }) }),
    { nil: undefined },
  ),
});

describe("the translated stream, for any answer however its bytes are cut", () => {
  it("builds, event by event, exactly the response that response() gives for the whole answer", () => {
    const request = { model: "m", input: "Hi", instructions: "Be brief.", tools: [SHELL_TOOL], temperature: 0.3 };
    fc.assert(
      fc.property(answerArb, fc.array(fc.nat(), { maxLength: 10 }), (answer, byteCuts) => {
        const c = { ...ctx, request };
        const expected = responsesToChat.response(chatJson(answer), c);
        const evs = events(translateStream(chatSse(answer), byteCuts, c));
        const { output, last } = assemble(evs);
        expect(output).toEqual(expected.output);
        expect(last.type).toBe(expected.status === "completed" ? "response.completed" : "response.incomplete");
        expect(last.response).toEqual(expected);
        // The SDK's own accumulator accepts the sequence, and its text is the answer's.
        let snapshot: ReturnType<typeof accumulateResponse> | undefined;
        for (const e of evs.slice(0, -1)) snapshot = accumulateResponse(e as unknown as ResponseStreamEvent, snapshot);
        expect(snapshot?.output_text).toBe(answer.text);
      }),
      { numRuns: 300 },
    );
  });
});
