import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, closeRedis } from "@/lib/cluster/redis";
import { MemoryLimitsStore, type LimitsStore } from "@/lib/limits";
import type { OutboxEntry } from "@/lib/limits/store";
import { RedisLimitsStore } from "@/lib/limits/redis";
import { setEnv } from "@/test/gateway";
import { redisServerAvailable, startRedis, type TestRedis } from "@/test/redis-server";
import { ADMISSION_DEFAULTS } from "./admission";

/**
 * The usage outbox of both limits stores, as a property: whatever the order
 * of admissions, settlements (with their records), releases, writers taking,
 * writing, acknowledging and claiming records, and writers crashing (losing
 * what they held in memory, mid-write included), the money the store admits
 * by is always the database's balance minus what is settled and unwritten
 * minus what is in flight, and once every record is written, each was
 * written once and the store's available money is the database's balance
 * minus what is still in flight. The "database" is a model: a set of record
 * ids (an insert skips an id already there, as writer.ts's ON CONFLICT does)
 * and a balance debited by the rows inserted.
 */

const BALANCE = 1_000_000;
/** An admission's worst case with ADMISSION_DEFAULTS: 100 prompt + 100 output tokens at $1/M each way. */
const RESERVED = 200;

type Op =
  | { t: "admit" }
  | { t: "settle"; pick: number; cost: number }
  | { t: "release"; pick: number }
  | { t: "free" }
  | { t: "take" | "write" | "ack" | "crash" | "claim"; c: number };

const WRITERS = 3;
const writer = fc.integer({ min: 0, max: WRITERS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ t: "admit" as const }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant("settle" as const), pick: fc.nat(), cost: fc.integer({ min: 0, max: RESERVED }) }), weight: 3 },
  fc.record({ t: fc.constant("release" as const), pick: fc.nat() }),
  fc.constant({ t: "free" as const }),
  ...(["take", "write", "ack", "crash", "claim"] as const).map((t) => fc.record({ t: fc.constant(t), c: writer })),
);

interface Writer {
  name: string;
  /** What it took or claimed and has not written yet. */
  holding: OutboxEntry[];
  /** Written to the database, not yet acknowledged. */
  written: OutboxEntry[];
}

async function run(store: LimitsStore, ops: Op[]): Promise<void> {
  const userId = `u-${randomUUID()}`;
  const keyId = `k-${randomUUID()}`;
  expect(await store.seedAccount(userId, BALANCE, await store.accountGeneration(userId))).toBe(true);
  expect(await store.seedKey(keyId, 0, await store.keyGeneration(keyId))).toBe(true);
  const revision = store.shared ? Number((await call((c) => c.get("kg:rev"))) ?? 0) : 0;
  const writers: Writer[] = Array.from({ length: WRITERS }, (_, i) => ({ name: `w${i}-${randomUUID()}`, holding: [], written: [] }));
  const inFlight = new Map<string, number>();
  const settled = new Map<string, number>();
  const db = { ids: new Set<string>(), balance: BALANCE };
  const costOf = (e: OutboxEntry) => (JSON.parse(e.record) as { cost: number }).cost;
  const idOf = (e: OutboxEntry) => (JSON.parse(e.record) as { id: string }).id;
  const write = (w: Writer) => {
    for (const e of w.holding) {
      if (db.ids.has(idOf(e))) continue;
      db.ids.add(idOf(e));
      db.balance -= costOf(e);
    }
    w.written.push(...w.holding);
    w.holding = [];
  };
  const ack = async (w: Writer) => {
    await store.ackUsage(w.written.map((e) => ({ id: e.id, userId, keyId, costMicros: costOf(e) })));
    w.written = [];
  };
  const settledUnwritten = () => [...settled].filter(([id]) => !db.ids.has(id)).reduce((n, [, cost]) => n + cost, 0);
  const reservedNow = () => [...inFlight.values()].reduce((n, m) => n + m, 0);
  const available = async () =>
    (await store.peek(userId, keyId, { rpmLimit: null, tpmLimit: null, maxBudgetMicros: null }, Date.now()))!.accountAvailableMicros;

  for (const o of ops) {
    const ids = [...inFlight.keys()];
    switch (o.t) {
      case "admit": {
        const requestId = `r-${randomUUID()}`;
        const r = await store.admit({ ...ADMISSION_DEFAULTS, revision, requestId, userId, keyId, now: Date.now() });
        expect(r.ok).toBe(true);
        inFlight.set(requestId, RESERVED);
        break;
      }
      case "settle":
      case "release": {
        if (!ids.length) break;
        const id = ids[o.pick % ids.length];
        inFlight.delete(id);
        if (o.t === "release") {
          await store.release(id);
        } else {
          settled.set(id, o.cost);
          await store.settle(id, { costMicros: o.cost, tokens: 0 }, JSON.stringify({ id, cost: o.cost }));
        }
        break;
      }
      case "free": {
        // A subscription key's record: no reservation, no cost.
        const id = `s-${randomUUID()}`;
        settled.set(id, 0);
        await store.record(id, JSON.stringify({ id, cost: 0 }));
        break;
      }
      case "take": {
        // Its own unacknowledged entries come back first: it may hold some already (taking again is what a retry does).
        const w = writers[o.c];
        const taken = await store.takeUsage(w.name, 5);
        const held = new Set(w.holding.map((e) => e.id));
        w.holding.push(...taken.filter((e) => !held.has(e.id)));
        break;
      }
      case "write":
        write(writers[o.c]);
        break;
      case "ack":
        await ack(writers[o.c]);
        break;
      case "crash":
        // The process died: what it held in memory is gone (written or not); the store still has it as unacknowledged.
        writers[o.c].holding = [];
        writers[o.c].written = [];
        break;
      case "claim": {
        const w = writers[o.c];
        const held = new Set(w.holding.map((e) => e.id));
        w.holding.push(...(await store.claimUsage(w.name, 0, 5)).filter((e) => !held.has(e.id)));
        break;
      }
    }
    // At every step: balance − settled − in flight, whatever was written or acknowledged so far.
    expect(await available()).toBe(db.balance - settledUnwritten() - reservedNow());
  }

  // Every writer finishes what it holds, then one takes and claims the rest.
  for (const w of writers) {
    write(w);
    await ack(w);
  }
  const last = writers[0];
  for (let round = 0; round < 1_000; round++) {
    last.holding.push(...(await store.takeUsage(last.name, 50)), ...(await store.claimUsage(last.name, 0, 50)));
    if (!last.holding.length) break;
    write(last);
    await ack(last);
  }
  expect((await store.usageBacklog()).waiting).toBe(0);
  expect([...db.ids].sort()).toEqual([...settled.keys()].sort());
  const spent = [...settled.values()].reduce((n, c) => n + c, 0);
  expect(db.balance).toBe(BALANCE - spent);
  expect(await store.pending(userId)).toEqual({ unflushedMicros: 0, reservedMicros: reservedNow() });
  expect(await available()).toBe(db.balance - reservedNow());
}

