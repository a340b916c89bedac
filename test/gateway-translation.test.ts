import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { createUser, type TestUser } from "./api";
import { accountSnapshot, createCreditKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Any SDK, any model (PRODUCT.md, "Protocols: any SDK, any model"), through
 * the gateway with the official SDKs: the Responses API on a Chat
 * Completions route, with what is translated, dropped and refused, and the
 * money: a translated request costs what the same request costs untranslated.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

const CLAUDE = {
  model: "claude-translated",
  provider: "anthropic" as const,
  upstreamModel: "claude-test",
  inputMicrosPerMTok: BigInt(3_000_000),
  outputMicrosPerMTok: BigInt(15_000_000),
  maxOutputTokens: 64,
};

const GPT = {
  model: "gpt-translated",
  provider: "openai" as const,
  upstreamModel: "gpt-4o-mini",
  inputMicrosPerMTok: BigInt(1_000_000),
  outputMicrosPerMTok: BigInt(2_000_000),
  maxOutputTokens: 100,
};

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
    KEYGATE_DEMO_UPSTREAM: "on",
  });
  const db = await prisma();
  for (const m of [GPT, CLAUDE]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, {
    status: undefined,
    raw: undefined,
    usage: undefined,
    toolCalls: undefined,
    cachedTokens: undefined,
    outputTokens: undefined,
    chunkDelayMs: undefined,
  });
  up.reset();
  await resetRouting();
});

async function client(): Promise<{ user: TestUser; openai: OpenAI; anthropic: Anthropic }> {
  const user = await createUser({ creditUsd: 10 });
  const key = await createCreditKey(user, { rpm: 1000 });
  return { user, openai: gw.openai(key.apiKey), anthropic: gw.anthropic(key.apiKey) };
}

async function records(user: TestUser) {
  await flushUsage();
  return (await prisma()).usageRecord.findMany({ where: { userId: user.id }, orderBy: { createdAt: "asc" } });
}

const chatSent = () => up.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body);
const messagesSent = () => up.requests.filter((r) => r.path === "/v1/messages").map((r) => r.body);

