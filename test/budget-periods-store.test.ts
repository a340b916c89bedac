import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, closeRedis } from "@/lib/cluster/redis";
import { costMicros, MemoryLimitsStore, type Admission, type LimitsStore } from "@/lib/limits";
import { budgetPeriodEnd, budgetPeriodStart } from "@/lib/limits/periods";
import { RedisLimitsStore, redisForTests } from "@/lib/limits/redis";
import { setEnv } from "@/test/gateway";
import { redisServerAvailable, startRedis, type TestRedis } from "@/test/redis-server";
import { ADMISSION_DEFAULTS } from "./admission";

/**
 * Budget periods in the limits store, with a fake clock (the admission's
 * period start is computed from a chosen time, as the gateway computes it
 * from now): spend is kept per (key, period start), so a new period starts
 * from zero with no job at midnight, maxBudget holds per period exactly under
 * concurrency, and a request admitted in one period is charged to it when it
 * settles in the next. The same promises in memory and in Redis, where two
 * store instances (two gateway processes) share one Redis.
 */

const skipRedis = !redisServerAvailable() && process.env.CI !== "true";
if (skipRedis) console.warn("[test] test/budget-periods-store.test.ts: Redis cases skipped: no redis-server on PATH. CI runs them.");

/** The default admission's worst case: 100 prompt + 100 output tokens at $1/MTok each. */
const COST = costMicros(100, 100, 1_000_000, 1_000_000);

/** Monday 7 December 2026, 23:59:59.999 UTC, and the next midnight (a Tuesday). */
const BEFORE_MIDNIGHT = Date.UTC(2026, 11, 7, 23, 59, 59, 999);
const AFTER_MIDNIGHT = Date.UTC(2026, 11, 8);
const DAY_1 = { start: budgetPeriodStart("day", BEFORE_MIDNIGHT), end: budgetPeriodEnd("day", BEFORE_MIDNIGHT)! };
const DAY_2 = { start: budgetPeriodStart("day", AFTER_MIDNIGHT), end: budgetPeriodEnd("day", AFTER_MIDNIGHT)! };

interface Stores {
  name: string;
  /** Two instances over the same figures: one store in memory (one process), two RedisLimitsStore on one Redis. */
  pair(): [LimitsStore, LimitsStore];
  revision(): Promise<number>;
}

const memory: Stores = {
  name: "memory",
  pair() {
    const s = new MemoryLimitsStore();
    return [s, s];
  },
  revision: async () => 0,
};

const redisStores: Stores = {
  name: "Redis, two instances",
  pair: () => [new RedisLimitsStore(), new RedisLimitsStore()],
  revision: async () => Number((await call((c) => c.get("kg:rev"))) ?? 0),
};

let server: TestRedis | undefined;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
  if (skipRedis) return;
  server = await startRedis();
  restoreEnv = setEnv({ REDIS_URL: server.url });
});

afterAll(async () => {
  if (!skipRedis) await closeRedis();
  restoreEnv?.();
  await server?.close();
});

