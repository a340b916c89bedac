import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { limits } from "@/lib/limits";
import { upstreamHealth } from "@/lib/limits/health";
import { flushUsage } from "@/lib/usage/writer";
import { createUser } from "./api";
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
