import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { resetEnvCache } from "@/lib/env";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { limits } from "@/lib/limits";
import { invalidateSubscription } from "@/lib/subscriptions/cache";
import { localRevision, sync } from "@/lib/cluster/coherence";
import { flushUsage } from "@/lib/usage/writer";
import { newKey } from "@/lib/keys/format";
import { keyCreated } from "@/lib/keys/verify";
import { blockIndexAt, PERIOD_MS } from "@/lib/pools/blocks";
import { createUser, type TestUser } from "./api";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Subscription (pool) keys on the gateway: valid only while the subscription
 * is active and now (UTC) is inside a reserved block, for the pool's models,
 * at no cost, and never more than one request in flight per key.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({ OPENAI_BASE_URL: up.openaiBaseUrl, OPENAI_API_KEY: "upstream-secret", KEYGATE_DEMO_UPSTREAM: "on", KEYGATE_LEASE_TTL_S: undefined });
  const db = await prisma();
  for (const model of ["pool-model", "other-model"]) {
    await db.model.create({
      data: { model, provider: "openai", inputMicrosPerMTok: BigInt(1_000_000), outputMicrosPerMTok: BigInt(1_000_000), maxOutputTokens: 100 },
    });
  }
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(() => {
  Object.assign(up.options, { latencyMs: 0, chunkDelayMs: 0, outputTokens: 5, status: undefined });
  up.reset();
  delete process.env.KEYGATE_LEASE_TTL_S;
  resetEnvCache();
});

/** A subscription with these blocks on a pool of `blockHours`, and a key for it, written as the subscribe and key endpoints would. */
async function subscriptionKey(opts: { blockHours?: number; blocks?: number[]; periodEnd?: Date } = {}) {
  const user = await createUser({ creditUsd: 10 });
  const blockHours = opts.blockHours ?? 24;
  const db = await prisma();
  const pool = await db.pool.create({
    data: { name: "p", models: ["pool-model", "keygate/echo"], blockHours, capacity: 5, pricePerBlockMicros: BigInt(1_000_000) },
  });
  const sub = await db.subscription.create({
    data: {
      userId: user.id,
      poolId: pool.id,
      periodStart: new Date(),
      periodEnd: opts.periodEnd ?? new Date(Date.now() + PERIOD_MS),
      blocks: { create: (opts.blocks ?? [0]).map((blockIndex) => ({ blockIndex })) },
    },
  });
  const material = newKey("subscription");
  const key = await db.apiKey.create({
    data: {
      userId: user.id,
      name: "pool key",
      keyType: "subscription",
      keyHash: material.hash,
      keyPrefix: material.prefix,
      subscriptionId: sub.id,
      rpmLimit: null,
    },
  });
  keyCreated(material.hash);
  return { user, sub, key, apiKey: material.key, openai: gw.openai(material.key) };
}

const hello = [{ role: "user" as const, content: "Say hello" }];

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? -1;
    throw err;
  }
}

async function balanceOf(user: TestUser): Promise<bigint> {
  const db = await prisma();
  return (await db.user.findUniqueOrThrow({ where: { id: user.id } })).balanceMicros;
}