for (const stores of [memory, redisStores]) {
  describe.skipIf(stores === redisStores && skipRedis)(`budget periods in the limits store (${stores.name})`, () => {
    function ids() {
      return { userId: `u-${randomUUID()}`, keyId: `k-${randomUUID()}` };
    }

    async function seeded(s: LimitsStore, who: { userId: string; keyId: string }, period: { start: number; end: number }, spent = 0) {
      expect(await s.seedAccount(who.userId, 1e12, await s.accountGeneration(who.userId))).toBe(true);
      expect(await s.seedKey(who.keyId, spent, await s.keyGeneration(who.keyId), period)).toBe(true);
    }

    async function admission(who: { userId: string; keyId: string }, at: number, periodStart: number, overrides: Partial<Admission> = {}): Promise<Admission> {
      return { revision: await stores.revision(), requestId: `r-${randomUUID()}`, now: at, ...ADMISSION_DEFAULTS, ...who, periodStart, ...overrides };
    }

    it("a new period starts from zero at the boundary, with nothing run at midnight: its spend is unseeded until seeded, and the old period's is kept apart", async () => {
      const [s] = stores.pair();
      const who = ids();
      await seeded(s, who, DAY_1);
      const budget = { maxBudgetMicros: 3 * COST };
      for (let i = 0; i < 3; i++) {
        const a = await admission(who, BEFORE_MIDNIGHT, DAY_1.start, budget);
        expect(await s.admit(a)).toMatchObject({ ok: true });
        await s.settle(a.requestId, { costMicros: COST, tokens: 200 });
      }
      expect(await s.admit(await admission(who, BEFORE_MIDNIGHT, DAY_1.start, budget))).toMatchObject({ ok: false, reason: "budget", availableMicros: 0 });
      // One millisecond later, the next day: its own figures, which the gateway seeds from the database (nothing written yet: 0).
      expect(await s.admit(await admission(who, AFTER_MIDNIGHT, DAY_2.start, budget))).toEqual({ ok: false, reason: "unseeded", account: false, key: true });
      expect(await s.seedKey(who.keyId, 0, await s.keyGeneration(who.keyId), DAY_2)).toBe(true);
      expect(await s.admit(await admission(who, AFTER_MIDNIGHT, DAY_2.start, budget))).toMatchObject({ ok: true, reservedMicros: COST });
      // The first day is still full: what a late admission with the old period start would be told.
      expect(await s.peek(who.userId, who.keyId, { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_1.start }, BEFORE_MIDNIGHT)).toMatchObject({
        keyAvailableMicros: 0,
      });
      expect(await s.peek(who.userId, who.keyId, { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_2.start }, AFTER_MIDNIGHT)).toMatchObject({
        keyAvailableMicros: 2 * COST,
      });
    });

    it("maxBudget holds per period exactly under concurrency: of 40 simultaneous admissions across two instances, exactly the 7 that fit are admitted", async () => {
      const [a, b] = stores.pair();
      const who = ids();
      await seeded(a, who, DAY_2, COST / 2);
      // 7.5 reservations fit beside the half already spent: 7 whole.
      const budget = { maxBudgetMicros: 8 * COST };
      const list = await Promise.all(Array.from({ length: 40 }, () => admission(who, AFTER_MIDNIGHT, DAY_2.start, budget)));
      const results = await Promise.all(list.map((x, i) => (i % 2 ? a : b).admit(x)));
      expect(results.filter((r) => r.ok)).toHaveLength(7);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "budget")).toBe(true);
    });

    it("a request admitted before midnight and settled after is charged to the earlier period, and its flush moves that period's money, not the new one's", async () => {
      const [a, b] = stores.pair();
      const who = ids();
      await seeded(a, who, DAY_1);
      const budget = { maxBudgetMicros: 4 * COST };
      const late = await admission(who, BEFORE_MIDNIGHT, DAY_1.start, budget);
      expect(await a.admit(late)).toMatchObject({ ok: true });
      // Midnight passes while it streams: the new day has its whole budget, the reservation in flight is not in it.
      expect(await b.seedKey(who.keyId, 0, await b.keyGeneration(who.keyId), DAY_2)).toBe(true);
      const fresh = await Promise.all(Array.from({ length: 4 }, () => admission(who, AFTER_MIDNIGHT, DAY_2.start, budget)));
      for (const x of fresh) expect(await b.admit(x)).toMatchObject({ ok: true });
      expect(await b.admit(await admission(who, AFTER_MIDNIGHT, DAY_2.start, budget))).toMatchObject({ ok: false, reason: "budget" });
      // It settles after midnight (on the instance that admitted it).
      await a.settle(late.requestId, { costMicros: COST, tokens: 200 });
      const day1 = { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_1.start };
      const day2 = { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_2.start };
      expect(await b.peek(who.userId, who.keyId, day1, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 3 * COST });
      expect(await b.peek(who.userId, who.keyId, day2, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 0 });
      // Its record written: the cost leaves the first day's unflushed for its settled spend; the second day is untouched.
      await b.flushed(`b-${randomUUID()}`, [{ userId: who.userId, keyId: who.keyId, costMicros: COST, periodStart: DAY_1.start }]);
      expect(await b.peek(who.userId, who.keyId, day1, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 3 * COST });
      for (const x of fresh) await b.release(x.requestId);
      expect(await b.peek(who.userId, who.keyId, day2, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 4 * COST });
    });

    it("the usage writer's acknowledgement moves a late record's cost into the period it was admitted in, once", async () => {
      const [a, b] = stores.pair();
      const who = ids();
      await seeded(a, who, DAY_1);
      expect(await b.seedKey(who.keyId, 0, await b.keyGeneration(who.keyId), DAY_2)).toBe(true);
      const budget = { maxBudgetMicros: 2 * COST };
      const late = await admission(who, BEFORE_MIDNIGHT, DAY_1.start, budget);
      expect(await a.admit(late)).toMatchObject({ ok: true });
      const record = `rec-${randomUUID()}`;
      await a.settle(late.requestId, { costMicros: COST, tokens: 200 }, record);
      // The writer (another instance) takes the record and acknowledges it with the period from the record, twice.
      const consumer = `w-${randomUUID()}`;
      const taken = (await b.takeUsage(consumer, 1000)).filter((e) => e.record === record);
      expect(taken).toHaveLength(1);
      const written = taken.map((e) => ({ id: e.id, userId: who.userId, keyId: who.keyId, costMicros: COST, periodStart: DAY_1.start }));
      await b.ackUsage(written);
      await b.ackUsage(written);
      const day1 = { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_1.start };
      const day2 = { rpmLimit: null, tpmLimit: null, ...budget, periodStart: DAY_2.start };
      expect(await a.peek(who.userId, who.keyId, day1, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: COST });
      expect(await a.peek(who.userId, who.keyId, day2, AFTER_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 2 * COST });
      // And the account paid once.
      expect(await a.peek(who.userId, who.keyId, day2, AFTER_MIDNIGHT)).toMatchObject({ accountAvailableMicros: 1e12 - COST });
    });

    it("a lifetime budget (no period) keeps its own figures, apart from any period's: switching between them never mixes the two", async () => {
      const [s] = stores.pair();
      const who = ids();
      await seeded(s, who, DAY_1, 0);
      expect(await s.admit(await admission(who, BEFORE_MIDNIGHT, 0, { maxBudgetMicros: COST }))).toEqual({
        ok: false,
        reason: "unseeded",
        account: false,
        key: true,
      });
      expect(await s.seedKey(who.keyId, 5 * COST, await s.keyGeneration(who.keyId))).toBe(true);
      expect(await s.admit(await admission(who, BEFORE_MIDNIGHT, 0, { maxBudgetMicros: 6 * COST }))).toMatchObject({ ok: true });
      expect(await s.admit(await admission(who, BEFORE_MIDNIGHT, 0, { maxBudgetMicros: 6 * COST }))).toMatchObject({ ok: false, reason: "budget" });
      const inPeriod = await admission(who, BEFORE_MIDNIGHT, DAY_1.start, { maxBudgetMicros: 6 * COST });
      expect(await s.admit(inPeriod)).toMatchObject({ ok: true });
      // Spent in the period, it is spent in the key's lifetime too: from its settlement on, and still once written.
      await s.settle(inPeriod.requestId, { costMicros: COST, tokens: 200 });
      const lifetime = { rpmLimit: null, tpmLimit: null, maxBudgetMicros: 10 * COST, periodStart: 0 };
      expect(await s.peek(who.userId, who.keyId, lifetime, BEFORE_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 10 * COST - 5 * COST - COST - COST });
      await s.flushed(`b-${randomUUID()}`, [{ ...who, costMicros: COST, periodStart: DAY_1.start }]);
      expect(await s.peek(who.userId, who.keyId, lifetime, BEFORE_MIDNIGHT)).toMatchObject({ keyAvailableMicros: 10 * COST - 5 * COST - COST - COST });
    });

    it("seeding a period is refused when a flush overtook the database read (the generation moved), as for lifetime spend", async () => {
      const [s] = stores.pair();
      const who = ids();
      const generation = await s.keyGeneration(who.keyId);
      await s.flushed(`b-${randomUUID()}`, [{ userId: who.userId, keyId: who.keyId, costMicros: 300, periodStart: DAY_1.start }]);
      expect(await s.seedKey(who.keyId, 0, generation, DAY_1)).toBe(false);
      expect(await s.seedKey(who.keyId, 300, await s.keyGeneration(who.keyId), DAY_1)).toBe(true);
    });

    if (stores === redisStores) {
      it("a period's figures in Redis expire by themselves a day after the period ends (no job deletes them)", async () => {
        const [s] = stores.pair();
        const who = ids();
        await seeded(s, who, DAY_1);
        const expireAt = await redisForTests().pexpiretime(`kg:k:${who.keyId}:p:${DAY_1.start}`);
        expect(expireAt).toBe(DAY_1.end + 86_400_000);
        // A lifetime budget's figures never expire.
        expect(await s.seedKey(who.keyId, 0, await s.keyGeneration(who.keyId))).toBe(true);
        expect(await redisForTests().pttl(`kg:k:${who.keyId}`)).toBe(-1);
      });
    }
  });
}
