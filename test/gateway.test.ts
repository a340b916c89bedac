import http from "node:http";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getDb, prisma } from "@/lib/db";
import { resetEnvCache } from "@/lib/env";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { limits } from "@/lib/limits";
import { drainGateway } from "@/lib/gateway/proxy";
import { drainUsage, flushUsage } from "@/lib/usage/writer";
import { KEY_MATERIAL_RE } from "@/lib/keys/format";
import { call, createUser, grant, type TestUser } from "./api";
import { createCreditKey, createManagementKey, dumpTable } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";
import { resetLogger } from "@/lib/ops/logger";

/**
 * The gateway against a fake upstream of our own, driven by the official
 * `openai` and `@anthropic-ai/sdk` clients: what each consumption key means
 * (PRODUCT.md, "What consumption keys must mean" and "Gateway"), at its
 * boundaries and under concurrency.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

// Prices in micro-dollars per million tokens.
const GPT = {
  model: "gpt-test",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1_000_000),
  outputMicrosPerMTok: BigInt(2_000_000),
  maxOutputTokens: 100,
};
const CLAUDE = {
  model: "claude-test",
  provider: "anthropic" as const,
  upstreamModel: "claude-upstream-name",
  inputMicrosPerMTok: BigInt(3_000_000),
  outputMicrosPerMTok: BigInt(15_000_000),
  maxOutputTokens: 100,
};
// $1,000 per million tokens: a ~100-byte prompt reserves about $0.10.
const PRICEY = {
  model: "pricey",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1_000_000_000),
  outputMicrosPerMTok: BigInt(1_000_000_000),
  maxOutputTokens: 1000,
};
// Many output tokens, almost free: for streams long enough to fill every buffer on the way.
const BIG = { model: "big-output", provider: "openai" as const, inputMicrosPerMTok: BigInt(1), outputMicrosPerMTok: BigInt(1), maxOutputTokens: 1_000_000 };
const INACTIVE = {
  model: "retired",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1),
  outputMicrosPerMTok: BigInt(1),
  maxOutputTokens: 10,
  active: false,
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
  for (const m of [GPT, CLAUDE, PRICEY, BIG, INACTIVE]) await db.model.create({ data: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, { latencyMs: 0, chunkDelayMs: 0, streamUsage: true, outputTokens: 5, failMidStreamAfter: undefined, status: undefined });
  up.reset();
  await resetRouting();
});

async function userWithKey(creditUsd = 10, body: Record<string, unknown> = {}) {
  const user = await createUser({ creditUsd });
  const key = await createCreditKey(user, { rpm: 1000, ...body });
  return { user, key, openai: gw.openai(key.apiKey), anthropic: gw.anthropic(key.apiKey) };
}

const hello = [{ role: "user" as const, content: "Say hello" }];

async function usageOf(user: TestUser) {
  await flushUsage();
  const db = await prisma();
  return db.usageRecord.findMany({ where: { userId: user.id }, orderBy: { createdAt: "asc" } });
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) return err.status ?? -1;
    throw err;
  }
}

describe("OpenAI Chat Completions through the gateway", () => {
  it("answers through the official SDK, sends the upstream its own key and the upstream name, and records usage at the catalogue's prices", async () => {
    const { user, key, openai } = await userWithKey();
    const reply = await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    expect(reply.choices[0].message.content).toBe("w0 w1 w2 w3 w4");
    const sent = up.requests[0];
    expect(sent.headers.authorization).toBe("Bearer upstream-openai-secret");
    expect(JSON.stringify(sent.headers)).not.toContain(key.apiKey);
    // A cap is always sent: the reservation holds exactly that many output tokens.
    expect(sent.body.max_tokens).toBe(100);
    const [usage] = await usageOf(user);
    expect(usage).toMatchObject({
      model: "gpt-test",
      provider: "openai",
      inputTokens: reply.usage!.prompt_tokens,
      outputTokens: 5,
      status: 200,
      streamed: false,
    });
    expect(usage.costMicros).toBe(BigInt(Math.ceil((reply.usage!.prompt_tokens * 1_000_000 + 5 * 2_000_000) / 1e6)));
    expect(usage.inputMicrosPerMTok).toBe(BigInt(1_000_000));
  });

  it("answers with the caller's X-Request-Id (the id in the logs) and the usage record's id in x-keygate-usage-id", async () => {
    const { user, openai } = await userWithKey();
    const { response } = await openai.chat.completions
      .create({ model: "gpt-test", messages: hello }, { headers: { "X-Request-Id": "trace-4711" } })
      .withResponse();
    expect(response.headers.get("x-request-id")).toBe("trace-4711");
    const [usage] = await usageOf(user);
    expect(response.headers.get("x-keygate-usage-id")).toBe(usage.id);
  });

  it("streams chunk by chunk, asks the upstream for usage, and hides the usage chunk from a client that did not ask", async () => {
    const { user, openai } = await userWithKey();
    const stream = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("w0 w1 w2 w3 w4");
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(up.requests[0].body.stream_options).toEqual({ include_usage: true });
    const [usage] = await usageOf(user);
    expect(usage).toMatchObject({ outputTokens: 5, streamed: true, status: 200 });
    expect(usage.ttftMs).not.toBeNull();
  });

  it("passes the usage chunk on to a client that asked for it", async () => {
    const { openai } = await userWithKey();
    const stream = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);
  });

  it("counts streamed output itself when the upstream sends no usage", async () => {
    const { user, openai } = await userWithKey();
    up.options.streamUsage = false;
    up.options.outputTokens = 7;
    const stream = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true });
    for await (const c of stream) void c;
    const [usage] = await usageOf(user);
    expect(usage.outputTokens).toBe(7);
    expect(usage.inputTokens).toBeGreaterThan(0);
  });

  it("lists every active model of both providers in the OpenAI list shape, and not the inactive one", async () => {
    const { openai } = await userWithKey();
    const models = [];
    for await (const m of openai.models.list()) models.push(m);
    const byId = Object.fromEntries(models.map((m) => [m.id, m.owned_by]));
    expect(byId).toMatchObject({ "gpt-test": "openai", "claude-test": "anthropic", "keygate/echo": "keygate" });
    expect(byId.retired).toBeUndefined();
  });
});

describe("Anthropic Messages through the gateway", () => {
  it("answers plain and streamed through the official SDK, under the public model name, with the upstream's usage", async () => {
    const { user, anthropic } = await userWithKey();
    const message = await anthropic.messages.create({ model: "claude-test", max_tokens: 50, messages: hello });
    expect(message.model).toBe("claude-test");
    expect(message.content[0].type === "text" && message.content[0].text).toBe("w0 w1 w2 w3 w4");
    expect(up.requests[0].body.model).toBe("claude-upstream-name");
    expect(up.requests[0].headers["x-api-key"]).toBe("upstream-anthropic-secret");
    const final = await anthropic.messages.stream({ model: "claude-test", max_tokens: 50, messages: hello }).finalMessage();
    expect(final.model).toBe("claude-test");
    expect(final.usage.output_tokens).toBe(5);
    const rows = await usageOf(user);
    expect(rows.map((r) => [r.model, r.outputTokens, r.streamed])).toEqual([
      ["claude-test", 5, false],
      ["claude-test", 5, true],
    ]);
    expect(rows[1].inputTokens).toBe(message.usage.input_tokens);
  });

  it("accepts the key in x-api-key", async () => {
    const { key } = await userWithKey();
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key.apiKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-test", max_tokens: 5, messages: hello }),
    });
    expect(res.status).toBe(200);
  });
});

describe("refusals, in each protocol's own error shape", () => {
  it("refuses a missing, mistyped, unknown or management key with 401 and says why", async () => {
    const { user, key } = await userWithKey();
    const mk = await createManagementKey(user);
    const flipped = key.apiKey.slice(0, -1) + (key.apiKey.endsWith("A") ? "B" : "A");
    const unknown = "sk_live_" + "0".repeat(32);
    const cases: Array<[string, RegExp]> = [
      ["", /No API key/],
      [flipped, /checksum/],
      [mk.apiKey, /mk_/],
    ];
    for (const [token, message] of cases) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body.error.code).toBe("invalid_api_key");
      expect(body.error.message).toMatch(message);
      if (token) expect(JSON.stringify(body)).not.toContain(token);
    }
    const anthropic = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": unknown + "abcdef", "content-type": "application/json" },
      body: "{}",
    });
    expect(anthropic.status).toBe(401);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("refuses a key from the very next request after it is paused or deleted through the API", async () => {
    const { user, key, openai } = await userWithKey();
    await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    const paused = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false } });
    expect(paused.status).toBe(200);
    await expect(openai.chat.completions.create({ model: "gpt-test", messages: hello })).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/paused/),
    });
    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: true } });
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(200);
    const deleted = await call("DELETE", `/api/keys/${key.id}`, { token: user.token });
    expect(deleted.status).toBe(200);
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(401);
  });

  it("refuses an expired key", async () => {
    const { openai } = await userWithKey(10, { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    await expect(openai.chat.completions.create({ model: "gpt-test", messages: hello })).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/expired/),
    });
  });

  it("answers 404 model_not_found for an unknown model or an inactive one, in each protocol's shape, and forwards nothing", async () => {
    const { openai, anthropic } = await userWithKey();
    for (const model of ["no-such-model", "retired"]) {
      await expect(openai.chat.completions.create({ model, messages: hello })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
      await expect(anthropic.messages.create({ model, max_tokens: 5, messages: hello })).rejects.toMatchObject({
        status: 404,
        error: { type: "error", error: { type: "not_found_error" } },
      });
    }
    expect(up.requests).toHaveLength(0);
  });

  it("answers 400 for a body that is not JSON, with nothing forwarded or charged", async () => {
    const { key } = await userWithKey();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.type).toBe("invalid_request_error");
    expect(up.requests).toHaveLength(0);
  });

  it("answers 400 for a max_tokens that is not a positive whole number, instead of replacing it", async () => {
    const { openai } = await userWithKey();
    for (const max_tokens of [-5, 0, 1.5]) {
      await expect(openai.chat.completions.create({ model: "gpt-test", messages: hello, max_tokens })).rejects.toMatchObject({ status: 400 });
    }
    expect(up.requests).toHaveLength(0);
  });

  it("passes an upstream error on with its status and charges nothing", async () => {
    const { user, openai, anthropic } = await userWithKey();
    up.options.status = 503;
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(503);
    expect(await status(anthropic.messages.create({ model: "claude-test", max_tokens: 5, messages: hello }))).toBe(503);
    // Both are in the request log with the upstream's status, at no cost.
    expect((await usageOf(user)).map((u) => [u.status, Number(u.costMicros)])).toEqual([
      [503, 0],
      [503, 0],
    ]);
    expect(await limits().pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
  });

  it("answers 502 in the protocol's shape when the upstream cannot be reached, and charges nothing", async () => {
    const { user, openai } = await userWithKey();
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    resetEnvCache();
    try {
      await expect(openai.chat.completions.create({ model: "gpt-test", messages: hello })).rejects.toMatchObject({ status: 502, code: "upstream_error" });
    } finally {
      process.env.OPENAI_BASE_URL = up.openaiBaseUrl;
      resetEnvCache();
    }
    expect((await limits().pending(user.id)).reservedMicros).toBe(0);
  });
});

describe("upstream timing", () => {
  it("tells the client Keygate's own share of each request in Server-Timing, whole, streamed and on an upstream error", async () => {
    const { openai } = await userWithKey();
    up.options.latencyMs = 60;
    const timing = (h: Headers) => {
      const m = /^keygate;dur=(\d+\.\d\d), upstream;dur=(\d+\.\d\d)$/.exec(h.get("server-timing") ?? "");
      expect(m, h.get("server-timing") ?? "no Server-Timing").not.toBeNull();
      return { keygate: Number(m![1]), upstream: Number(m![2]) };
    };
    const whole = await openai.chat.completions.create({ model: "gpt-test", messages: hello }).withResponse();
    // The upstream waited 60 ms before answering: that time is the upstream's, not Keygate's.
    expect(timing(whole.response.headers).upstream).toBeGreaterThanOrEqual(59);
    const streamed = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true }).withResponse();
    for await (const chunk of streamed.data) void chunk;
    expect(timing(streamed.response.headers).upstream).toBeGreaterThanOrEqual(59);
    up.options.status = 400;
    const failed = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: openai.apiKey ? `Bearer ${openai.apiKey}` : "", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-test", messages: hello }),
    });
    expect(failed.status).toBe(400);
    expect(timing(failed.headers).upstream).toBeGreaterThanOrEqual(59);
  });

  it("answers 504 in the protocol's shape when the upstream does not answer within KEYGATE_UPSTREAM_TIMEOUT_MS, and charges nothing", async () => {
    const { user, openai } = await userWithKey();
    up.options.latencyMs = 2500;
    process.env.KEYGATE_UPSTREAM_TIMEOUT_MS = "1000";
    resetEnvCache();
    try {
      await expect(openai.chat.completions.create({ model: "gpt-test", messages: hello })).rejects.toMatchObject({ status: 504, code: "upstream_timeout" });
    } finally {
      delete process.env.KEYGATE_UPSTREAM_TIMEOUT_MS;
      resetEnvCache();
    }
    expect(await limits().pending(user.id)).toEqual({ reservedMicros: 0, unflushedMicros: 0 });
  });

  it("passes backpressure through: a client that stops reading holds the upstream back instead of Keygate buffering the stream", async () => {
    const { key } = await userWithKey();
    up.options.outputTokens = 300_000;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        `${gw.url}/v1/chat/completions`,
        { method: "POST", headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" } },
        resolve,
      );
      req.on("error", reject);
      req.end(JSON.stringify({ model: "big-output", messages: hello, stream: true, max_tokens: 300_000 }));
    });
    expect(res.statusCode).toBe(200);
    res.pause();
    // ~20 MB of events: far more than the socket buffers hold. Paused, the upstream cannot finish.
    await new Promise((r) => setTimeout(r, 1000));
    expect(up.requests[0].endedAt).toBeUndefined();
    let bytes = 0;
    res.on("data", (c: Buffer) => (bytes += c.length));
    res.resume();
    await new Promise((r) => res.on("end", r));
    expect(bytes).toBeGreaterThan(10_000_000);
    await vi.waitFor(() => expect(up.requests[0].endedAt).toBeDefined());
  });
});

describe("rate limits", () => {
  it("admits exactly rpmLimit requests in parallel and refuses the next with 429, Retry-After and x-ratelimit headers", async () => {
    const { key, openai } = await userWithKey(10, { rpm: 7 });
    const results = await Promise.all(Array.from({ length: 20 }, () => status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))));
    expect(results.filter((s) => s === 200)).toHaveLength(7);
    expect(results.filter((s) => s === 429)).toHaveLength(13);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-test", messages: hello }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("7");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect((await res.json()).error.code).toBe("rate_limit_exceeded");
    // A refused request counts against nothing: the upstream saw exactly 7.
    expect(up.requests).toHaveLength(7);
  });

  it("sends x-ratelimit headers on every credit-key answer, and the -tokens ones only with a tpmLimit", async () => {
    const { key } = await userWithKey(10, { rpm: 10 });
    const body = JSON.stringify({ model: "gpt-test", messages: hello });
    const headers = { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" };
    const first = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers, body });
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("9");
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBeNull();
    const withTpm = await userWithKey(10, { rpm: 10, tpm: 5000 });
    const second = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${withTpm.key.apiKey}` },
      body,
    });
    expect(second.headers.get("x-ratelimit-limit-tokens")).toBe("5000");
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(5000);
  });

  it("holds an estimate against tpmLimit and settles it to the real count", async () => {
    // Each request holds about its prompt's tokens plus max_tokens 100 (over 100 of the 300), never the body's bytes.
    const { openai } = await userWithKey(10, { tpm: 300 });
    // Slow answers, so no request of the burst settles (and frees its hold) before the others are decided.
    up.options.latencyMs = 200;
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => status(openai.chat.completions.create({ model: "gpt-test", messages: hello, max_tokens: 100 }))),
    );
    expect(burst.filter((s) => s === 200).length).toBeLessThanOrEqual(2);
    expect(burst.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    // Settled to the real counts (a few tokens each), the window has room again.
    up.options.latencyMs = 0;
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello, max_tokens: 100 }))).toBe(200);
  });

  it("a key with tpmLimit 100 serves a request that really uses 46 tokens although its body's byte bound is several times 100", async () => {
    const { user, openai } = await userWithKey(10, { tpm: 100 });
    up.options.outputTokens = 20;
    // 103 bytes of text: 26 prompt tokens by the upstream's count, 46 with max_tokens 20. A tool's schema makes the
    // body several hundred bytes: the bound that money holds, which alone would be over the limit, forever.
    const messages = [{ role: "user" as const, content: "Say hello in a few words. ".repeat(4).trim() }];
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "lookup_weather",
          description: "Looks up the current weather for a city, with the temperature in degrees Celsius and a one-line summary.",
          parameters: {
            type: "object",
            properties: { city: { type: "string", description: "The city's name, in English." }, country: { type: "string", description: "ISO 3166 code." } },
            required: ["city"],
          },
        },
      },
    ];
    expect(Buffer.byteLength(JSON.stringify({ model: "gpt-test", messages, tools, max_tokens: 20 }))).toBeGreaterThan(400);
    const { data, response } = await openai.chat.completions.create({ model: "gpt-test", messages, tools, max_tokens: 20 }).withResponse();
    expect(response.status).toBe(200);
    expect(data.usage).toMatchObject({ prompt_tokens: 26, completion_tokens: 20, total_tokens: 46 });
    expect(up.requests[0].body.max_tokens).toBe(20);
    expect((await usageOf(user))[0]).toMatchObject({ inputTokens: 26, outputTokens: 20 });

    // The window now holds the real 46, not the estimate: a request that cannot fit in the 54 left is told so, and waits.
    const wait = await openai.chat.completions.create({ model: "gpt-test", messages, max_tokens: 60 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(wait).toBeInstanceOf(OpenAI.APIError);
    const refused = wait as InstanceType<typeof OpenAI.APIError>;
    expect(refused.status).toBe(429);
    expect(refused.headers?.get("x-ratelimit-limit-tokens")).toBe("100");
    expect(refused.headers?.get("x-ratelimit-remaining-tokens")).toBe("54");
    expect(Number(refused.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // One that fits in them is served.
    const small = await openai.chat.completions.create({ model: "gpt-test", messages: hello, max_tokens: 5 }).withResponse();
    expect(Number(small.response.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(54);
    expect(up.requests).toHaveLength(2);
  });
});

describe("budgets and balance, by reservation and settlement", () => {
  it("admits at most what maxBudget can pay for when requests race, and never spends past it", async () => {
    const { user, key, openai } = await userWithKey(100, { maxBudget: 0.5 });
    up.options.latencyMs = 200;
    const body = { model: "pricey", messages: hello, max_tokens: 10 };
    const results = await Promise.all(Array.from({ length: 12 }, () => status(openai.chat.completions.create(body))));
    const admitted = results.filter((s) => s === 200).length;
    // Each holds its worst case: the body's bytes as prompt tokens plus max_tokens, at $1,000/MTok (1,000 micro-dollars a token).
    const worstCase = (Buffer.byteLength(JSON.stringify(body)) + 10) * 1000;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(Math.floor(500_000 / worstCase));
    expect(results.filter((s) => s !== 200).every((s) => s === 402)).toBe(true);
    const rows = await usageOf(user);
    const spent = rows.reduce((n, r) => n + r.costMicros, BigInt(0));
    expect(spent).toBeLessThanOrEqual(BigInt(500_000));
    const listed = await call("GET", "/api/keys", { token: user.token });
    expect(listed.json.data.find((k: { id: string }) => k.id === key.id).spend).toBe(Number(spent) / 1e6);
  });

  it("refuses with 402 insufficient_balance when the shared balance cannot pay, and budget_exceeded when the key's cap cannot", async () => {
    const poor = await userWithKey(0.05);
    await expect(poor.openai.chat.completions.create({ model: "pricey", messages: hello, max_tokens: 10 })).rejects.toMatchObject({
      status: 402,
      code: "insufficient_balance",
    });
    const capped = await userWithKey(100, { maxBudget: 0.05 });
    await expect(capped.openai.chat.completions.create({ model: "pricey", messages: hello, max_tokens: 10 })).rejects.toMatchObject({
      status: 402,
      code: "budget_exceeded",
    });
    expect(up.requests).toHaveLength(0);
  });

  it("lowers max_tokens to what the budget can pay for, says so in x-keygate-max-tokens, and refuses only a prompt it cannot pay for", async () => {
    // $0.2 at $1,000/MTok: the ~80-token prompt bound costs ~$0.08, leaving room for ~120 of the model's 1,000 output tokens.
    const { key } = await userWithKey(100, { maxBudget: 0.2 });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "pricey", messages: hello }),
    });
    expect(res.status).toBe(200);
    const lowered = Number(res.headers.get("x-keygate-max-tokens"));
    expect(lowered).toBeGreaterThan(0);
    expect(lowered).toBeLessThan(1000);
    expect(up.requests[0].body.max_tokens).toBe(lowered);
    const huge = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "pricey", messages: [{ role: "user", content: "x".repeat(300_000) }] }),
    });
    expect(huge.status).toBe(402);
  });

  it("charges only what was generated when the client disconnects mid-stream, aborts the upstream and frees the reservation", async () => {
    const { user, openai } = await userWithKey();
    up.options.outputTokens = 100;
    up.options.chunkDelayMs = 30;
    const controller = new AbortController();
    const stream = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true }, { signal: controller.signal });
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
    const [usage] = await usageOf(user);
    expect(usage.outputTokens).toBeGreaterThanOrEqual(3);
    expect(usage.outputTokens).toBeLessThan(30);
    expect(usage.status).toBe(499);
  });

  it("keeps the balance row equal to the ledger's sum after usage is written, and shows the debit in billing status", async () => {
    const { user, openai } = await userWithKey(10);
    for (let i = 0; i < 3; i++) await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    const rows = await usageOf(user);
    const cost = rows.reduce((n, r) => n + r.costMicros, BigInt(0));
    const db = await prisma();
    const sum = await db.ledgerEntry.aggregate({ where: { userId: user.id }, _sum: { amountMicros: true } });
    const row = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.balanceMicros).toBe(sum._sum.amountMicros);
    expect(row.balanceMicros).toBe(BigInt(10_000_000) - cost);
    const usageEntries = await db.ledgerEntry.findMany({ where: { userId: user.id, kind: "usage" } });
    expect(usageEntries.reduce((n, e) => n - e.amountMicros, BigInt(0))).toBe(cost);
  });

  it("sees a grant from the very next request: a refused account is admitted after a top-up", async () => {
    const { user, openai } = await userWithKey(0.05);
    expect(await status(openai.chat.completions.create({ model: "pricey", messages: hello, max_tokens: 10 }))).toBe(402);
    await grant(user.email, 5);
    expect(await status(openai.chat.completions.create({ model: "pricey", messages: hello, max_tokens: 10 }))).toBe(200);
  });
});

describe("the hot path in steady state", () => {
  it("serves a key it has seen with the database unreachable: no database read per request", async () => {
    const { openai, anthropic } = await userWithKey();
    await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    await anthropic.messages.create({ model: "claude-test", max_tokens: 5, messages: hello });
    await flushUsage();
    const g = globalThis as unknown as { __keygateDb?: unknown };
    const real = g.__keygateDb;
    g.__keygateDb = new Proxy(
      {},
      {
        get: () => {
          throw new Error("the hot path touched the database");
        },
      },
    );
    try {
      for (let i = 0; i < 5; i++) {
        expect((await openai.chat.completions.create({ model: "gpt-test", messages: hello })).choices).toHaveLength(1);
        const s = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true });
        for await (const c of s) void c;
      }
      expect((await anthropic.messages.create({ model: "claude-test", max_tokens: 5, messages: hello })).content).toHaveLength(1);
    } finally {
      g.__keygateDb = real;
    }
    await getDb();
  });

  it("never writes key material into usage records or logs", async () => {
    const logged: string[] = [];
    const spies = (["log", "error", "warn", "info"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args) => void logged.push(args.join(" "))),
    );
    // And every line the JSON logger writes, at every level (access lines, upstream failures).
    const restoreLogLevel = setEnv({ LOG_LEVEL: "trace" });
    resetLogger({ write: (line: string) => void logged.push(line) });
    try {
      const { user, key, openai } = await userWithKey();
      await openai.chat.completions.create({ model: "gpt-test", messages: hello });
      await status(openai.chat.completions.create({ model: "no-such", messages: hello }));
      process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
      resetEnvCache();
      await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }));
      process.env.OPENAI_BASE_URL = up.openaiBaseUrl;
      resetEnvCache();
      await usageOf(user);
      const dump = await dumpTable("UsageRecord");
      expect(dump).not.toMatch(KEY_MATERIAL_RE);
      // The logs were written (access lines at least), and none holds the key.
      expect(logged.length).toBeGreaterThan(0);
      expect(logged.join("\n")).not.toContain(key.apiKey);
      expect(logged.join("\n")).not.toMatch(KEY_MATERIAL_RE);
    } finally {
      spies.forEach((s) => s.mockRestore());
      restoreLogLevel();
      resetLogger();
    }
  });
});

describe("metrics", () => {
  /** One sample's value from GET /metrics. */
  async function sample(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split("\n").find((l) => (labels ? l.startsWith(`${name}{`) && l.includes(labels) : l.startsWith(`${name} `)));
    if (!line) throw new Error(`GET /metrics has no ${name}{${labels}}:\n${text.slice(0, 2000)}`);
    return Number(line.split(" ").pop());
  }

  it("counts the gateway's overhead and the upstream's latency per admitted request, and each refusal by its reason", async () => {
    const { openai } = await userWithKey(10, { rpm: 1 });
    const overhead = () => sample("keygate_gateway_overhead_seconds_count", 'route="/v1/chat/completions"');
    const upstream = () => sample("keygate_upstream_latency_seconds_count", 'provider="openai",status="200"');
    const rpm = () => sample("keygate_limit_rejections_total", 'reason="rpm"');
    const invalid = () => sample("keygate_limit_rejections_total", 'reason="invalid_key"');
    const orZero = (p: Promise<number>) => p.catch(() => 0);
    const before = { overhead: await orZero(overhead()), upstream: await orZero(upstream()), rpm: await orZero(rpm()), invalid: await orZero(invalid()) };
    await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    expect(await status(openai.chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(429);
    expect(await status(gw.openai("sk_live_not-a-real-key").chat.completions.create({ model: "gpt-test", messages: hello }))).toBe(401);
    expect({ overhead: await overhead(), upstream: await upstream(), rpm: await rpm(), invalid: await invalid() }).toEqual({
      overhead: before.overhead + 1,
      upstream: before.upstream + 1,
      rpm: before.rpm + 1,
      invalid: before.invalid + 1,
    });
    expect(await sample("keygate_reservations_in_flight", "")).toBe(0);
  });
});

