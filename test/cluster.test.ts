import Redis from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { newKey } from "@/lib/keys/format";
import { createUser, type TestUser } from "./api";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { createCreditKey, createManagementKey, insertSubscription } from "./fixtures";
import { redisServerAvailable, startRedis, type TestRedis } from "./redis-server";
import { startInstance, type Instance } from "./spawn-instance";

/**
 * Several Keygate instances on one PostgreSQL and one Redis, each its own
 * process (test/instance.ts: the real front server, gateway and key route
 * handlers), driven through all of them at once with the official SDK. The
 * promises that must hold across instances: revocation on the very next
 * request, rpm, budgets and subscription slots counted once for all, crashes
 * that free what they held within the TTL, and a Redis outage that refuses
 * rather than lets spending through.
 *
 * Needs a real PostgreSQL (the "postgres" project, TEST_DATABASE_URL; PGlite
 * is one process by design) and Debian's redis-server (a private one per run).
 */

const enabled = Boolean(process.env.DATABASE_URL) && (redisServerAvailable() || process.env.CI === "true");
const LEASE_TTL_S = 2;

/** The HTTP status an SDK call ended with (200 for success). */
async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    const s = (err as { status?: number }).status;
    if (typeof s !== "number") throw err;
    return s;
  }
}

const hello = [{ role: "user" as const, content: "hello there" }];
const count = (statuses: number[], s: number) => statuses.filter((x) => x === s).length;

