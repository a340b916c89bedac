import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, closeRedis } from "@/lib/cluster/redis";
import { TooManyRequestsError } from "@/lib/http/errors";
import { consume, reset, reward } from "@/lib/rate-limit";
import { setEnv } from "@/test/gateway";
import { redisServerAvailable, startRedis, type TestRedis } from "@/test/redis-server";

/**
 * The sign-in and sign-up limits with REDIS_URL: every instance counts in
 * Redis, so instances share one count, and while Redis is down each instance
 * still limits on its own rather than failing sign-in.
 */

const skip = !redisServerAvailable() && process.env.CI !== "true";
if (skip) console.warn("[test] test/rate-limit-redis.test.ts skipped: no redis-server on PATH (apt-get install redis-server). CI runs it.");

const globalForLimits = globalThis as unknown as { __keygateLimiters?: Map<string, unknown> };

/** What a new process starts with: no limiters and no Redis connection of its own yet. */
async function newProcess(): Promise<void> {
  globalForLimits.__keygateLimiters = undefined;
  await closeRedis();
}

const SPEC = { points: 3, durationSeconds: 60 };

async function refusal(attempt: Promise<void>): Promise<unknown> {
  return attempt.then(
    () => null,
    (err: unknown) => err,
  );
}

describe.skipIf(skip)("named limits in Redis", () => {
  let server: TestRedis;
  let restoreEnv: () => void;

  beforeAll(async () => {
    server = await startRedis();
    restoreEnv = setEnv({ REDIS_URL: server.url });
  });

  beforeEach(newProcess);

  afterAll(async () => {
    await newProcess();
    restoreEnv?.();
    await server?.close();
  });

  it("two processes share one count: N attempts through one, and the next through the other is refused with 429", async () => {
    const key = `203.0.113.${randomUUID()}`;
    for (let i = 0; i < SPEC.points; i++) await consume("test-shared", key, SPEC, "too many");
    expect(await call((c) => c.get(`kg:rl:test-shared:${key}`))).toBe(String(SPEC.points));

    await newProcess();
    const refused = await refusal(consume("test-shared", key, SPEC, "too many"));
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect(refused).toMatchObject({ status: 429, message: "too many" });
    // Another key has its own count.
    await expect(consume("test-shared", `${key}-other`, SPEC, "too many")).resolves.toBeUndefined();
  });

  it("reward gives a point back and reset clears the count, for every process", async () => {
    const key = `user-${randomUUID()}@example.com`;
    for (let i = 0; i < SPEC.points; i++) await consume("test-reward", key, SPEC, "too many");
    await reward("test-reward", key, SPEC);
    await newProcess();
    await expect(consume("test-reward", key, SPEC, "too many")).resolves.toBeUndefined();
    expect(await refusal(consume("test-reward", key, SPEC, "too many"))).toBeInstanceOf(TooManyRequestsError);
    await reset("test-reward", key, SPEC);
    await newProcess();
    await expect(consume("test-reward", key, SPEC, "too many")).resolves.toBeUndefined();
  });

  it("with Redis down, each process still limits on its own instead of failing sign-in", async () => {
    const key = `198.51.100.${randomUUID()}`;
    await consume("test-down", key, SPEC, "too many");
    await server.stop();
    try {
      const started = Date.now();
      for (let i = 0; i < SPEC.points; i++) await expect(consume("test-down", key, SPEC, "too many")).resolves.toBeUndefined();
      expect(await refusal(consume("test-down", key, SPEC, "too many"))).toBeInstanceOf(TooManyRequestsError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await server.start();
    }
  });

  it("counts in memory without REDIS_URL", async () => {
    const restore = setEnv({ REDIS_URL: undefined });
    try {
      globalForLimits.__keygateLimiters = undefined;
      const key = `192.0.2.${randomUUID()}`;
      for (let i = 0; i < SPEC.points; i++) await consume("test-memory", key, SPEC, "too many");
      expect(await refusal(consume("test-memory", key, SPEC, "too many"))).toBeInstanceOf(TooManyRequestsError);
      // A new process starts from nothing: the count was this process's own.
      globalForLimits.__keygateLimiters = undefined;
      await expect(consume("test-memory", key, SPEC, "too many")).resolves.toBeUndefined();
    } finally {
      restore();
    }
  });
});
