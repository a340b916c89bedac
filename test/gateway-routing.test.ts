import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { limits } from "@/lib/limits";
import { upstreamHealth } from "@/lib/limits/health";
import { flushUsage } from "@/lib/usage/writer";
import { ADMIN_TOKEN, call, createUser } from "./api";
import { createCreditKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Routing (PRODUCT.md, "Upstreams and routing") with the environment's
 * upstream: the answer names the upstream and the attempts, a failing
 * upstream cools down for every model routed to it, and a request whose
 * every route is cooling down gets 503 upstream_unavailable, charged nothing.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

const GPT = {
  model: "gpt-route",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1_000_000),
  outputMicrosPerMTok: BigInt(2_000_000),
  maxOutputTokens: 100,
};
const GPT2 = { ...GPT, model: "gpt-route-2" };

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({ OPENAI_BASE_URL: up.openaiBaseUrl, OPENAI_API_KEY: "upstream-openai-secret", KEYGATE_COOLDOWN_S: "30" });
  const db = await prisma();
  for (const m of [GPT, GPT2]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, { status: undefined, raw: undefined });
  up.reset();
  await resetRouting();
});

async function client() {
  const user = await createUser({ creditUsd: 10 });
  const key = await createCreditKey(user, { rpm: 1000 });
  return { user, key, openai: gw.openai(key.apiKey) };
}

const hello = [{ role: "user" as const, content: "Say hello" }];