describe.skipIf(!enabled)("several instances on one PostgreSQL and one Redis", () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let up: FakeUpstream;
  let a: Instance;
  let b: Instance;
  let env: Record<string, string>;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined); // the Redis-outage test stops the server under it
    up = await startFakeUpstream();
    const db = await prisma();
    // Output-priced only, so a reservation (max_tokens) equals the final cost exactly: $100/M output → $0.001 for 10 tokens.
    await db.model.upsert({
      where: { model: "cluster-model" },
      create: { model: "cluster-model", provider: "openai", inputMicrosPerMTok: BigInt(0), outputMicrosPerMTok: BigInt(100_000_000), maxOutputTokens: 100 },
      update: {},
    });
    env = {
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_URL: redisServer.url,
      OPENAI_BASE_URL: up.openaiBaseUrl,
      OPENAI_API_KEY: "upstream-secret",
      KEYGATE_DEMO_UPSTREAM: "on",
      KEYGATE_LEASE_TTL_S: String(LEASE_TTL_S),
      // A dead instance's unwritten usage is claimed after 1 s (10 s by default), so the crash tests end quickly.
      KEYGATE_USAGE_CLAIM_IDLE_MS: "1000",
    };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    redis?.disconnect();
    await up?.close();
    await redisServer?.close();
  });

  it("refuses a key paused through instance A on instance B's very next request, 1,000 times in a row", async () => {
    const user = await createUser({ creditUsd: 50 });
    const key = await createCreditKey(user, { rpm: 100_000 });
    const viaB = b.openai(key.apiKey);
    const ask = () => status(viaB.chat.completions.create({ model: "keygate/echo", messages: hello, max_tokens: 1 }));
    for (let i = 0; i < 1000; i++) {
      expect((await a.put(`/api/keys/${key.id}`, user.token, { isActive: false })).status).toBe(200);
      const paused = await ask();
      if (paused !== 401) throw new Error(`round ${i}: B answered ${paused} for a key paused through A`);
      expect((await a.put(`/api/keys/${key.id}`, user.token, { isActive: true })).status).toBe(200);
      const resumed = await ask();
      if (resumed !== 200) throw new Error(`round ${i}: B answered ${resumed} for a key reactivated through A`);
    }
  }, 180_000);

  it("follows a credit key's allowlist changed through instance A from instance B's very next request, each way, 50 times in a row", async () => {
    const user = await createUser({ creditUsd: 50 });
    const key = await createCreditKey(user, { rpm: 100_000, allowedModels: ["cluster-model"] });
    const viaB = b.openai(key.apiKey);
    const ask = (model: string) => status(viaB.chat.completions.create({ model, messages: hello, max_tokens: 1 }));
    expect(await ask("keygate/echo")).toBe(403);
    for (let i = 0; i < 50; i++) {
      expect((await a.put(`/api/keys/${key.id}`, user.token, { allowedModels: ["keygate/echo"] })).status).toBe(200);
      const [echo, other] = [await ask("keygate/echo"), await ask("cluster-model")];
      if (echo !== 200 || other !== 403) throw new Error(`round ${i}: B answered ${echo}/${other} after A allowed only keygate/echo`);
      expect((await a.put(`/api/keys/${key.id}`, user.token, { allowedModels: ["cluster-model"] })).status).toBe(200);
      const [echo2, other2] = [await ask("keygate/echo"), await ask("cluster-model")];
      if (echo2 !== 403 || other2 !== 200) throw new Error(`round ${i}: B answered ${echo2}/${other2} after A allowed only cluster-model`);
    }
  }, 120_000);

  it("refuses a management key deactivated through instance A on instance B's next management request, 100 times in a row", async () => {
    const user = await createUser({ creditUsd: 1 });
    const credit = await createCreditKey(user);
    const mk = await createManagementKey(user);
    for (let i = 0; i < 100; i++) {
      const used = await b.put(`/api/keys/${credit.id}`, mk.apiKey, { name: `round-${i}` });
      if (used.status !== 200) throw new Error(`round ${i}: B answered ${used.status} for an active management key`);
      expect((await a.put(`/api/keys/management/${mk.id}`, user.token, { isActive: false })).status).toBe(200);
      const refused = await b.put(`/api/keys/${credit.id}`, mk.apiKey, { name: "must-not-apply" });
      if (refused.status !== 401) throw new Error(`round ${i}: B answered ${refused.status} for a management key deactivated through A`);
      expect((await a.put(`/api/keys/management/${mk.id}`, user.token, { isActive: true })).status).toBe(200);
    }
  });

  it("holds an rpm limit of N across both instances together under parallel load: N pass, the rest get 429", async () => {
    const user = await createUser({ creditUsd: 50 });
    const key = await createCreditKey(user, { rpm: 20 });
    const clients = [a.openai(key.apiKey), b.openai(key.apiKey)];
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => status(clients[i % 2].chat.completions.create({ model: "keygate/echo", messages: hello, max_tokens: 1 }))),
    );
    expect(count(statuses, 200)).toBe(20);
    expect(count(statuses, 429)).toBe(40);
  });

  it("admits at most k requests across both instances for a budget that fits exactly k, under parallel load, and records exactly that spend", async () => {
    up.options.outputTokens = 10;
    const user = await createUser({ creditUsd: 50 });
    // 10 output tokens at $100/M = $0.001 a request: $0.005 fits exactly 5.
    const key = await createCreditKey(user, { maxBudget: 0.005 });
    const clients = [a.openai(key.apiKey), b.openai(key.apiKey)];
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => status(clients[i % 2].chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 }))),
    );
    expect(count(statuses, 200)).toBe(5);
    expect(count(statuses, 402)).toBe(35);
    // Settled and written by both instances (each flushes within a second): exactly the budget, never more.
    const db = await prisma();
    await vi.waitFor(async () => expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).spendMicros).toBe(BigInt(5_000)), { timeout: 5_000 });
    expect(await status(clients[1].chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 }))).toBe(402);
  });

  it("never lets a subscription key have two requests in flight across both instances", async () => {
    const user = await createUser();
    const { key, apiKey } = await subscriptionKey(user);
    up.reset();
    Object.assign(up.options, { outputTokens: 20, chunkDelayMs: 10 });
    try {
      const clients = [a.openai(apiKey), b.openai(apiKey)];
      const statuses: number[] = [];
      for (let round = 0; round < 3; round++) {
        statuses.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              status(
                (async () => {
                  const stream = await clients[i % 2].chat.completions.create({ model: "cluster-model", messages: hello, stream: true });
                  for await (const chunk of stream) void chunk;
                })(),
              ),
            ),
          )),
        );
      }
      expect(up.maxInFlight).toBe(1);
      expect(count(statuses, 200)).toBeGreaterThanOrEqual(3);
      expect(count(statuses, 200) + count(statuses, 429)).toBe(statuses.length);
      expect(await redis.exists(`kg:l:${key.id}`)).toBe(0);
    } finally {
      Object.assign(up.options, { chunkDelayMs: 0, outputTokens: 5 });
    }
  });

  it("honours an upstream cooldown entered on instance A from instance B's very next request (503 upstream_unavailable, nothing sent upstream)", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 1000 });
    up.options.status = 429;
    try {
      expect(await status(a.openai(key.apiKey).chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 }))).toBe(429);
      up.reset();
      const refused = await b
        .openai(key.apiKey)
        .chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 })
        .then(
          () => null,
          (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
        );
      expect(refused?.status).toBe(503);
      expect(refused?.code).toBe("upstream_unavailable");
      expect(Number(refused?.headers?.get("retry-after"))).toBeGreaterThan(0);
      expect(up.requests).toHaveLength(0);
    } finally {
      up.options.status = undefined;
      // The cooldown is shared: end it for the tests that follow.
      await redis.del("kg:cool");
    }
    expect(await status(b.openai(key.apiKey).chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 }))).toBe(200);
  });

  it("after a kill -9 of the instance holding a subscription lease and a credit reservation: both are free within the TTL, and usage it flushed before is still there", async () => {
    const c = await startInstance(env);
    try {
      const user = await createUser({ creditUsd: 50 });
      const credit = await createCreditKey(user);
      const { apiKey: subKey } = await subscriptionKey(user);
      // Usage through C, written by C's flush (within about a second).
      for (let i = 0; i < 3; i++)
        expect(await status(c.openai(credit.apiKey).chat.completions.create({ model: "keygate/echo", messages: hello, max_tokens: 1 }))).toBe(200);
      const db = await prisma();
      await vi.waitFor(async () => expect(await db.usageRecord.count({ where: { apiKeyId: credit.id } })).toBe(3), { timeout: 5_000 });

      // Two long streams through C: one holds the subscription key's slot, the other a credit reservation.
      Object.assign(up.options, { outputTokens: 100, chunkDelayMs: 100 });
      const inFlight = up.requests.length;
      // (They end when C dies: their errors are expected.)
      const drain = async (apiKey: string) => {
        for await (const x of await c.openai(apiKey).chat.completions.create({ model: "cluster-model", messages: hello, stream: true, max_tokens: 100 }))
          void x;
      };
      void drain(subKey).catch(() => undefined);
      void drain(credit.apiKey).catch(() => undefined);
      await vi.waitFor(() => expect(up.requests.length).toBe(inFlight + 2));
      expect(Number(await redis.hget(`kg:a:${user.id}`, "reserved"))).toBeGreaterThan(0);

      await c.stop("SIGKILL");
      const killedAt = Date.now();
      // The slot is still held by the dead instance's lease…
      expect(await status(b.openai(subKey).chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 1 }))).toBe(429);
      // …until its TTL passes: then another instance takes it.
      await vi.waitFor(
        async () => expect(await status(b.openai(subKey).chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 1 }))).toBe(200),
        { timeout: (LEASE_TTL_S + 2) * 1000, interval: 100 },
      );
      expect(Date.now() - killedAt).toBeLessThan((LEASE_TTL_S + 2) * 1000);
      // The reservation expires with the same TTL and the next sweep (every 5 s, on any instance) returns it.
      await vi.waitFor(async () => expect(Number(await redis.hget(`kg:a:${user.id}`, "reserved"))).toBe(0), {
        timeout: (LEASE_TTL_S + 6) * 1000,
        interval: 200,
      });
      expect(await db.usageRecord.count({ where: { apiKeyId: credit.id } })).toBe(3);
    } finally {
      Object.assign(up.options, { chunkDelayMs: 0, outputTokens: 5 });
      await c.stop("SIGKILL");
    }
  }, 30_000);

  it("after a kill -9 mid-burst, with settled usage not yet written: another instance writes every record a client received, once, and the books converge", async () => {
    // C writes nothing by itself (its writer would wait ten minutes): whatever it settles is still waiting when it dies.
    const c = await startInstance({ ...env, KEYGATE_USAGE_FLUSH_MS: "600000" });
    const stream = process.env.KEYGATE_USAGE_STREAM!;
    try {
      // cluster-model: 100 micro-dollars an output token, nothing for input; every answer is max_tokens long.
      Object.assign(up.options, { outputTokens: 100, chunkDelayMs: 5 });
      const user = await createUser({ creditUsd: 0.2 });
      const key = await createCreditKey(user, { rpm: 100_000 });
      /** Usage ids of answers that came back whole, by the instance that gave them. */
      const received = { a: [] as string[], c: [] as string[] };
      let stop = false;
      const worker = async (via: Instance, name: "a" | "c", streamed: boolean) => {
        while (!stop) {
          try {
            const res = await fetch(`${via.url}/v1/chat/completions`, {
              method: "POST",
              headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
              body: JSON.stringify({ model: "cluster-model", messages: hello, max_tokens: 10, stream: streamed }),
            });
            const body = await res.text();
            if (res.status === 200 && (!streamed || body.includes("[DONE]"))) received[name].push(res.headers.get("x-keygate-usage-id")!);
          } catch {
            // Cut off by the kill: the client holds no whole answer.
            if (name === "c") return;
          }
        }
      };
      const burst = [...[false, true, false, true].map((streamed) => worker(c, "c", streamed)), ...[false, true].map((streamed) => worker(a, "a", streamed))];
      // Mid-burst: C has answered some, with more in flight, and written none of them.
      await vi.waitFor(() => expect(received.c.length).toBeGreaterThanOrEqual(20), { timeout: 10_000, interval: 5 });
      expect(await redis.xlen(stream)).toBeGreaterThan(0);
      await c.stop("SIGKILL");
      stop = true;
      await Promise.all(burst);
      const ids = [...received.a, ...received.c];

      // A or B claims what C left (idle 1 s) and writes it: every answer a client holds has its record, once.
      const db = await prisma();
      await vi.waitFor(async () => expect(await db.usageRecord.count({ where: { id: { in: ids } } })).toBe(ids.length), { timeout: 15_000, interval: 200 });
      // After the TTL and a sweep, nothing is reserved or unwritten, and Redis admits by exactly the database's balance.
      await vi.waitFor(
        async () => {
          const balance = (await db.user.findUniqueOrThrow({ where: { id: user.id } })).balanceMicros;
          expect(await redis.hmget(`kg:a:${user.id}`, "balance", "unflushed", "reserved")).toEqual([String(balance), "0", "0"]);
          expect(await redis.xlen(stream)).toBe(0);
        },
        { timeout: (LEASE_TTL_S + 8) * 1000, interval: 200 },
      );
      const records = await db.usageRecord.findMany({ where: { userId: user.id } });
      const cost = records.reduce((n, r) => n + r.costMicros, BigInt(0));
      const ledger = await db.ledgerEntry.aggregate({ where: { userId: user.id }, _sum: { amountMicros: true } });
      const balance = (await db.user.findUniqueOrThrow({ where: { id: user.id } })).balanceMicros;
      expect(ledger._sum.amountMicros).toBe(balance);
      expect(balance).toBe(BigInt(200_000) - cost);
      expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).spendMicros).toBe(cost);

      // The money available is the balance to the micro-dollar: requests of exactly what is left are admitted, one more token is not.
      Object.assign(up.options, { chunkDelayMs: 0 });
      let left = Number(balance);
      const viaB = b.openai(key.apiKey);
      while (left > 0) {
        const tokens = Math.min(100, left / 100);
        expect(await status(viaB.chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: tokens }))).toBe(200);
        left -= tokens * 100;
      }
      expect(await status(viaB.chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 1 }))).toBe(402);
    } finally {
      Object.assign(up.options, { chunkDelayMs: 0, outputTokens: 5 });
      await c.stop("SIGKILL");
    }
  }, 60_000);

  it("drains on SIGTERM: a stream in flight is settled and written, and nothing stays reserved in Redis after the exit", async () => {
    const e = await startInstance(env);
    try {
      const user = await createUser({ creditUsd: 50 });
      const credit = await createCreditKey(user);
      Object.assign(up.options, { outputTokens: 100, chunkDelayMs: 100 });
      const before = up.requests.length;
      const streamed = (async () => {
        for await (const x of await e.openai(credit.apiKey).chat.completions.create({ model: "cluster-model", messages: hello, stream: true, max_tokens: 100 }))
          void x;
      })().catch(() => undefined);
      await vi.waitFor(() => expect(up.requests.length).toBe(before + 1));
      expect(Number(await redis.hget(`kg:a:${user.id}`, "reserved"))).toBeGreaterThan(0);
      await e.stop("SIGTERM");
      await streamed;
      // Cut off by the drain (5 s grace, then abort) and settled at what it generated: written, and its reservation returned at once.
      const db = await prisma();
      const rows = await db.usageRecord.findMany({ where: { apiKeyId: credit.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0].outputTokens).toBeGreaterThan(0);
      expect(await redis.hmget(`kg:a:${user.id}`, "reserved", "unflushed")).toEqual(["0", "0"]);
    } finally {
      Object.assign(up.options, { chunkDelayMs: 0, outputTokens: 5 });
      await e.stop("SIGKILL");
    }
  }, 30_000);

  it("refuses with 503 while Redis is down (never admits unchecked), reports not ready, and recovers by itself with the budget still exact", async () => {
    up.options.outputTokens = 10;
    const user = await createUser({ creditUsd: 50 });
    const key = await createCreditKey(user, { maxBudget: 0.005 });
    const ask = (via: Instance) => status(via.openai(key.apiKey).chat.completions.create({ model: "cluster-model", messages: hello, max_tokens: 10 }));
    expect(await ask(a)).toBe(200);
    expect(await ask(b)).toBe(200);
    const db = await prisma();
    await vi.waitFor(async () => expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).spendMicros).toBe(BigInt(2_000)), { timeout: 5_000 });

    await redisServer.stop();
    try {
      const during = await Promise.all([ask(a), ask(b), ask(a), ask(b)]);
      expect(during).toEqual([503, 503, 503, 503]);
      const ready = await fetch(`${a.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { redis: "unreachable", database: "ok" } });
    } finally {
      // An empty Redis, as after a restart without persistence: balances and spend are seeded again from PostgreSQL.
      await redisServer.start();
    }
    await vi.waitFor(async () => expect((await fetch(`${b.url}/readyz`)).status).toBe(200), { timeout: 10_000, interval: 200 });
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => ask(i % 2 ? a : b)));
    expect(count(after, 200)).toBe(3);
    expect(count(after, 402)).toBe(7);
    await vi.waitFor(async () => expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).spendMicros).toBe(BigInt(5_000)), { timeout: 5_000 });
    up.options.outputTokens = 5;
  }, 30_000);

  it("reports not ready when its PostgreSQL is unreachable", async () => {
    const d = await startInstance({ ...env, DATABASE_URL: "postgresql://root@127.0.0.1:1/none" });
    try {
      const res = await fetch(`${d.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: "not_ready", checks: { database: "unreachable", redis: "ok" } });
    } finally {
      await d.stop("SIGKILL");
    }
  });
});

/** A subscription on a pool serving cluster-model all day, and a key for it, as the pool flow writes them. */
async function subscriptionKey(user: TestUser) {
  const subscription = await insertSubscription(user);
  const db = await prisma();
  await db.pool.update({ where: { id: subscription.poolId }, data: { models: ["cluster-model", "keygate/echo"] } });
  const material = newKey("subscription");
  const key = await db.apiKey.create({
    data: {
      userId: user.id,
      name: "cluster pool key",
      keyType: "subscription",
      keyHash: material.hash,
      keyPrefix: material.prefix,
      subscriptionId: subscription.id,
      rpmLimit: null,
    },
  });
  return { key, apiKey: material.key };
}