describe("subscription keys on the gateway", () => {
  it("work inside a reserved block, cost nothing, and still record usage at $0", async () => {
    const { user, openai } = await subscriptionKey();
    const reply = await openai.chat.completions.create({ model: "pool-model", messages: hello });
    expect(reply.choices[0].message.content).toBe("w0 w1 w2 w3 w4");
    await flushUsage();
    const db = await prisma();
    const [usage] = await db.usageRecord.findMany({ where: { userId: user.id } });
    expect(usage).toMatchObject({ model: "pool-model", outputTokens: 5, costMicros: BigInt(0), inputMicrosPerMTok: BigInt(0) });
    expect(await balanceOf(user)).toBe(BigInt(10_000_000));
  });

  it("never have two requests in flight: 100 parallel requests reach the upstream one at a time, and the refused get 429 concurrency_limit", async () => {
    const { user, apiKey } = await subscriptionKey();
    up.options.latencyMs = 20;
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "pool-model", messages: hello }),
        });
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
      }),
    );
    expect(up.maxInFlight).toBe(1);
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + refused.length).toBe(100);
    for (const r of refused) {
      expect(r.body.error.code).toBe("concurrency_limit");
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // A refused request counts against nothing: only the admitted ones reached the upstream or left a record.
    expect(up.requests).toHaveLength(ok.length);
    await flushUsage();
    expect(await (await prisma()).usageRecord.count({ where: { userId: user.id } })).toBe(ok.length);
  });

  it("free the slot when the client disconnects mid-stream", async () => {
    const { openai } = await subscriptionKey();
    up.options.outputTokens = 100;
    up.options.chunkDelayMs = 30;
    const controller = new AbortController();
    const stream = await openai.chat.completions.create({ model: "pool-model", messages: hello, stream: true }, { signal: controller.signal });
    let seen = 0;
    try {
      for await (const c of stream) if (c.choices[0]?.delta?.content && ++seen === 2) controller.abort();
    } catch {
      // aborted
    }
    await vi.waitFor(() => expect(up.requests[0]?.aborted).toBe(true));
    up.options.chunkDelayMs = 0;
    await vi.waitFor(async () => expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(200), { timeout: 2000 });
  });

  it("free the slot after its TTL when its holder vanished, and keep it while a long stream renews it", async () => {
    process.env.KEYGATE_LEASE_TTL_S = "1";
    resetEnvCache();
    const { key, openai } = await subscriptionKey();
    // A holder that crashed: its lease is never released.
    await sync(); // with REDIS_URL, the lease carries this process's revision: catch up first
    expect((await limits().acquireLease(key.id, "crashed-instance", Date.now(), 1000, localRevision())).ok).toBe(true);
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(200);

    // A stream of ~2.5 s outlives the 1 s TTL; renewal keeps the slot taken throughout.
    up.options.outputTokens = 50;
    up.options.chunkDelayMs = 50;
    const stream = await openai.chat.completions.create({ model: "pool-model", messages: hello, stream: true });
    const reading = (async () => {
      for await (const c of stream) void c;
    })();
    await new Promise((r) => setTimeout(r, 1600));
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(429);
    await reading;
    up.options.chunkDelayMs = 0;
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(200);
  });

  it("refuse outside the reserved blocks with 403, saying when the next block starts", async () => {
    const far = (blockIndexAt(Date.now(), 1) + 12) % 24;
    const { apiKey } = await subscriptionKey({ blockHours: 1, blocks: [far] });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "pool-model", messages: hello }),
    });
    expect(res.status).toBe(403);
    const next = res.headers.get("x-keygate-next-block-at");
    expect(new Date(next!).getUTCHours()).toBe(far);
    const body = await res.json();
    expect(body.error.code).toBe("outside_reserved_block");
    expect(body.error.message).toContain(next);
    expect(up.requests).toHaveLength(0);
  });

  it("refuse a model the pool does not serve with 403 model_not_allowed", async () => {
    const { openai } = await subscriptionKey();
    await expect(openai.chat.completions.create({ model: "other-model", messages: hello })).rejects.toMatchObject({ status: 403, code: "model_not_allowed" });
  });

  it("list only their pool's models on GET /v1/models, the models they may use", async () => {
    const { openai } = await subscriptionKey();
    const ids = (await openai.models.list()).data.map((m) => m.id);
    expect(ids).toContain("pool-model");
    expect(ids).not.toContain("other-model");
    for (const id of ids) expect(["pool-model", "keygate/echo"]).toContain(id);
  });

  it("stop at period end and work again, same key, once the subscription is renewed", async () => {
    const { sub, openai } = await subscriptionKey();
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(200);
    // The period ends a moment from now (set only now, so a slow machine's set-up cannot use it up); at its end the key stops by itself.
    const end = Date.now() + 300;
    await (await prisma()).subscription.update({ where: { id: sub.id }, data: { periodEnd: new Date(end) } });
    invalidateSubscription(sub.id);
    await new Promise((r) => setTimeout(r, end - Date.now() + 50));
    await expect(openai.chat.completions.create({ model: "pool-model", messages: hello })).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/subscription/),
    });
    await (await prisma()).subscription.update({ where: { id: sub.id }, data: { periodEnd: new Date(Date.now() + PERIOD_MS) } });
    invalidateSubscription(sub.id);
    expect(await status(openai.chat.completions.create({ model: "pool-model", messages: hello }))).toBe(200);
  });

  it("are judged by POST /api/keys/verify the same way", async () => {
    const inside = await subscriptionKey();
    const far = (blockIndexAt(Date.now(), 1) + 12) % 24;
    const outside = await subscriptionKey({ blockHours: 1, blocks: [far] });
    const verify = async (key: string) =>
      (
        await (
          await fetch(`${gw.url}/api/keys/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key }) })
        ).json()
      ).data;
    expect(await verify(inside.apiKey)).toMatchObject({ valid: true, code: "valid", keyType: "subscription", remaining: null });
    expect(await verify(outside.apiKey)).toMatchObject({ valid: false, code: "outside_reserved_block" });
  });
});