describe("routing with the environment's upstream", () => {
  it("names the upstream and the attempts on the answer and in the usage record", async () => {
    const { user, openai } = await client();
    const { response } = await openai.chat.completions.create({ model: "gpt-route", messages: hello }).withResponse();
    expect(response.headers.get("x-keygate-upstream")).toBe("env-openai");
    expect(response.headers.get("x-keygate-attempts")).toBe("1");
    await flushUsage();
    const [record] = await (await prisma()).usageRecord.findMany({ where: { userId: user.id } });
    expect(record).toMatchObject({ upstream: "env-openai", attempts: 1 });
  });

  it("three retryable failures in a row cool the upstream down for every model routed to it: 503 upstream_unavailable with Retry-After, nothing sent, nothing charged", async () => {
    const { user, openai } = await client();
    up.options.status = 500;
    for (let i = 0; i < 3; i++) await expect(openai.chat.completions.create({ model: "gpt-route", messages: hello })).rejects.toMatchObject({ status: 500 });
    up.options.status = undefined;
    up.reset();
    for (const model of ["gpt-route", "gpt-route-2"]) {
      const err = await openai.chat.completions.create({ model, messages: hello }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const apiError = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(503);
      expect(apiError.code).toBe("upstream_unavailable");
      const retryAfter = Number(apiError.headers?.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(25);
      expect(retryAfter).toBeLessThanOrEqual(30);
    }
    expect(up.requests).toHaveLength(0);
    const health = (await upstreamHealth(["env-openai"])).get("env-openai");
    expect(health?.state).toBe("cooling_down");
    expect(health?.requests5m).toBeGreaterThanOrEqual(3);
    expect(health?.errors5m).toBeGreaterThanOrEqual(3);
    expect(await limits().pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    // The cooldown over, the upstream is used again.
    await resetRouting();
    await expect(openai.chat.completions.create({ model: "gpt-route", messages: hello })).resolves.toBeTruthy();
  });

  it("a 429 cools the upstream at once, for its Retry-After when that is longer than KEYGATE_COOLDOWN_S", async () => {
    const { openai } = await client();
    const body = '{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}';
    up.options.raw = { status: 429, contentType: "application/json", body, headers: { "retry-after": "90" } };
    await expect(openai.chat.completions.create({ model: "gpt-route", messages: hello })).rejects.toMatchObject({ status: 429 });
    const until = (await upstreamHealth(["env-openai"])).get("env-openai")?.coolingDownUntil;
    expect(until).not.toBeNull();
    const left = Date.parse(until!) - Date.now();
    expect(left).toBeGreaterThan(80_000);
    expect(left).toBeLessThanOrEqual(90_500);
    await expect(openai.chat.completions.create({ model: "gpt-route", messages: hello })).rejects.toMatchObject({ status: 503 });
  });

  it("a 400 from the upstream is passed on at once and does not count against it", async () => {
    const { openai } = await client();
    up.options.status = 400;
    for (let i = 0; i < 5; i++) await expect(openai.chat.completions.create({ model: "gpt-route", messages: hello })).rejects.toMatchObject({ status: 400 });
    expect(up.requests).toHaveLength(5);
    expect((await upstreamHealth(["env-openai"])).get("env-openai")?.state).toBe("ok");
  });
});

/** A fake upstream of its own, registered as an upstream named `name` (through the admin API, as an operator would). */
async function upstream(name: string, opts: { baseUrl?: string; timeoutMs?: number } = {}): Promise<{ name: string; fake: FakeUpstream }> {
  const fake = await startFakeUpstream();
  fakes.push(fake);
  const res = await call("POST", "/api/admin/upstreams", {
    token: ADMIN_TOKEN,
    body: {
      name,
      protocol: "openai",
      baseUrl: opts.baseUrl ?? fake.openaiBaseUrl,
      apiKey: `secret-of-${name}`,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    },
  });
  expect(res.status, res.text).toBe(201);
  return { name, fake };
}

/** A priced model routed to `routes` (one request of "Say hello" costs a fixed, known amount). */
async function routedModel(routes: Array<Record<string, unknown>>, provider = "openai"): Promise<string> {
  const model = `routed-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("POST", "/api/admin/models", {
    token: ADMIN_TOKEN,
    body: { model, provider, inputUsdPerMTok: 1, outputUsdPerMTok: 2, maxOutputTokens: 100, routes },
  });
  expect(res.status, res.text).toBe(200);
  return model;
}

const fakes: FakeUpstream[] = [];
let seq = 0;
const unique = (what: string) => `${what}-${process.pid}-${++seq}`;

afterAll(async () => {
  for (const f of fakes) await f.close();
});

/** The key's usage records once written, and its spend and the ledger's usage debits. */
async function books(userId: string, keyId: string) {
  await flushUsage();
  const db = await prisma();
  const [records, key, debits] = await Promise.all([
    db.usageRecord.findMany({ where: { apiKeyId: keyId } }),
    db.apiKey.findUniqueOrThrow({ where: { id: keyId }, select: { spendMicros: true } }),
    db.ledgerEntry.aggregate({ where: { userId, kind: "usage" }, _sum: { amountMicros: true } }),
  ]);
  return { records, spend: key.spendMicros, debits: -(debits._sum.amountMicros ?? BigInt(0)) };
}

describe("several routes per model", () => {
  const CAUSES: Array<[string, (f: FakeUpstream) => void]> = [
    ["a 429", (f) => (f.options.status = 429)],
    ["a 500", (f) => (f.options.status = 500)],
    ["a 502", (f) => (f.options.status = 502)],
    ["a 503", (f) => (f.options.status = 503)],
    ["a 504", (f) => (f.options.status = 504)],
    ["a 529", (f) => (f.options.status = 529)],
  ];
  for (const [cause, breakIt] of CAUSES) {
    it(`falls back to the next route on ${cause} before the first byte, and charges exactly one request, for the route that answered`, async () => {
      const first = await upstream(unique("first"));
      const second = await upstream(unique("second"));
      const model = await routedModel([
        { upstream: first.name, priority: 0 },
        { upstream: second.name, priority: 1, upstreamModel: "second-name" },
      ]);
      breakIt(first.fake);
      const { user, key, openai } = await client();
      const { data, response } = await openai.chat.completions.create({ model, messages: hello }).withResponse();
      expect(data.choices[0].message.content).toBe("w0 w1 w2 w3 w4");
      expect(data.model).toBe(model);
      expect(response.headers.get("x-keygate-upstream")).toBe(second.name);
      expect(response.headers.get("x-keygate-attempts")).toBe("2");
      expect(first.fake.requests).toHaveLength(1);
      expect(second.fake.requests).toHaveLength(1);
      expect(second.fake.requests[0].body.model).toBe("second-name");
      expect(second.fake.requests[0].headers.authorization).toBe(`Bearer secret-of-${second.name}`);
      const b = await books(user.id, key.id);
      expect(b.records).toHaveLength(1);
      expect(b.records[0]).toMatchObject({ upstream: second.name, attempts: 2, outputTokens: 5, status: 200 });
      expect(b.spend).toBe(b.records[0].costMicros);
      expect(b.debits).toBe(b.records[0].costMicros);
      expect(await limits().pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    });
  }

  it("falls back on a connection error and on a timeout before the response headers", async () => {
    const dead = await upstream(unique("dead"), { baseUrl: "http://127.0.0.1:9/v1" });
    const slow = await upstream(unique("slow"), { timeoutMs: 1_000 });
    slow.fake.options.latencyMs = 3_000;
    const good = await upstream(unique("good"));
    const model = await routedModel([
      { upstream: dead.name, priority: 0 },
      { upstream: slow.name, priority: 1 },
      { upstream: good.name, priority: 2 },
    ]);
    const { response } = await (await client()).openai.chat.completions.create({ model, messages: hello }).withResponse();
    expect(response.headers.get("x-keygate-upstream")).toBe(good.name);
    expect(response.headers.get("x-keygate-attempts")).toBe("3");
  });

  it("passes any other 4xx on at once, without trying the next route", async () => {
    const first = await upstream(unique("first"));
    const second = await upstream(unique("second"));
    const model = await routedModel([
      { upstream: first.name, priority: 0 },
      { upstream: second.name, priority: 1 },
    ]);
    first.fake.options.status = 400;
    const { user, key, openai } = await client();
    await expect(openai.chat.completions.create({ model, messages: hello })).rejects.toMatchObject({ status: 400 });
    expect(second.fake.requests).toHaveLength(0);
    // In the request log with the upstream's status, at no cost.
    const b = await books(user.id, key.id);
    expect(b.records.map((r) => [r.status, Number(r.costMicros), r.attempts])).toEqual([[400, 0, 1]]);
    expect(b.spend).toBe(BigInt(0));
  });

  it("tries no route twice and at most KEYGATE_MAX_ATTEMPTS, then passes the last failure on, charging nothing", async () => {
    const ups = [];
    for (let i = 0; i < 4; i++) ups.push(await upstream(unique(`u${i}`)));
    for (const u of ups) u.fake.options.status = 502;
    const model = await routedModel(ups.map((u, i) => ({ upstream: u.name, priority: i })));
    const { user, key, openai } = await client();
    const err = await openai.chat.completions.create({ model, messages: hello }).then(
      () => null,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(err?.status).toBe(502);
    expect(err?.headers?.get("x-keygate-attempts")).toBe("3");
    expect(ups.map((u) => u.fake.requests.length)).toEqual([1, 1, 1, 0]);
    const b = await books(user.id, key.id);
    expect(b.records.map((r) => [r.status, Number(r.costMicros), r.attempts])).toEqual([[502, 0, 3]]);
    expect(b.spend).toBe(BigInt(0));
    expect(await limits().pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
  });

  it("shares traffic within a priority by weight (1:3 over 200 requests, within statistical bounds)", async () => {
    const light = await upstream(unique("light"));
    const heavy = await upstream(unique("heavy"));
    const model = await routedModel([
      { upstream: light.name, weight: 1 },
      { upstream: heavy.name, weight: 3 },
    ]);
    const { openai } = await client();
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => openai.chat.completions.create({ model, messages: hello })));
    }
    const share = heavy.fake.requests.length / 200;
    expect(light.fake.requests.length + heavy.fake.requests.length).toBe(200);
    // Binomial(200, 0.75): five standard deviations is about ±0.15.
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.9);
  });

  it("never retries a stream that already sent bytes: the client sees it cut, the next route is untouched, and what was generated is charged once", async () => {
    const first = await upstream(unique("first"));
    const second = await upstream(unique("second"));
    const model = await routedModel([
      { upstream: first.name, priority: 0 },
      { upstream: second.name, priority: 1 },
    ]);
    first.fake.options.failMidStreamAfter = 2;
    const { user, key, openai } = await client();
    const stream = await openai.chat.completions.create({ model, messages: hello, stream: true });
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const c of stream) got.push(c.choices[0]?.delta?.content ?? "");
      })(),
    ).rejects.toThrow();
    expect(got.join("")).toContain("w0");
    expect(second.fake.requests).toHaveLength(0);
    const b = await books(user.id, key.id);
    expect(b.records).toHaveLength(1);
    expect(b.records[0]).toMatchObject({ upstream: first.name, attempts: 1, outputTokens: 2 });
    expect(b.spend).toBe(b.records[0].costMicros);
  });

  it("skips an upstream cooling down for every model routed to it, and goes back to it when the cooldown ends", async () => {
    const flaky = await upstream(unique("flaky"));
    const steady = await upstream(unique("steady"));
    const routes = [
      { upstream: flaky.name, priority: 0 },
      { upstream: steady.name, priority: 1 },
    ];
    const [m1, m2] = [await routedModel(routes), await routedModel(routes)];
    flaky.fake.options.status = 429;
    const { openai } = await client();
    const first = await openai.chat.completions.create({ model: m1, messages: hello }).withResponse();
    expect(first.response.headers.get("x-keygate-attempts")).toBe("2");
    flaky.fake.options.status = undefined;
    for (const model of [m1, m2]) {
      const { response } = await openai.chat.completions.create({ model, messages: hello }).withResponse();
      expect(response.headers.get("x-keygate-upstream")).toBe(steady.name);
      expect(response.headers.get("x-keygate-attempts")).toBe("1");
    }
    expect(flaky.fake.requests).toHaveLength(1);
    const listed = await call("GET", "/api/admin/upstreams", { token: ADMIN_TOKEN });
    const health = listed.json.data.find((u: { name: string }) => u.name === flaky.name).health;
    expect(health).toMatchObject({ state: "cooling_down", errors5m: 1 });
    await resetRouting();
    const { response } = await openai.chat.completions.create({ model: m1, messages: hello }).withResponse();
    expect(response.headers.get("x-keygate-upstream")).toBe(flaky.name);
  });

  it("a turned-off upstream is never tried, and a route of the other protocol serves the model through translation", async () => {
    const off = await upstream(unique("off"));
    const on = await upstream(unique("on"));
    const listed = await call("GET", "/api/admin/upstreams", { token: ADMIN_TOKEN });
    const offId = listed.json.data.find((u: { name: string }) => u.name === off.name).id;
    expect((await call("PUT", `/api/admin/upstreams/${offId}`, { token: ADMIN_TOKEN, body: { active: false } })).status).toBe(200);
    const model = await routedModel([
      { upstream: off.name, priority: 0 },
      { upstream: on.name, priority: 1 },
    ]);
    const { openai, key } = await client();
    const { response } = await openai.chat.completions.create({ model, messages: hello }).withResponse();
    expect(response.headers.get("x-keygate-upstream")).toBe(on.name);
    expect(off.fake.requests).toHaveLength(0);
    // An Anthropic model routed only to OpenAI upstreams: /v1/messages is served through the OpenAI route, translated.
    const crossed = await routedModel([{ upstream: on.name }], "anthropic");
    const viaMessages = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key.apiKey },
      body: JSON.stringify({ model: crossed, max_tokens: 5, messages: hello }),
    });
    expect(viaMessages.status).toBe(200);
    expect(await viaMessages.json()).toMatchObject({ type: "message", model: crossed, stop_reason: "end_turn" });
    expect(viaMessages.headers.get("x-keygate-upstream")).toBe(on.name);
    expect(on.fake.requests.map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/chat/completions"]);
  });
});