const WEATHER_TOOL = {
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
/** Two calls in parallel, as the test upstream answers them. */
const TWO_CALLS = [
  { name: "get_weather", arguments: { city: "Paris" } },
  { name: "get_weather", arguments: { city: "Tokyo" } },
];
const PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/** Two usage records are the same charge: the same token counts, at the same price. */
function expectSameCharge(a: { inputTokens: number; outputTokens: number; costMicros: bigint }, b: typeof a) {
  expect({ input: b.inputTokens, output: b.outputTokens, cost: b.costMicros }).toEqual({ input: a.inputTokens, output: a.outputTokens, cost: a.costMicros });
  expect(a.costMicros).toBeGreaterThan(BigInt(0));
}

describe("the Responses API on a Chat Completions route", () => {
  it("answers responses.create with the route's answer as a Response, sending the route a Chat Completions request", async () => {
    const { openai } = await client();
    const { data, response } = await openai.responses
      .create({ model: GPT.model, instructions: "Be brief.", input: "Say hello", max_output_tokens: 3 })
      .withResponse();
    expect(data.object).toBe("response");
    expect(data.status).toBe("incomplete");
    expect(data.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(data.model).toBe(GPT.model);
    expect(data.output_text).toBe("w0 w1 w2");
    expect(data.usage).toMatchObject({ output_tokens: 3, total_tokens: data.usage!.input_tokens + 3 });
    expect(response.headers.get("x-keygate-upstream")).toBe("env-openai");
    expect(response.headers.get("x-keygate-dropped-params")).toBeNull();
    expect(chatSent()).toEqual([
      {
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hello" },
        ],
        max_tokens: 3,
      },
    ]);
  });

  it("charges a translated request exactly what the same request costs on Chat Completions, whole and streamed", async () => {
    const { user, openai } = await client();
    await openai.chat.completions.create({
      model: GPT.model,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 4,
    });
    await openai.responses.create({ model: GPT.model, instructions: "Be brief.", input: "Say hello", max_output_tokens: 4 });
    const final = await openai.responses.stream({ model: GPT.model, instructions: "Be brief.", input: "Say hello", max_output_tokens: 4 }).finalResponse();
    expect(final.output_text).toBe("w0 w1 w2 w3");
    const [chat, whole, streamed] = await records(user);
    for (const r of [whole, streamed]) {
      expect({ input: r.inputTokens, output: r.outputTokens, cost: r.costMicros }).toEqual({
        input: chat.inputTokens,
        output: chat.outputTokens,
        cost: chat.costMicros,
      });
    }
    expect(chat.costMicros).toBeGreaterThan(BigInt(0));
    expect(streamed.streamed).toBe(true);
  });

  it("streams the response.* event sequence, ending in response.completed with the usage", async () => {
    const { openai } = await client();
    const stream = await openai.responses.create({ model: GPT.model, input: "Say hello", stream: true });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.filter((t) => t === "response.output_text.delta")).toHaveLength(5);
    expect(types.at(-1)).toBe("response.completed");
    expect(completed?.output_text ?? completed?.output).toBeTruthy();
    expect(completed?.usage).toMatchObject({ output_tokens: 5 });
    expect(chatSent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("drops the advisory fields it cannot carry and lists them in x-keygate-dropped-params, in the order sent", async () => {
    const { openai } = await client();
    const { response } = await openai.responses
      .create({
        model: GPT.model,
        input: "Say hello",
        store: true,
        user: "end-user-7",
        include: ["reasoning.encrypted_content"],
        tools: [{ type: "web_search" }],
      })
      .withResponse();
    expect(response.headers.get("x-keygate-dropped-params")).toBe("store, user, include, tools:web_search");
    expect(chatSent()[0]).not.toHaveProperty("tools");
  });

  it("refuses previous_response_id with 400 unsupported_parameter naming it, before anything is sent or charged", async () => {
    const { user, openai } = await client();
    const before = await accountSnapshot(user);
    const err = await openai.responses.create({ model: GPT.model, input: "Again", previous_response_id: "resp_123" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported_parameter");
    expect((err as Error).message).toContain("previous_response_id");
    expect(up.requests).toHaveLength(0);
    expect(await accountSnapshot(user)).toEqual(before);
    expect(await records(user)).toEqual([]);
  });

  it("passes an upstream's error on in OpenAI's error shape, charging nothing", async () => {
    const { user, openai } = await client();
    const before = await accountSnapshot(user);
    up.options.status = 400;
    const err = await openai.responses.create({ model: GPT.model, input: "Say hello" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain("Fake upstream error 400");
    expect(up.requests).toHaveLength(1);
    expect(await accountSnapshot(user)).toEqual(before);
  });

  it("answers on the demo model, whole and streamed", async () => {
    const { openai } = await client();
    const whole = await openai.responses.create({ model: "keygate/echo", input: "ping pong" });
    expect(whole.output_text).toBe("Echo: ping pong");
    const streamed = await openai.responses.stream({ model: "keygate/echo", input: [{ role: "user", content: "ping pong" }] }).finalResponse();
    expect(streamed.output_text).toBe("Echo: ping pong");
    expect(streamed.usage?.output_tokens).toBe(3);
  });

  it("refuses a request without input with 400 in OpenAI's shape", async () => {
    const { openai } = await client();
    await expect(openai.responses.create({ model: GPT.model, input: [] })).rejects.toMatchObject({ status: 400 });
  });
});

describe("the OpenAI SDK on an Anthropic route (Chat Completions → Messages)", () => {
  it("answers chat.completions.create from the Anthropic upstream, whole and streamed, with system, stop and max_tokens carried", async () => {
    const { openai } = await client();
    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "Say hello" },
    ];
    const whole = await openai.chat.completions.create({ model: CLAUDE.model, messages, max_tokens: 3, stop: ["END"], temperature: 0.5 });
    expect(whole.model).toBe(CLAUDE.model);
    expect(whole.choices[0]).toMatchObject({ message: { role: "assistant", content: "w0 w1 w2" }, finish_reason: "length" });
    expect(messagesSent()[0]).toMatchObject({
      model: "claude-test",
      system: [{ type: "text", text: "Be brief." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Say hello" }] }],
      max_tokens: 3,
      stop_sequences: ["END"],
      temperature: 0.5,
    });
    const stream = openai.chat.completions.stream({ model: CLAUDE.model, messages, stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.content).toBe("w0 w1 w2 w3 w4");
    expect(final.choices[0].finish_reason).toBe("stop");
    expect(final.usage).toMatchObject({ completion_tokens: 5 });
    // No max_tokens from the client: Anthropic needs one, and gets the model's cap.
    expect(messagesSent()[1]).toMatchObject({ max_tokens: CLAUDE.maxOutputTokens, stream: true });
  });

  it("round-trips parallel tool calls: tool_calls with their ids and finish_reason tool_calls, then the results as tool_result blocks in one user turn", async () => {
    const { openai } = await client();
    up.options.toolCalls = TWO_CALLS;
    up.options.outputTokens = 0;
    const tools = [{ type: "function" as const, function: WEATHER_TOOL }];
    const ask = [{ role: "user" as const, content: "Weather in Paris and Tokyo?" }];
    for (const stream of [false, true]) {
      const answer = stream
        ? await openai.chat.completions.stream({ model: CLAUDE.model, messages: ask, tools }).finalChatCompletion()
        : await openai.chat.completions.create({ model: CLAUDE.model, messages: ask, tools });
      const choice = answer.choices[0];
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.tool_calls?.map((c) => (c.type === "function" ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : null))).toEqual([
        ["toolu_0", "get_weather", { city: "Paris" }],
        ["toolu_1", "get_weather", { city: "Tokyo" }],
      ]);
    }
    expect(messagesSent()[0].tools).toEqual([{ name: "get_weather", description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.parameters }]);

    up.options.toolCalls = undefined;
    up.options.outputTokens = 2;
    up.reset();
    const done = await openai.chat.completions.create({
      model: CLAUDE.model,
      tools,
      messages: [
        ...ask,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_0", content: "Sunny" },
        { role: "tool", tool_call_id: "toolu_1", content: "Rain" },
      ],
    });
    expect(done.choices[0].message.content).toBe("w0 w1");
    expect(messagesSent()[0].messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_0", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Tokyo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_0", content: "Sunny" },
          { type: "tool_result", tool_use_id: "toolu_1", content: "Rain" },
        ],
      },
    ]);
  });

  it("carries an image part as an Anthropic image block", async () => {
    const { openai } = await client();
    await openai.chat.completions.create({
      model: CLAUDE.model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
          ],
        },
      ],
    });
    expect(messagesSent()[0].messages[0].content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
    ]);
  });

  it("charges cached input tokens once, at the input price, exactly as the same request on /v1/messages", async () => {
    const { user, openai, anthropic } = await client();
    up.options.cachedTokens = 2;
    await anthropic.messages.create({ model: CLAUDE.model, system: "Be brief.", max_tokens: 4, messages: [{ role: "user", content: "Say hello" }] });
    const translated = await openai.chat.completions.create({
      model: CLAUDE.model,
      max_tokens: 4,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
    });
    const streamed = await openai.chat.completions
      .stream({
        model: CLAUDE.model,
        max_tokens: 4,
        stream_options: { include_usage: true },
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hello" },
        ],
      })
      .finalChatCompletion();
    for (const usage of [translated.usage, streamed.usage]) expect(usage?.prompt_tokens_details?.cached_tokens).toBe(2);
    const [native, whole, stream] = await records(user);
    expect(native.inputTokens).toBe(translated.usage!.prompt_tokens);
    expectSameCharge(native, whole);
    expectSameCharge(native, stream);
  });

  it("refuses n > 1 with 400 unsupported_parameter naming it, and lists dropped advisory fields in x-keygate-dropped-params", async () => {
    const { user, openai } = await client();
    const before = await accountSnapshot(user);
    await expect(openai.chat.completions.create({ model: CLAUDE.model, n: 2, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      status: 400,
      code: "unsupported_parameter",
      message: expect.stringContaining("'n'"),
    });
    expect(up.requests).toHaveLength(0);
    expect(await accountSnapshot(user)).toEqual(before);
    const { response } = await openai.chat.completions
      .create({ model: CLAUDE.model, user: "end-user-1", seed: 7, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(response.headers.get("x-keygate-dropped-params")).toBe("user, seed");
    expect(messagesSent()[0]).not.toHaveProperty("user");
  });

  it("charges only what was generated when the client disconnects from a translated stream, and aborts the upstream", async () => {
    const { user, openai } = await client();
    up.options.outputTokens = 100;
    up.options.chunkDelayMs = 30;
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: CLAUDE.model, messages: [{ role: "user", content: "Say hello" }], stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content && ++seen === 3) controller.abort();
      }
    } catch {
      // The SDK may end the iteration or throw on abort; either way the client is gone.
    }
    expect(seen).toBe(3);
    await vi.waitFor(() => expect(up.requests[0]?.aborted).toBe(true), { timeout: 3000 });
    await vi.waitFor(async () => expect((await limits().pending(user.id)).reservedMicros).toBe(0), { timeout: 3000 });
    const [usage] = await records(user);
    expect(usage.status).toBe(499);
    expect(usage.outputTokens).toBeGreaterThanOrEqual(3);
    expect(usage.outputTokens).toBeLessThan(30);
  });

  it("passes an Anthropic error on in OpenAI's shape, with the upstream's message", async () => {
    const { openai } = await client();
    up.options.status = 400;
    const err = await openai.chat.completions.create({ model: CLAUDE.model, messages: [{ role: "user", content: "hi" }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain("Fake upstream error 400");
  });
});

describe("the Anthropic SDK on an OpenAI route (Messages → Chat Completions)", () => {
  it("answers messages.create from the OpenAI upstream, whole and streamed, with the system prompt as a system message", async () => {
    const { anthropic } = await client();
    const whole = await anthropic.messages.create({ model: GPT.model, system: "Be brief.", max_tokens: 3, messages: [{ role: "user", content: "Say hello" }] });
    expect(whole).toMatchObject({
      type: "message",
      role: "assistant",
      model: GPT.model,
      stop_reason: "max_tokens",
      content: [{ type: "text", text: "w0 w1 w2" }],
    });
    expect(chatSent()[0]).toMatchObject({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 3,
    });
    const final = await anthropic.messages.stream({ model: GPT.model, max_tokens: 50, messages: [{ role: "user", content: "Say hello" }] }).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "w0 w1 w2 w3 w4", citations: null }].map(({ type, text }) => expect.objectContaining({ type, text })));
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(5);
    expect(chatSent()[1]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("round-trips parallel tool calls: tool_use blocks with their ids and stop_reason tool_use, then tool_result blocks as tool messages", async () => {
    const { anthropic } = await client();
    up.options.toolCalls = TWO_CALLS;
    up.options.outputTokens = 0;
    const tools = [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.parameters as Anthropic.Tool.InputSchema }];
    const ask = [{ role: "user" as const, content: "Weather in Paris and Tokyo?" }];
    for (const stream of [false, true]) {
      const answer = stream
        ? await anthropic.messages.stream({ model: GPT.model, max_tokens: 100, messages: ask, tools }).finalMessage()
        : await anthropic.messages.create({ model: GPT.model, max_tokens: 100, messages: ask, tools });
      expect(answer.stop_reason).toBe("tool_use");
      expect(answer.content.map((b) => (b.type === "tool_use" ? [b.id, b.name, b.input] : b.type))).toEqual([
        ["call_0", "get_weather", { city: "Paris" }],
        ["call_1", "get_weather", { city: "Tokyo" }],
      ]);
    }
    expect(chatSent()[0].tools).toEqual([
      { type: "function", function: { name: "get_weather", description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters } },
    ]);

    up.options.toolCalls = undefined;
    up.options.outputTokens = 2;
    up.reset();
    const done = await anthropic.messages.create({
      model: GPT.model,
      max_tokens: 100,
      tools,
      messages: [
        ...ask,
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "call_0", name: "get_weather", input: { city: "Paris" } },
            { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Tokyo" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_0", content: "Sunny" },
            { type: "tool_result", tool_use_id: "call_1", content: "Rain" },
          ],
        },
      ],
    });
    expect(done.content).toMatchObject([{ type: "text", text: "w0 w1" }]);
    expect(chatSent()[0].messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Tokyo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_0", content: "Sunny" },
      { role: "tool", tool_call_id: "call_1", content: "Rain" },
    ]);
  });

  it("carries a base64 image block as an image_url data URL", async () => {
    const { anthropic } = await client();
    await anthropic.messages.create({
      model: GPT.model,
      max_tokens: 5,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL } },
          ],
        },
      ],
    });
    expect(chatSent()[0].messages[0].content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } },
    ]);
  });

  it("charges cached tokens once: the same as the request on /v1/chat/completions, whole and streamed", async () => {
    const { user, openai, anthropic } = await client();
    up.options.cachedTokens = 3;
    const ask = { system: "Be brief.", max_tokens: 4, messages: [{ role: "user" as const, content: "Say hello" }] };
    await openai.chat.completions.create({
      model: GPT.model,
      max_tokens: 4,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
    });
    const whole = await anthropic.messages.create({ model: GPT.model, ...ask });
    const streamed = await anthropic.messages.stream({ model: GPT.model, ...ask }).finalMessage();
    for (const m of [whole, streamed]) expect(m.usage).toMatchObject({ cache_read_input_tokens: 3 });
    const [native, a, b] = await records(user);
    expect(whole.usage.input_tokens + 3).toBe(native.inputTokens);
    expectSameCharge(native, a);
    expectSameCharge(native, b);
  });

  it("drops Claude Code's advisory fields and server tools, listing them, and passes an error on in Anthropic's shape", async () => {
    const { anthropic } = await client();
    const { response } = await anthropic.messages
      .create({
        model: GPT.model,
        max_tokens: 2000,
        thinking: { type: "enabled", budget_tokens: 1024 },
        metadata: { user_id: "u" },
        tools: [{ type: "web_search_20250305", name: "web_search" }],
        messages: [{ role: "user", content: "hi" }],
      })
      .withResponse();
    expect(response.headers.get("x-keygate-dropped-params")?.split(", ").sort()).toEqual(["metadata", "thinking", "tools:web_search_20250305"]);
    expect(chatSent()[0]).not.toHaveProperty("tools");

    up.options.status = 400;
    const err = await anthropic.messages.create({ model: GPT.model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect((err as Error).message).toContain("Fake upstream error 400");
  });
});

