import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { announce } from "@/lib/cluster/coherence";
import { call, closeRedis, StoreUnavailableError } from "@/lib/cluster/redis";
import { costMicros, MemoryLimitsStore, type Admission, type AdmitResult, type LimitsStore } from "@/lib/limits";
import { RedisLimitsStore, redisForTests } from "@/lib/limits/redis";
import { setEnv } from "@/test/gateway";
import { redisServerAvailable, startRedis, type TestRedis } from "@/test/redis-server";
import { ADMISSION_DEFAULTS } from "./admission";

/**
 * The Redis limits store against a real redis-server (a private one on its
 * own port): the memory store's promises (lib/limits/memory.test.ts) hold
 * when the figures live in Redis, under concurrent calls, and the store fails
 * closed when Redis goes away and recovers by itself when it comes back.
 * Every test uses its own users, keys and requests, so none sees another's
 * figures.
 */

const skip = !redisServerAvailable() && process.env.CI !== "true";
if (skip) console.warn("[test] test/redis-limits.test.ts skipped: no redis-server on PATH (apt-get install redis-server). CI runs it.");

/** The worst case of the default admission below: 100 prompt + 100 output tokens at $1/MTok each. */
const COST = costMicros(100, 100, 1_000_000, 1_000_000);

describe.skipIf(skip)("RedisLimitsStore on a real Redis", () => {
  let server: TestRedis;
  let restoreEnv: () => void;
  /** Used through the store interface, as the gateway uses it. */
  let store: LimitsStore & Pick<RedisLimitsStore, "backlogSize">;

  beforeAll(async () => {
    server = await startRedis();
    restoreEnv = setEnv({ REDIS_URL: server.url });
  });

  // A store of its own per test (they share Redis): one test's backlog never holds up another's settlements.
  beforeEach(() => {
    store = new RedisLimitsStore();
  });

  afterAll(async () => {
    await closeRedis();
    restoreEnv?.();
    await server?.close();
  });

  /** The revision the store holds now: what an instance that has caught up sends. */
  async function revision(): Promise<number> {
    return Number((await call((c) => c.get("kg:rev"))) ?? 0);
  }

  function ids() {
    return { userId: `u-${randomUUID()}`, keyId: `k-${randomUUID()}` };
  }

  /** A seeded account and key with fresh ids. */
  async function seeded(balanceMicros: number, spentMicros = 0) {
    const { userId, keyId } = ids();
    expect(await store.seedAccount(userId, balanceMicros, await store.accountGeneration(userId))).toBe(true);
    expect(await store.seedKey(keyId, spentMicros, await store.keyGeneration(keyId))).toBe(true);
    return { userId, keyId };
  }

  async function admission(who: { userId: string; keyId: string }, overrides: Partial<Admission> = {}): Promise<Admission> {
    return {
      revision: overrides.revision ?? (await revision()),
      requestId: `r-${randomUUID()}`,
      now: Date.now(),
      ...ADMISSION_DEFAULTS,
      ...who,
      ...overrides,
    };
  }

  /** Admits many at once (one Lua script each, interleaved by Redis); returns each admission with its answer. */
  async function admitConcurrently(list: Admission[]): Promise<Array<{ a: Admission; r: AdmitResult }>> {
    const results = await Promise.all(list.map((a) => store.admit(a)));
    return list.map((a, i) => ({ a, r: results[i] }));
  }

  describe("seeding", () => {
    it("answers unseeded, naming what is missing, until both the account and the key are seeded", async () => {
      const who = ids();
      expect(await store.admit(await admission(who))).toEqual({ ok: false, reason: "unseeded", account: true, key: true });
      expect(await store.seedAccount(who.userId, 10_000, await store.accountGeneration(who.userId))).toBe(true);
      expect(await store.admit(await admission(who))).toEqual({ ok: false, reason: "unseeded", account: false, key: true });
      expect(await store.seedKey(who.keyId, 0, await store.keyGeneration(who.keyId))).toBe(true);
      expect(await store.admit(await admission(who))).toMatchObject({ ok: true, reservedMicros: COST });
    });

    it("refuses to seed an account from a balance read that a credit overtook, and takes the fresh generation", async () => {
      const { userId } = ids();
      const generation = await store.accountGeneration(userId);
      await store.credit(userId, 5_000_000);
      expect(await store.accountGeneration(userId)).toBe(generation + 1);
      expect(await store.seedAccount(userId, 0, generation)).toBe(false);
      expect(await redisForTests().exists(`kg:a:${userId}`)).toBe(0);
      expect(await store.seedAccount(userId, 5_000_000, generation + 1)).toBe(true);
    });

    it("refuses to seed from a read that a flush overtook (account and key), and takes the fresh generation", async () => {
      const { userId, keyId } = ids();
      const accountGeneration = await store.accountGeneration(userId);
      const keyGeneration = await store.keyGeneration(keyId);
      await store.flushed(`b-${randomUUID()}`, [{ userId, keyId, costMicros: 300 }]);
      expect(await store.seedAccount(userId, 10_000, accountGeneration)).toBe(false);
      expect(await store.seedKey(keyId, 0, keyGeneration)).toBe(false);
      expect(await store.seedAccount(userId, 9_700, await store.accountGeneration(userId))).toBe(true);
      expect(await store.seedKey(keyId, 300, await store.keyGeneration(keyId))).toBe(true);
      expect(await store.peek(userId, keyId, { rpmLimit: null, tpmLimit: null, maxBudgetMicros: 1_000 }, Date.now())).toMatchObject({
        accountAvailableMicros: 9_700,
        keyAvailableMicros: 700,
      });
    });

    it("keeps the figures it has when seeded again (a second instance's seed changes nothing)", async () => {
      const who = await seeded(10_000, 100);
      expect(await store.admit(await admission(who))).toMatchObject({ ok: true });
      expect(await store.seedAccount(who.userId, 999_999, await store.accountGeneration(who.userId))).toBe(true);
      expect(await store.seedKey(who.keyId, 0, await store.keyGeneration(who.keyId))).toBe(true);
      expect(await store.peek(who.userId, who.keyId, { rpmLimit: null, tpmLimit: null, maxBudgetMicros: 1_000 }, Date.now())).toMatchObject({
        accountAvailableMicros: 10_000 - COST,
        keyAvailableMicros: 1_000 - 100 - COST,
      });
    });
  });

  describe("coherence: a decision is only made at the store's current revision", () => {
    it("answers stale with the current revision to an admission from another revision, and reserves nothing", async () => {
      const who = await seeded(10_000);
      const current = await revision();
      expect(await store.admit(await admission(who, { revision: current + 1 }))).toEqual({ ok: false, reason: "stale", revision: current });

      const before = await admission(who);
      await announce("key", who.keyId);
      expect(await revision()).toBe(current + 1);
      expect(await store.admit(before)).toEqual({ ok: false, reason: "stale", revision: current + 1 });
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
      expect(await redisForTests().exists(`kg:r:${before.requestId}`)).toBe(0);
      expect(await store.admit({ ...before, revision: current + 1 })).toMatchObject({ ok: true });
    });

    it("answers stale to a lease from an old revision, and takes no lease", async () => {
      const { keyId } = ids();
      const old = await revision();
      await announce("subscription", keyId);
      expect(await store.acquireLease(keyId, "a", Date.now(), 10_000, old)).toEqual({ ok: false, reason: "stale", revision: old + 1 });
      expect(await redisForTests().exists(`kg:l:${keyId}`)).toBe(0);
      expect(await store.acquireLease(keyId, "b", Date.now(), 10_000, old + 1)).toMatchObject({ ok: true });
      await store.releaseLease(keyId, "b");
    });
  });

  describe("money: concurrent reservations can never overdraw", () => {
    it("admits exactly as many as the key's budget fits out of 50 concurrent admissions, refusing the rest with budget", async () => {
      const fits = 7;
      const who = await seeded(1e12);
      const list = await Promise.all(Array.from({ length: 50 }, () => admission(who, { maxBudgetMicros: fits * COST + COST - 1 })));
      const results = await admitConcurrently(list);
      const admitted = results.filter((x) => x.r.ok);
      expect(admitted).toHaveLength(fits);
      for (const { r } of results.filter((x) => !x.r.ok)) expect(r).toMatchObject({ ok: false, reason: "budget", retryAfterMs: null });
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: fits * COST });
      await Promise.all(admitted.map(({ a }) => store.release(a.requestId)));
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
      expect(await store.peek(who.userId, who.keyId, { rpmLimit: null, tpmLimit: null, maxBudgetMicros: fits * COST + COST - 1 }, Date.now())).toMatchObject({
        keyAvailableMicros: fits * COST + COST - 1,
      });
    });

    it("admits exactly as many as the balance fits when the account is the limit, refusing the rest with balance", async () => {
      const fits = 4;
      const who = await seeded(fits * COST + COST - 1);
      const results = await admitConcurrently(await Promise.all(Array.from({ length: 50 }, () => admission(who))));
      expect(results.filter((x) => x.r.ok)).toHaveLength(fits);
      for (const { r } of results.filter((x) => !x.r.ok)) expect(r).toMatchObject({ ok: false, reason: "balance" });
      expect((await store.pending(who.userId)).reservedMicros).toBe(fits * COST);
    });

    it("never lets two keys of one account, admitting concurrently, reserve more than the account's balance", async () => {
      const balance = 10 * COST + COST - 1;
      const { userId, keyId } = await seeded(balance);
      const otherKey = `k-${randomUUID()}`;
      expect(await store.seedKey(otherKey, 0, await store.keyGeneration(otherKey))).toBe(true);
      const list = await Promise.all(Array.from({ length: 60 }, (_, i) => admission({ userId, keyId: i % 2 ? keyId : otherKey })));
      const results = await admitConcurrently(list);
      const admitted = results.filter((x) => x.r.ok);
      expect(admitted).toHaveLength(10);
      expect(admitted.some((x) => x.a.keyId === keyId) && admitted.some((x) => x.a.keyId === otherKey)).toBe(true);
      expect((await store.pending(userId)).reservedMicros).toBe(10 * COST);
      expect((await store.pending(userId)).reservedMicros).toBeLessThanOrEqual(balance);
    });

    it("lowers max_tokens to what the balance pays for when the client set none, like the memory store", async () => {
      const who = await seeded(150);
      expect(await store.admit(await admission(who, { requestedMaxTokens: null }))).toMatchObject({
        ok: true,
        lowered: true,
        maxTokens: 50,
        reservedMicros: 150,
      });
      const poor = await seeded(100);
      expect(await store.admit(await admission(poor, { requestedMaxTokens: null }))).toMatchObject({ ok: false, reason: "balance" });
    });

    it("reserves only the prompt for a request that generates nothing (requestedMaxTokens 0, an embedding), like the memory store", async () => {
      const prompt = costMicros(100, 0, 1_000_000, 1_000_000);
      const who = await seeded(prompt);
      expect(await store.admit(await admission(who, { requestedMaxTokens: 0 }))).toMatchObject({
        ok: true,
        maxTokens: 0,
        lowered: false,
        reservedMicros: prompt,
      });
      const poor = await seeded(prompt - 1);
      expect(await store.admit(await admission(poor, { requestedMaxTokens: 0 }))).toMatchObject({ ok: false, reason: "balance" });
    });
  });

  describe("upstream cooldowns, shared by every instance", () => {
    it("a cooldown entered through one store is in the very next admission and lease of another, keeps the longer, and ends when told", async () => {
      const other = new RedisLimitsStore();
      const name = `up-${randomUUID()} http://u`;
      await store.coolDown(name, 60_000);
      await store.coolDown(name, 1_000); // shorter: the 60 s one stands
      const admitted = await other.admit(await admission(await seeded(10_000_000)));
      expect(admitted.ok).toBe(true);
      const left = admitted.ok ? admitted.cooling.get(name) : undefined;
      expect(left).toBeGreaterThan(55_000);
      expect(left).toBeLessThanOrEqual(60_000);
      const lease = await other.acquireLease(`k-${randomUUID()}`, "h", Date.now(), 10_000, await revision());
      expect(lease.ok && lease.cooling.has(name)).toBe(true);
      expect((await other.cooldowns()).has(name)).toBe(true);
      await other.endCooldown(name);
      expect((await store.cooldowns()).has(name)).toBe(false);
    });

    it("a cooldown ends by itself when its time is up", async () => {
      const name = `up-${randomUUID()} http://u`;
      await store.coolDown(name, 150);
      expect((await store.cooldowns()).has(name)).toBe(true);
      await vi.waitFor(async () => expect((await store.cooldowns()).has(name)).toBe(false), { timeout: 5_000, interval: 25 });
    });
  });

  describe("windows", () => {
    it("admits exactly rpm out of 3×rpm concurrent requests and refuses the rest with rpm and a retry within the window", async () => {
      const limit = 5;
      const who = await seeded(1e12);
      const results = await admitConcurrently(await Promise.all(Array.from({ length: 3 * limit }, () => admission(who, { rpmLimit: limit }))));
      expect(results.filter((x) => x.r.ok)).toHaveLength(limit);
      for (const { r } of results.filter((x) => !x.r.ok)) {
        expect(r).toMatchObject({ ok: false, reason: "rpm" });
        const retry = (r as { retryAfterMs: number }).retryAfterMs;
        expect(retry).toBeGreaterThan(0);
        expect(retry).toBeLessThanOrEqual(60_000);
      }
    });
  });

  describe("tpm: an estimate is held, never more than the limit, then settled to the real count (as in memory)", () => {
    // A prompt of 300 bytes (the money's bound) that is about 26 tokens (the window's estimate), with max_tokens 20.
    const big = { tpmLimit: 100, promptTokens: 300, promptTokensEstimate: 26, requestedMaxTokens: 20 };
    const tpmOnly = { rpmLimit: null, tpmLimit: 100, maxBudgetMicros: null };

    it("a key with tpmLimit 100 admits a request whose estimate fits although its byte bound does not", async () => {
      const who = await seeded(1e12);
      expect(await store.admit(await admission(who, big))).toMatchObject({
        ok: true,
        maxTokens: 20,
        reservedMicros: costMicros(300, 20, 1_000_000, 1_000_000),
        rate: { tpmLimit: 100, tpmRemaining: 54 },
      });
    });

    it("a request estimated above the whole tpmLimit runs in an empty window and waits otherwise", async () => {
      const who = await seeded(1e12);
      const huge = { tpmLimit: 100, promptTokens: 800, promptTokensEstimate: 200, requestedMaxTokens: 50 };
      const first = await admission(who, huge);
      expect(await store.admit(first)).toMatchObject({ ok: true, maxTokens: 50, rate: { tpmRemaining: 0 } });
      const waits = await store.admit(await admission(who, big));
      expect(waits).toMatchObject({ ok: false, reason: "tpm" });
      const retry = (waits as { retryAfterMs: number }).retryAfterMs;
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60_000);
      await store.settle(first.requestId, { costMicros: 0, tokens: 230 });
      expect(await store.admit(await admission(who, huge))).toMatchObject({ ok: false, reason: "tpm" });
    });

    it("settle replaces the estimate with the real count", async () => {
      const who = await seeded(1e12);
      const first = await admission(who, big);
      expect(await store.admit(first)).toMatchObject({ ok: true, rate: { tpmRemaining: 54 } });
      await store.settle(first.requestId, { costMicros: 10, tokens: 30 });
      expect((await store.peek(who.userId, who.keyId, tpmOnly, Date.now()))?.rate.tpmRemaining).toBe(70);
      // A real count above the estimate is counted whole: the window waits for it.
      const second = await admission(who, big);
      expect(await store.admit(second)).toMatchObject({ ok: true, rate: { tpmRemaining: 70 - 46 } });
      await store.settle(second.requestId, { costMicros: 10, tokens: 90 });
      expect((await store.peek(who.userId, who.keyId, tpmOnly, Date.now()))?.rate.tpmRemaining).toBe(0);
      expect(await store.admit(await admission(who, big))).toMatchObject({ ok: false, reason: "tpm" });
      // Released (nothing generated), a hold counts nothing.
      const other = await seeded(1e12);
      const released = await admission(other, big);
      expect(await store.admit(released)).toMatchObject({ ok: true });
      await store.release(released.requestId);
      expect((await store.peek(other.userId, other.keyId, tpmOnly, Date.now()))?.rate.tpmRemaining).toBe(100);
    });

    it("lowers a missing max_tokens to the window's room after the estimate (not the bound), like the memory store", async () => {
      const who = await seeded(1e12);
      const open = { tpmLimit: 100, promptTokens: 300, promptTokensEstimate: 20, requestedMaxTokens: null, modelMaxTokens: 1000 };
      expect(await store.admit(await admission(who, { ...open, promptTokensEstimate: 10, requestedMaxTokens: 30 }))).toMatchObject({
        ok: true,
        rate: { tpmRemaining: 60 },
      });
      expect(await store.admit(await admission(who, open))).toMatchObject({ ok: true, lowered: true, maxTokens: 40, rate: { tpmRemaining: 0 } });
      expect(await store.admit(await admission(await seeded(1e12), { ...open, promptTokensEstimate: 100 }))).toMatchObject({
        ok: true,
        lowered: false,
        maxTokens: 1000,
        rate: { tpmRemaining: 0 },
      });
    });

    it("forgets the holds of a key idle past its window sets' expiry (the token sum does not keep them forever)", async () => {
      const who = await seeded(1e12);
      expect(await store.admit(await admission(who, big))).toMatchObject({ ok: true, rate: { tpmRemaining: 54 } });
      // What two idle windows do (the sets' PEXPIRE), without waiting two minutes: the holds expire untrimmed.
      const sets = [`kg:k:${who.keyId}:tpm`, `kg:k:${who.keyId}:tpmv`];
      for (const k of sets) await redisForTests().pexpire(k, 1);
      await vi.waitFor(async () => expect(await redisForTests().exists(...sets)).toBe(0), { timeout: 5_000, interval: 10 });
      expect((await store.peek(who.userId, who.keyId, tpmOnly, Date.now()))?.rate.tpmRemaining).toBe(100);
      expect(await store.admit(await admission(who, big))).toMatchObject({ ok: true, rate: { tpmRemaining: 54 } });
    });
  });

  describe("settlement and flushing", () => {
    it("moves a settled cost to unflushed, then a flush moves it into the settled balance and spend, once per batch", async () => {
      const who = await seeded(10_000);
      const limits = { rpmLimit: null, tpmLimit: null, maxBudgetMicros: 1_000 };
      const a = await admission(who, { maxBudgetMicros: 1_000 });
      expect(await store.admit(a)).toMatchObject({ ok: true, reservedMicros: COST });
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: COST });
      await store.settle(a.requestId, { costMicros: 150, tokens: 180 });
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 150, reservedMicros: 0 });
      expect(await store.peek(who.userId, who.keyId, limits, Date.now())).toMatchObject({ accountAvailableMicros: 9_850, keyAvailableMicros: 850 });

      const batchId = `b-${randomUUID()}`;
      const entries = [{ ...who, costMicros: 150 }];
      await store.flushed(batchId, entries);
      const figures = async () => {
        const peek = await store.peek(who.userId, who.keyId, limits, Date.now());
        return {
          account: await redisForTests().hgetall(`kg:a:${who.userId}`),
          key: await redisForTests().hgetall(`kg:k:${who.keyId}`),
          available: [peek?.accountAvailableMicros, peek?.keyAvailableMicros],
        };
      };
      const after = await figures();
      expect(after.account).toMatchObject({ balance: "9850", unflushed: "0", reserved: "0" });
      expect(after.key).toMatchObject({ spent: "150", unflushed: "0", reserved: "0" });
      expect(after.available).toEqual([9_850, 850]);

      await store.flushed(batchId, entries);
      expect(await figures()).toEqual(after);
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    });

    it("settling or releasing a request twice, or one it never admitted, changes nothing", async () => {
      const who = await seeded(10_000);
      const a = await admission(who);
      await store.admit(a);
      await store.settle(a.requestId, { costMicros: 150, tokens: 0 });
      await store.settle(a.requestId, { costMicros: 150, tokens: 0 });
      await store.release(a.requestId);
      await store.release(`r-${randomUUID()}`);
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 150, reservedMicros: 0 });
    });

    it("ends a free reservation (a model priced at zero) with settle and release like any other", async () => {
      const who = await seeded(10_000);
      const free = { inputMicrosPerMTok: 0, outputMicrosPerMTok: 0 };
      const settled = await admission(who, free);
      const released = await admission(who, free);
      expect(await store.admit(settled)).toMatchObject({ ok: true, reservedMicros: 0 });
      expect(await store.admit(released)).toMatchObject({ ok: true, reservedMicros: 0 });
      const inFlight = await store.reservationsInFlight();
      await store.settle(settled.requestId, { costMicros: 0, tokens: 150 });
      await store.release(released.requestId);
      expect(store.backlogSize()).toBe(0);
      expect(await store.reservationsInFlight()).toBe(inFlight - 2);
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    });

    it("applies a flushed batch whose entry cost nothing (free usage), and the settlements after it", async () => {
      const who = await seeded(10_000);
      await store.flushed(`b-${randomUUID()}`, [{ ...who, costMicros: 0 }]);
      expect(store.backlogSize()).toBe(0);
      const a = await admission(who);
      expect(await store.admit(a)).toMatchObject({ ok: true });
      await store.release(a.requestId);
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    });

    it("a credit on a seeded account raises what admit can spend at once; on an unseeded one it only moves the generation", async () => {
      const who = await seeded(COST - 1);
      expect(await store.admit(await admission(who))).toMatchObject({ ok: false, reason: "balance" });
      await store.credit(who.userId, 1_000);
      expect(await store.admit(await admission(who))).toMatchObject({ ok: true });

      const { userId } = ids();
      const generation = await store.accountGeneration(userId);
      await store.credit(userId, 1_000);
      expect(await store.accountGeneration(userId)).toBe(generation + 1);
      expect(await redisForTests().exists(`kg:a:${userId}`)).toBe(0);
    });
  });

  describe("reservations whose holder never came back", () => {
    it("sweep frees a reservation once its ttl has passed, and not before", async () => {
      const who = await seeded(10_000);
      const a = await admission(who, { ttlMs: 300 });
      expect(await store.admit(a)).toMatchObject({ ok: true });
      await store.sweep(Date.now());
      expect((await store.pending(who.userId)).reservedMicros).toBe(COST);
      await new Promise((r) => setTimeout(r, 400));
      await store.sweep(Date.now());
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
      expect(await redisForTests().exists(`kg:r:${a.requestId}`)).toBe(0);
      // Its holder was only slow: settling it late still counts the cost, and a repeated settle (a retry) counts it once.
      await store.settle(a.requestId, { costMicros: 150, tokens: 0 });
      await store.settle(a.requestId, { costMicros: 150, tokens: 0 });
      expect(await store.pending(who.userId)).toEqual({ unflushedMicros: 150, reservedMicros: 0 });
      expect(store.backlogSize()).toBe(0);
    });

    it("renew keeps a reservation alive past its first ttl", async () => {
      const who = await seeded(10_000);
      const a = await admission(who, { ttlMs: 300 });
      expect(await store.admit(a)).toMatchObject({ ok: true });
      await new Promise((r) => setTimeout(r, 150));
      await store.renew(a.requestId, Date.now(), 5_000);
      await new Promise((r) => setTimeout(r, 300));
      await store.sweep(Date.now());
      expect((await store.pending(who.userId)).reservedMicros).toBe(COST);
      await store.release(a.requestId);
      expect((await store.pending(who.userId)).reservedMicros).toBe(0);
    });

    it("counts the reservations in flight", async () => {
      const who = await seeded(1e9);
      const before = await store.reservationsInFlight();
      const list = await Promise.all([admission(who), admission(who), admission(who)]);
      for (const a of list) expect(await store.admit(a)).toMatchObject({ ok: true });
      expect(await store.reservationsInFlight()).toBe(before + 3);
      await store.settle(list[0].requestId, { costMicros: 1, tokens: 0 });
      await store.release(list[1].requestId);
      expect(await store.reservationsInFlight()).toBe(before + 1);
      await store.release(list[2].requestId);
      expect(await store.reservationsInFlight()).toBe(before);
    });
  });

  describe("peek", () => {
    it("returns null for an account or key the store has not seen", async () => {
      const none = { rpmLimit: null, tpmLimit: null, maxBudgetMicros: null };
      const who = ids();
      expect(await store.peek(who.userId, who.keyId, none, Date.now())).toBeNull();
      await store.seedAccount(who.userId, 1_000, await store.accountGeneration(who.userId));
      expect(await store.peek(who.userId, who.keyId, none, Date.now())).toBeNull();
    });

    it("shows the figures admit decided with, without reserving anything", async () => {
      const who = await seeded(1_000, 100);
      const limits = { rpmLimit: 10, tpmLimit: 5_000, maxBudgetMicros: 800 };
      const admitted = await store.admit(await admission(who, limits));
      expect(admitted).toMatchObject({ ok: true, reservedMicros: COST });
      const snapshot = await store.peek(who.userId, who.keyId, limits, Date.now());
      expect(snapshot).toMatchObject({
        accountAvailableMicros: 1_000 - COST,
        keyAvailableMicros: 800 - 100 - COST,
        rate: { rpmLimit: 10, rpmRemaining: 9, tpmLimit: 5_000, tpmRemaining: 5_000 - 200 },
      });
      if (!admitted.ok) throw new Error("unreachable");
      expect(snapshot?.rate.rpmRemaining).toBe(admitted.rate.rpmRemaining);
      expect(snapshot?.rate.tpmRemaining).toBe(admitted.rate.tpmRemaining);
      expect(snapshot?.rate.rpmResetMs).toBeGreaterThan(59_000);
      expect(await store.peek(who.userId, who.keyId, limits, Date.now())).toMatchObject({ rate: { rpmRemaining: 9 } });
      // A refusal reports the same money peek shows: the tighter of the two.
      const refused = await store.admit(await admission(who, { ...limits, requestedMaxTokens: 1_000 }));
      expect(refused).toMatchObject({
        ok: false,
        reason: "budget",
        availableMicros: Math.min(snapshot!.accountAvailableMicros, snapshot!.keyAvailableMicros!),
      });
    });
  });

  describe("leases: one request in flight per subscription key", () => {
    it("refuses another holder until the lease is released by its holder, and only by its holder", async () => {
      const { keyId } = ids();
      const rev = await revision();
      expect(await store.acquireLease(keyId, "A", Date.now(), 2_000, rev)).toMatchObject({ ok: true });
      const busy = await store.acquireLease(keyId, "B", Date.now(), 2_000, rev);
      expect(busy).toMatchObject({ ok: false });
      const retry = (busy as { retryAfterMs: number }).retryAfterMs;
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(2_000);
      // The holder may take it again (a retry of its own request).
      expect(await store.acquireLease(keyId, "A", Date.now(), 2_000, rev)).toMatchObject({ ok: true });
      expect(await store.renewLease(keyId, "B", Date.now(), 2_000)).toBe(false);
      await store.releaseLease(keyId, "B");
      expect(await store.acquireLease(keyId, "B", Date.now(), 2_000, rev)).toMatchObject({ ok: false });
      await store.releaseLease(keyId, "A");
      expect(await store.acquireLease(keyId, "B", Date.now(), 2_000, rev)).toMatchObject({ ok: true });
      await store.releaseLease(keyId, "B");
    });

    it("renewing keeps the lease past its first ttl; an unreleased lease frees itself after its ttl", async () => {
      const { keyId } = ids();
      const rev = await revision();
      expect(await store.acquireLease(keyId, "A", Date.now(), 200, rev)).toMatchObject({ ok: true });
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.renewLease(keyId, "A", Date.now(), 300)).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
      // 270 ms after acquiring with a 200 ms ttl: still held, thanks to the renewal.
      expect(await store.acquireLease(keyId, "B", Date.now(), 200, rev)).toMatchObject({ ok: false });
      // A never releases it (it crashed): it frees itself.
      await vi.waitFor(async () => expect(await store.acquireLease(keyId, "B", Date.now(), 200, rev)).toMatchObject({ ok: true }), {
        timeout: 2_000,
        interval: 25,
      });
    });
  });

  describe("equivalence with the memory store", () => {
    it("decides every admission of a random sequence of admits, settlements, releases and flushes as the memory store does, tpm included (property)", async () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant("admit" as const),
          prompt: fc.integer({ min: 1, max: 500 }),
          estimateShare: fc.double({ min: 0, max: 1, noNaN: true }),
          max: fc.option(fc.integer({ min: 1, max: 500 })),
        }),
        fc.record({
          kind: fc.constant("settle" as const),
          pick: fc.nat(),
          fraction: fc.double({ min: 0, max: 1, noNaN: true }),
          tokens: fc.integer({ min: 0, max: 1_500 }),
        }),
        fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
        fc.record({ kind: fc.constant("flush" as const) }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 50_000 }),
          fc.integer({ min: 0, max: 50_000 }),
          fc.integer({ min: 0, max: 5_000 }),
          fc.option(fc.integer({ min: 1, max: 2_000 })),
          fc.array(op, { maxLength: 40 }),
          async (balance, budget, spent, tpmLimit, ops) => {
            const memory = new MemoryLimitsStore();
            // Its own store: a backlog left by one run must not blur the next run's counterexample.
            const redisStore = new RedisLimitsStore();
            const { userId, keyId } = ids();
            for (const s of [memory, redisStore]) {
              expect(await s.seedAccount(userId, balance, await s.accountGeneration(userId))).toBe(true);
              expect(await s.seedKey(keyId, spent, await s.keyGeneration(keyId))).toBe(true);
            }
            const open: Array<{ id: string; micros: number }> = [];
            let settled = 0;
            let flushed = 0;
            for (const o of ops) {
              if (o.kind === "admit") {
                const promptTokensEstimate = Math.max(1, Math.floor(o.prompt * o.estimateShare));
                const a = await admission(
                  { userId, keyId },
                  {
                    promptTokens: o.prompt,
                    promptTokensEstimate,
                    requestedMaxTokens: o.max,
                    tpmLimit,
                    maxBudgetMicros: budget,
                    inputMicrosPerMTok: 50_000_000,
                    outputMicrosPerMTok: 50_000_000,
                  },
                );
                const [m, r] = [await memory.admit(a), await redisStore.admit(a)];
                // Times aside (Redis keeps its own clock), the decision, what it took and the tokens left must match.
                const decision = (x: AdmitResult) =>
                  x.ok
                    ? { ok: true, maxTokens: x.maxTokens, lowered: x.lowered, reservedMicros: x.reservedMicros, tpmRemaining: x.rate.tpmRemaining }
                    : x.reason === "stale" || x.reason === "unseeded"
                      ? x
                      : { ok: false, reason: x.reason, availableMicros: x.availableMicros, tpmRemaining: x.rate.tpmRemaining };
                expect(decision(r)).toEqual(decision(m));
                if (r.ok) open.push({ id: a.requestId, micros: r.reservedMicros });
              } else if (o.kind === "flush") {
                const batchId = `b-${randomUUID()}`;
                for (const s of [memory, redisStore]) await s.flushed(batchId, [{ userId, keyId, costMicros: settled - flushed }]);
                flushed = settled;
              } else if (open.length) {
                const [r] = open.splice(o.pick % open.length, 1);
                if (o.kind === "settle") {
                  const cost = Math.floor(r.micros * o.fraction);
                  for (const s of [memory, redisStore]) await s.settle(r.id, { costMicros: cost, tokens: o.tokens });
                  settled += cost;
                } else for (const s of [memory, redisStore]) await s.release(r.id);
              }
              expect(await redisStore.pending(userId)).toEqual(await memory.pending(userId));
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  // Last: it stops the server, and the one it starts again is empty.
  describe("fail closed, recover by itself", () => {
    it("refuses admissions fast while Redis is down, keeps settlements in a backlog, and recovers when Redis is back (empty)", async () => {
      const who = await seeded(10_000);
      const a = await admission(who);
      expect(await store.admit(a)).toMatchObject({ ok: true });

      await server.stop();
      const started = Date.now();
      await expect(store.admit(await admission(who, { revision: 0 }))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_500);
      await expect(store.peek(who.userId, who.keyId, { rpmLimit: null, tpmLimit: null, maxBudgetMicros: null }, Date.now())).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );

      // A settlement must not be lost, nor fail the request that reports it.
      await expect(store.settle(a.requestId, { costMicros: 150, tokens: 0 })).resolves.toBeUndefined();
      await expect(store.credit(who.userId, 500)).resolves.toBeUndefined();
      expect(store.backlogSize()).toBeGreaterThanOrEqual(2);

      await server.start();
      await vi.waitFor(() => expect(store.backlogSize()).toBe(0), { timeout: 10_000, interval: 100 });

      // The new Redis has nothing: the store asks to be seeded again, then decides as before.
      const rev = await vi.waitFor(() => revision(), { timeout: 5_000, interval: 100 });
      expect(rev).toBe(0);
      expect(await store.admit(await admission(who))).toEqual({ ok: false, reason: "unseeded", account: true, key: true });
      expect(await store.seedAccount(who.userId, 10_000, await store.accountGeneration(who.userId))).toBe(true);
      expect(await store.seedKey(who.keyId, 0, await store.keyGeneration(who.keyId))).toBe(true);
      expect(await store.admit(await admission(who))).toMatchObject({ ok: true, reservedMicros: COST });
    });
  });
});