/**
 * A writer whose write failed takes its entries again; the same take also
 * gives it what arrived since, up to the count, so the round that retries
 * writes everything waiting (it used to stop at the retried entries).
 */
async function retriedThenNew(store: LimitsStore): Promise<void> {
  const userId = `u-${randomUUID()}`;
  const keyId = `k-${randomUUID()}`;
  expect(await store.seedAccount(userId, BALANCE, await store.accountGeneration(userId))).toBe(true);
  expect(await store.seedKey(keyId, 0, await store.keyGeneration(keyId))).toBe(true);
  const revision = store.shared ? Number((await call((c) => c.get("kg:rev"))) ?? 0) : 0;
  const settle = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const requestId = `r-${randomUUID()}`;
      expect((await store.admit({ ...ADMISSION_DEFAULTS, revision, requestId, userId, keyId, now: Date.now() })).ok).toBe(true);
      await store.settle(requestId, { costMicros: 1, tokens: 0 }, JSON.stringify({ id: requestId, cost: 1 }));
      ids.push(requestId);
    }
    return ids;
  };
  const recordIds = (entries: OutboxEntry[]) => entries.map((e) => (JSON.parse(e.record) as { id: string }).id);
  const consumer = `w-${randomUUID()}`;
  const first = await settle(3);
  expect(recordIds(await store.takeUsage(consumer, 10))).toEqual(first);
  // Its write failed: nothing acknowledged. Two more arrive.
  const later = await settle(2);
  expect(recordIds(await store.takeUsage(consumer, 4))).toEqual([...first, later[0]]);
  expect(recordIds(await store.takeUsage(consumer, 10))).toEqual([...first, ...later]);
  expect(recordIds(await store.takeUsage(consumer, 2))).toEqual(first.slice(0, 2));
  // Written at last: nothing is left for the next test's writers.
  const all = await store.takeUsage(consumer, 10);
  await store.ackUsage(all.map((e) => ({ id: e.id, userId, keyId, costMicros: 1 })));
  expect(await store.pending(userId)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
}

describe("the usage outbox (property)", () => {
  it("in memory: any interleaving of settling, writing, acknowledging, claiming and crashing writes each record once and keeps available = balance − in flight", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), (ops) => run(new MemoryLimitsStore(), ops)),
      { numRuns: 300 },
    );
    // 300 runs of up to 60 steps: the limit is for a hang, not a speed target (a busy 2-core machine takes its time).
  }, 120_000);

  it("in memory: the take that retries a failed write also gives the records that arrived since", () => retriedThenNew(new MemoryLimitsStore()));

  const noRedis = !redisServerAvailable() && process.env.CI !== "true";
  describe.skipIf(noRedis)("in Redis", () => {
    let server: TestRedis;
    let restoreEnv: () => void;
    beforeAll(async () => {
      server = await startRedis();
      restoreEnv = setEnv({ REDIS_URL: server.url });
    });
    afterAll(async () => {
      await closeRedis();
      restoreEnv?.();
      await server?.close();
    });

    it("a writer's first claim on a fresh Redis, before any record made the stream, finds nothing instead of failing", async () => {
      // No stream yet (as on a Redis that was just started or lost its data).
      await call((c) => c.del(process.env.KEYGATE_USAGE_STREAM!));
      const store = new RedisLimitsStore();
      // The first claim also prunes the group's consumers (XINFO CONSUMERS), which fails on a stream that does not exist yet.
      expect(await store.claimUsage("w-fresh", 0, 5)).toEqual([]);
      expect(await store.takeUsage("w-fresh", 5)).toEqual([]);
    });

    it("the take that retries a failed write also gives the records that arrived since", () => retriedThenNew(new RedisLimitsStore()));

    it("the same, with the stream and its consumer group", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), (ops) => run(new RedisLimitsStore(), ops)),
        { numRuns: 60 },
      );
    }, 120_000);
  });
});