describe("the Responses API on an Anthropic route (Responses → Chat Completions → Messages)", () => {
  it("answers whole and streamed, with function calls round-tripped and the same charge as the request on /v1/messages", async () => {
    const { user, openai, anthropic } = await client();
    await anthropic.messages.create({ model: CLAUDE.model, system: "Be brief.", max_tokens: 4, messages: [{ role: "user", content: "Say hello" }] });
    const whole = await openai.responses.create({ model: CLAUDE.model, instructions: "Be brief.", input: "Say hello", max_output_tokens: 4 });
    expect(whole.output_text).toBe("w0 w1 w2 w3");
    const streamed = await openai.responses
      .stream({ model: CLAUDE.model, instructions: "Be brief.", input: "Say hello", max_output_tokens: 4 })
      .finalResponse();
    expect(streamed.output_text).toBe("w0 w1 w2 w3");
    const [native, a, b] = await records(user);
    expectSameCharge(native, a);
    expectSameCharge(native, b);

    up.options.toolCalls = TWO_CALLS;
    up.options.outputTokens = 0;
    const tools = [
      { type: "function" as const, name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.parameters, strict: false },
    ];
    const called = await openai.responses.stream({ model: CLAUDE.model, input: "Weather in Paris and Tokyo?", tools }).finalResponse();
    const calls = called.output.filter((o) => o.type === "function_call");
    expect(calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)])).toEqual([
      ["toolu_0", "get_weather", { city: "Paris" }],
      ["toolu_1", "get_weather", { city: "Tokyo" }],
    ]);
    up.options.toolCalls = undefined;
    up.options.outputTokens = 2;
    up.reset();
    const done = await openai.responses.create({
      model: CLAUDE.model,
      tools,
      input: [
        { role: "user", content: "Weather in Paris and Tokyo?" },
        ...calls.map((c) => ({ type: "function_call" as const, call_id: c.call_id, name: c.name, arguments: c.arguments })),
        { type: "function_call_output", call_id: "toolu_0", output: "Sunny" },
        { type: "function_call_output", call_id: "toolu_1", output: "Rain" },
      ],
    });
    expect(done.output_text).toBe("w0 w1");
    expect(messagesSent()[0].messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_0", content: "Sunny" },
        { type: "tool_result", tool_use_id: "toolu_1", content: "Rain" },
      ],
    });
  });
});
