import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
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
  for (const m of [GPT]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, { status: undefined, raw: undefined, usage: undefined });
  up.reset();
  await resetRouting();
});

async function client(): Promise<{ user: TestUser; openai: OpenAI }> {
  const user = await createUser({ creditUsd: 10 });
  const key = await createCreditKey(user, { rpm: 1000 });
  return { user, openai: gw.openai(key.apiKey) };
}

async function records(user: TestUser) {
  await flushUsage();
  return (await prisma()).usageRecord.findMany({ where: { userId: user.id }, orderBy: { createdAt: "asc" } });
}

const chatSent = () => up.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body);

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
