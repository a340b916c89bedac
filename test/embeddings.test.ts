import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { demoVector } from "@/lib/gateway/protocols/embeddings";
import { limits } from "@/lib/limits";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { createUser, type TestUser } from "./api";
import { createCreditKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * POST /v1/embeddings (PRODUCT.md, "Protocols: any SDK, any model"): models
 * of kind `embedding`, on OpenAI-protocol upstreams, driven by the official
 * `openai` SDK (which asks for base64 vectors and decodes them), charged on
 * input tokens at the input price and never for output; and model kinds kept
 * apart both ways, with errors in OpenAI's shape that name the right endpoint.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

// $0.02 per million input tokens, and an output price that must never be charged.
const EMBED = {
  model: "embed-test",
  provider: "openai" as const,
  kind: "embedding" as const,
  upstreamModel: "text-embedding-upstream",
  inputMicrosPerMTok: BigInt(20_000),
  outputMicrosPerMTok: BigInt(5_000_000),
  maxOutputTokens: 1,
};
// $1,000 per million tokens each way: one byte of prompt bound reserves 1,000 micro-dollars.
const PRICEY_EMBED = {
  model: "embed-pricey",
  provider: "openai" as const,
  kind: "embedding" as const,
  inputMicrosPerMTok: BigInt(1_000_000_000),
  outputMicrosPerMTok: BigInt(1_000_000_000),
  maxOutputTokens: 1000,
};
// Routed explicitly to the environment's OpenAI upstream (the route's target is /embeddings too).
const ROUTED_EMBED = { model: "embed-routed", provider: "openai" as const, kind: "embedding" as const, ...prices(), maxOutputTokens: 1 };
const CHAT = { model: "chat-test", provider: "openai" as const, ...prices(), maxOutputTokens: 100 };

function prices() {
  return { inputMicrosPerMTok: BigInt(1_000_000), outputMicrosPerMTok: BigInt(2_000_000) };
}

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
  // Upserts: a real PostgreSQL database may be reused from an earlier run.
  for (const m of [EMBED, PRICEY_EMBED, ROUTED_EMBED, CHAT]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  await db.modelRoute.deleteMany({ where: { model: ROUTED_EMBED.model } });
  await db.modelRoute.create({ data: { model: ROUTED_EMBED.model, upstream: "env-openai", position: 0 } });
  await invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, { latencyMs: 0, status: undefined, usage: undefined, raw: undefined, embeddingDimensions: undefined });
  up.reset();
  await resetRouting();
});

async function userWithKey(creditUsd = 10, body: Record<string, unknown> = {}) {
  const user = await createUser({ creditUsd });
  const key = await createCreditKey(user, { rpm: 1000, ...body });
  return { user, key, openai: gw.openai(key.apiKey), anthropic: gw.anthropic(key.apiKey) };
}

async function usageOf(user: TestUser) {
  await flushUsage();
  const db = await prisma();
  return db.usageRecord.findMany({ where: { userId: user.id }, orderBy: { createdAt: "asc" } });
}

async function balanceOf(user: TestUser): Promise<bigint> {
  await flushUsage();
  const db = await prisma();
  return (await db.user.findUniqueOrThrow({ where: { id: user.id }, select: { balanceMicros: true } })).balanceMicros;
}