describe("shutdown", () => {
  it("drains: a stream still open at shutdown is aborted, settled at what it generated, and its usage written", async () => {
    const { user, openai } = await userWithKey();
    up.options.outputTokens = 200;
    up.options.chunkDelayMs = 20;
    const stream = await openai.chat.completions.create({ model: "gpt-test", messages: hello, stream: true });
    const reading = (async () => {
      try {
        for await (const c of stream) void c;
      } catch {
        // cut off by the shutdown
      }
    })();
    await vi.waitFor(async () => expect((await limits().pending(user.id)).reservedMicros).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 100));
    await drainGateway(50);
    await drainUsage();
    await reading;
    expect(await limits().pending(user.id)).toEqual({ reservedMicros: 0, unflushedMicros: 0 });
    const db = await prisma();
    const [row] = await db.usageRecord.findMany({ where: { userId: user.id } });
    expect(row.outputTokens).toBeGreaterThan(0);
    expect(row.outputTokens).toBeLessThan(200);
  });
});

describe("POST /api/keys/verify", () => {
  async function verify(body: unknown, contentType = "application/json") {
    const res = await fetch(`${gw.url}/api/keys/verify`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  it("says valid with the owner, type, limits and what remains, and the remaining requests follow usage", async () => {
    const { user, key, openai } = await userWithKey(10, { rpm: 5, maxBudget: 2 });
    const before = await verify({ key: key.apiKey });
    expect(before).toMatchObject({
      status: 200,
      json: {
        success: true,
        data: { valid: true, code: "valid", keyId: key.id, keyType: "credit", ownerId: user.id, limits: { rpm: 5, tpm: null, maxBudget: 2 } },
      },
    });
    expect(before.json.data.remaining).toEqual({ requests: 5, tokens: null, budget: 2, balance: 10 });
    await openai.chat.completions.create({ model: "gpt-test", messages: hello });
    const after = await verify({ key: key.apiKey });
    expect(after.json.data.remaining.requests).toBe(4);
    expect(after.json.data.remaining.budget).toBeLessThan(2);
  });

  it("answers a bad, paused, unknown or management key with 200 valid:false and its code", async () => {
    const { user, key } = await userWithKey();
    const mk = await createManagementKey(user);
    expect((await verify({ key: "sk_live_nope" })).json.data).toMatchObject({ valid: false, code: "malformed_key", keyId: null });
    expect((await verify({ key: "sk_live_" + "0".repeat(32) + "000000" })).json.data.code).toMatch(/malformed_key|unknown_key/);
    expect((await verify({ key: mk.apiKey })).json.data.code).toBe("not_a_consumption_key");
    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false } });
    expect((await verify({ key: key.apiKey })).json.data).toMatchObject({ valid: false, code: "key_inactive", keyId: key.id });
  });

  it("answers a malformed request with a 4xx in the native envelope", async () => {
    expect(await verify("{nope")).toMatchObject({ status: 400, json: { success: false } });
    expect(await verify({ key: "x", extra: 1 })).toMatchObject({ status: 400, json: { success: false, error: { code: expect.any(String) } } });
    expect(await verify({ key: 5 })).toMatchObject({ status: 400 });
    expect((await verify({ key: "x" }, "text/plain")).status).toBe(415);
  });
});