function post(path: string, apiKey: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("POST /v1/embeddings through the official openai SDK", () => {
  it("embeds a string: the SDK's base64 vectors decoded, sent upstream with the upstream's key and model name, answered under the public name", async () => {
    const { key, openai } = await userWithKey();
    const { data: reply, response } = await openai.embeddings.create({ model: "embed-test", input: "The quick brown fox" }).withResponse();
    expect(reply.object).toBe("list");
    expect(reply.model).toBe("embed-test");
    expect(reply.data).toHaveLength(1);
    expect(reply.data[0]).toMatchObject({ object: "embedding", index: 0 });
    expect(reply.data[0].embedding).toHaveLength(8);
    expect(reply.data[0].embedding.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    const sent = up.requests[0];
    expect(sent.path).toBe("/v1/embeddings");
    expect(sent.body).toMatchObject({ model: "text-embedding-upstream", input: "The quick brown fox", encoding_format: "base64" });
    expect(sent.body.max_tokens).toBeUndefined();
    expect(sent.headers.authorization).toBe("Bearer upstream-openai-secret");
    expect(JSON.stringify(sent.headers)).not.toContain(key.apiKey);
    expect(response.headers.get("x-keygate-upstream")).toBe("env-openai");
    expect(response.headers.get("x-keygate-attempts")).toBe("1");
    expect(response.headers.get("x-keygate-usage-id")).toBeTruthy();
    // The same vector as floats when asked for them.
    const floats = await openai.embeddings.create({ model: "embed-test", input: "The quick brown fox", encoding_format: "float" });
    expect(floats.data[0].embedding).toEqual(Array.from(reply.data[0].embedding));
  });

  it("embeds an array of strings and of token arrays, one vector each in order, with `dimensions` passed on", async () => {
    const { openai } = await userWithKey();
    const texts = await openai.embeddings.create({ model: "embed-test", input: ["one", "two", "three"], dimensions: 4 });
    expect(texts.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(texts.data.every((d) => d.embedding.length === 4)).toBe(true);
    expect(texts.data[0].embedding).not.toEqual(texts.data[1].embedding);
    const tokens = await openai.embeddings.create({
      model: "embed-test",
      input: [
        [1, 2, 3],
        [4, 5],
      ],
    });
    expect(tokens.data).toHaveLength(2);
    expect(tokens.usage.prompt_tokens).toBe(5);
  });

  it("charges exactly input tokens × the input price, nothing for output, in the usage record, the balance and the ledger", async () => {
    const { user, openai } = await userWithKey(10);
    const reply = await openai.embeddings.create({ model: "embed-test", input: ["a".repeat(400), "b".repeat(40)] });
    expect(reply.usage.prompt_tokens).toBe(110);
    const [usage] = await usageOf(user);
    const cost = BigInt(Math.ceil((110 * 20_000) / 1e6));
    expect(usage).toMatchObject({ model: "embed-test", provider: "openai", inputTokens: 110, outputTokens: 0, status: 200, streamed: false, costMicros: cost });
    expect(usage.inputMicrosPerMTok).toBe(BigInt(20_000));
    expect(await balanceOf(user)).toBe(BigInt(10_000_000) - cost);
    const db = await prisma();
    const entries = await db.ledgerEntry.findMany({ where: { userId: user.id, kind: "usage" } });
    expect(entries.reduce((n, e) => n - e.amountMicros, BigInt(0))).toBe(cost);
    expect((await limits().pending(user.id)).reservedMicros).toBe(0);
  });

  it("settles at the upstream's prompt_tokens only up to the prompt's bound, and never charges output an upstream reports", async () => {
    const { user, openai } = await userWithKey(10);
    up.options.usage = { prompt_tokens: 10_000_000, completion_tokens: 500, total_tokens: 10_000_500 };
    await openai.embeddings.create({ model: "embed-test", input: "hello" });
    const [usage] = await usageOf(user);
    expect(usage.outputTokens).toBe(0);
    // Not the absurd count: Keygate's own estimate of the prompt stands in.
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeLessThan(100);
  });

  it("reserves exactly the prompt's bound at the input price, no output: a budget of exactly that is admitted, a micro-dollar less is refused", async () => {
    const body = JSON.stringify({ model: "embed-pricey", input: "exactly priced" });
    const bound = Buffer.byteLength(body);
    // At $1,000 per million tokens one token is 1,000 micro-dollars: the reservation is bound × 1,000 micro-dollars.
    const exact = await userWithKey(100, { maxBudget: (bound * 1000) / 1e6 });
    up.options.latencyMs = 300;
    const pending = post("/v1/embeddings", exact.key.apiKey, body);
    await vi.waitFor(async () => expect((await limits().pending(exact.user.id)).reservedMicros).toBe(bound * 1000), { timeout: 3000 });
    expect((await pending).status).toBe(200);
    const short = await userWithKey(100, { maxBudget: (bound * 1000 - 1) / 1e6 });
    const refused = await post("/v1/embeddings", short.key.apiKey, body);
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ error: { code: "budget_exceeded", type: "insufficient_quota" } });
  });

  it("refuses as chat does: an empty balance with 402 insufficient_balance, past the rpm limit with 429, nothing sent upstream or charged", async () => {
    const poor = await userWithKey(0.000001);
    await expect(poor.openai.embeddings.create({ model: "embed-pricey", input: "hello" })).rejects.toMatchObject({ status: 402, code: "insufficient_balance" });
    const limited = await userWithKey(10, { rpm: 1 });
    await limited.openai.embeddings.create({ model: "embed-test", input: "first" });
    await expect(limited.openai.embeddings.create({ model: "embed-test", input: "second" })).rejects.toMatchObject({
      status: 429,
      code: "rate_limit_exceeded",
    });
    expect(up.requests).toHaveLength(1);
    expect(await usageOf(poor.user)).toHaveLength(0);
    expect(await usageOf(limited.user)).toHaveLength(1);
  });

  it("passes an upstream's error on in OpenAI's shape with its status, and charges nothing", async () => {
    const { user, openai } = await userWithKey(10);
    up.options.status = 400;
    const err = await openai.embeddings.create({ model: "embed-test", input: "hello" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain("Fake upstream error 400");
    expect(await balanceOf(user)).toBe(BigInt(10_000_000));
    // Nothing was generated: the reservation ends at no cost, and the request log shows the upstream's status (as for chat).
    expect((await usageOf(user)).map((u) => [u.status, Number(u.costMicros)])).toEqual([[400, 0]]);
    expect((await limits().pending(user.id)).reservedMicros).toBe(0);
  });

  it("follows a model's routes: an embedding model routed to an OpenAI upstream is called at that upstream's /embeddings", async () => {
    const { openai } = await userWithKey();
    const { response } = await openai.embeddings.create({ model: "embed-routed", input: "routed" }).withResponse();
    expect(up.requests[0].path).toBe("/v1/embeddings");
    expect(response.headers.get("x-keygate-upstream")).toBe("env-openai");
  });

  it("refuses bodies it cannot serve with 400 in OpenAI's shape, before any upstream: no input, empty input, mixed input, stream", async () => {
    const { key } = await userWithKey();
    for (const body of [
      { model: "embed-test" },
      { model: "embed-test", input: "" },
      { model: "embed-test", input: [] },
      { model: "embed-test", input: ["ok", ""] },
      { model: "embed-test", input: ["text", [1, 2]] },
      { model: "embed-test", input: { text: "x" } },
      { model: "embed-test", input: "x", stream: true },
      { model: "embed-test", input: "x", encoding_format: "int8" },
      { model: "embed-test", input: "x", dimensions: 0 },
    ]) {
      const res = await post("/v1/embeddings", key.apiKey, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_request", message: expect.any(String) } });
    }
    expect(up.requests).toHaveLength(0);
  });
});

describe("model kinds are kept apart", () => {
  it("refuses a chat model on /v1/embeddings with 400 naming the chat endpoints, in OpenAI's shape, and charges nothing", async () => {
    const { user, openai } = await userWithKey();
    const err = await openai.embeddings.create({ model: "chat-test", input: "hello" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: "invalid_request", type: "invalid_request_error" });
    expect((err as Error).message).toContain("'chat-test' is a chat model: send it to POST /v1/chat/completions");
    expect(up.requests).toHaveLength(0);
    expect(await usageOf(user)).toHaveLength(0);
  });

  it("refuses an embedding model on /v1/chat/completions and /v1/messages with 400 naming /v1/embeddings, each in its protocol's shape", async () => {
    const { openai, anthropic } = await userWithKey();
    const chat = await openai.chat.completions.create({ model: "embed-test", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chat as Error).message).toContain("'embed-test' is an embedding model: send it to POST /v1/embeddings");
    const messages = await anthropic.messages
      .create({ model: "embed-test", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(messages).toBeInstanceOf(Anthropic.BadRequestError);
    expect((messages as Error).message).toContain("send it to POST /v1/embeddings");
    expect(up.requests).toHaveLength(0);
  });

  it("lists embedding models in GET /v1/models beside the chat models", async () => {
    const { openai } = await userWithKey();
    const ids: string[] = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["embed-test", "embed-routed", "chat-test", "keygate/echo", "keygate/echo-embedding"]));
  });
});

describe("the built-in demo embedding model", () => {
  it("answers keygate/echo-embedding in process with deterministic unit vectors (float or base64), charged on input like any model", async () => {
    const { user, openai } = await userWithKey();
    const a = await openai.embeddings.create({ model: "keygate/echo-embedding", input: ["same", "other"] });
    const b = await openai.embeddings.create({ model: "keygate/echo-embedding", input: "same", encoding_format: "float" });
    expect(a.model).toBe("keygate/echo-embedding");
    expect(a.data[0].embedding).toHaveLength(8);
    expect(Array.from(a.data[0].embedding)).toEqual(b.data[0].embedding);
    expect(b.data[0].embedding).toEqual(demoVector("same", 8));
    expect(a.data[0].embedding).not.toEqual(a.data[1].embedding);
    expect(Math.hypot(...b.data[0].embedding)).toBeCloseTo(1, 5);
    const wide = await openai.embeddings.create({ model: "keygate/echo-embedding", input: "same", dimensions: 20 });
    expect(wide.data[0].embedding).toHaveLength(20);
    expect(up.requests).toHaveLength(0);
    const usage = await usageOf(user);
    expect(usage).toHaveLength(3);
    for (const u of usage) expect(u).toMatchObject({ provider: "keygate", outputTokens: 0, status: 200, upstream: "keygate" });
    expect(usage.every((u) => u.inputTokens > 0 && u.costMicros > BigInt(0))).toBe(true);
  });
});
