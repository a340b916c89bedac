import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type Redis from "ioredis";
import { call, isStoreUnavailable, redis } from "@/lib/cluster/redis";
import { env } from "@/lib/env";
import {
  rateState,
  WINDOW_MS,
  type Admission,
  type AdmitResult,
  type Cooling,
  type FlushedEntry,
  type HoldResult,
  type KeyLimits,
  type KeyPeriod,
  type KeySnapshot,
  type LeaseResult,
  type LimitsStore,
  type OutboxBacklog,
  type OutboxEntry,
  type RateState,
  type RefusalReason,
  type Settlement,
  type WrittenEntry,
} from "@/lib/limits/store";
import { redact } from "@/lib/log";
import { logger } from "@/lib/ops/logger";

/**
 * The limits store in Redis, for several instances: the same figures and the
 * same rules as MemoryLimitsStore, each operation one Lua script (Redis runs a
 * script whole, with nothing in between), so no decision is a
 * check-then-increment across round trips. The scripts are the .lua files in
 * ./scripts, read once, when the first store is made.
 *
 * Layout (one Redis, not Redis Cluster: scripts name keys they compute):
 *   kg:a:<user>        hash balance, unflushed, reserved
 *   kg:ag:<user>       the account's generation (bumped by credits and flushes)
 *   kg:k:<key>         hash spent, unflushed, reserved (a lifetime budget's money), tsum (the window's)
 *   kg:k:<key>:p:<ms>  hash spent, unflushed, reserved of the budget period starting at <ms> (lib/limits/periods.ts):
 *                      a new period is a new hash, so nothing resets at midnight; it expires a day after its period
 *   kg:kg:<key>        the key's generation (bumped by flushes)
 *   kg:k:<key>:rpm     sorted set: admissions in the window, scored by time
 *   kg:k:<key>:tpm     sorted set: token holds in the window, scored by time
 *   kg:k:<key>:tpmv    hash: each hold's tokens
 *   kg:r:<request>     hash: a reservation (user, key, micros, tokens held)
 *   kg:rs:<request>    a swept reservation's owner, so a late settle still counts its cost once (a day)
 *   kg:res             sorted set: reservations by expiry, for the sweep
 *   kg:l:<key>         a subscription key's lease (holder, with a TTL)
 *   kg:cool            sorted set: upstreams cooling down, scored by when each cooldown ends
 *   kg:usage           stream: usage records not yet in the database, one entry (field r: the record) per
 *                      settled request, added by the script that settles it; consumer group "writers", one
 *                      consumer per process (lib/usage/writer.ts). An entry is deleted when its first
 *                      acknowledgement moves its cost out of unflushed (acked.lua), so XLEN is what waits.
 *   kg:fl:<batch>      a flushed batch, so a retried flush applies once (flushed(): not used by the writer)
 *   kg:rev, kg:inval   cache coherence (lib/cluster/coherence.ts)
 *
 * Time comes from Redis (TIME) in every script that keeps a window or an
 * expiry, so instances with drifting clocks still share one window.
 *
 * An operation that must happen eventually (settle, release, flushed, credit)
 * and finds Redis down is retried every second until it applies; the
 * reservation it would end is still held meanwhile, which errs on refusing.
 */

/** How long a settlement waits for an admission to ride along with. */
const FINISH_DELAY_MS = 5;
/** Settlements one admission carries at most. */
const MAX_RIDING = 500;
/** The arguments of one settlement: request id, cost (-1: release), tokens, usage record ('': none). */
const FINISH_ARGS = 4;
/** The usage stream's consumer group (see the layout above); the stream is usageStream(). */
const USAGE_GROUP = "writers";
/** How often (in claim rounds: about a second each) the group's dead consumers are looked for, and how idle a dead one is. */
const CONSUMER_PRUNE_EVERY = 300;
const CONSUMER_IDLE_MS = 3_600_000;

/** kg:usage, unless KEYGATE_USAGE_STREAM names another (tests: one per file, on a shared Redis). */
function usageStream(): string {
  return env().KEYGATE_USAGE_STREAM;
}

/**
 * The scripts, by the command name ioredis gives each: its file in ./scripts,
 * and whether it uses prelude.lua's helpers (put in front of it at load).
 */
const SCRIPTS = {
  kgAdmit: { file: "admit.lua", prelude: true },
  kgFinish: { file: "finish.lua", prelude: true },
  kgHold: { file: "hold.lua", prelude: true },
  kgRenew: { file: "renew.lua", prelude: true },
  kgSweep: { file: "sweep.lua", prelude: true },
  kgPeek: { file: "peek.lua", prelude: true },
  kgCredit: { file: "credit.lua", prelude: false },
  kgFlushed: { file: "flushed.lua", prelude: false },
  kgAcked: { file: "acked.lua", prelude: true },
  kgSeed: { file: "seed.lua", prelude: false },
  kgAcquire: { file: "acquire.lua", prelude: true },
  kgCool: { file: "cool.lua", prelude: true },
  kgCooling: { file: "cooling.lua", prelude: true },
  kgLeaseOwned: { file: "lease-owned.lua", prelude: false },
} as const;
type ScriptName = keyof typeof SCRIPTS;

/**
 * Where the scripts are: found from the working directory, which is the
 * repository root wherever this code runs (server.ts and the tests under tsx,
 * their child processes, vitest, and Next's bundled route handlers, where
 * __dirname and import.meta.url point into .next/). The image runs from /app,
 * and deploy/Dockerfile copies lib/ whole (`COPY lib ./lib`), scripts included.
 */
const SCRIPTS_DIR = path.join(process.cwd(), "lib", "limits", "scripts");

let sources: Record<ScriptName, string> | null = null;

/** Reads the scripts once, with the shared constant and helpers in front of those that use them. */
function scriptSources(): Record<ScriptName, string> {
  if (sources) return sources;
  if (!existsSync(path.join(SCRIPTS_DIR, "prelude.lua"))) {
    throw new Error(
      `The Redis limits store's Lua scripts are not in ${SCRIPTS_DIR}: start Keygate from its repository root (the folder holding lib/limits/scripts/).`,
    );
  }
  const read = (file: string) => readFileSync(path.join(SCRIPTS_DIR, file), "utf8");
  // WINDOW_MS comes from store.ts, so the two stores' windows cannot drift apart.
  // The stream's name is checked by env.ts to be a plain [A-Za-z0-9:_.-] word, safe inside a Lua string.
  const prelude = `local WINDOW_MS = ${WINDOW_MS}\nlocal USAGE = '${usageStream()}'\n${read("prelude.lua")}\n`;
  const loaded = {} as Record<ScriptName, string>;
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    loaded[name] = (SCRIPTS[name].prelude ? prelude : "") + read(SCRIPTS[name].file);
  }
  sources = loaded;
  return loaded;
}

type Reply = Array<string | number>;

const defined = new WeakSet<Redis>();

/** Runs a script by its SHA (ioredis loads it on NOSCRIPT). */
function run(name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
  return call((client) => {
    if (!defined.has(client)) {
      for (const [n, lua] of Object.entries(scriptSources())) client.defineCommand(n, { lua });
      defined.add(client);
    }
    const fn = (client as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name];
    return fn.call(client, keys.length, ...keys, ...args);
  });
}

function rateFrom(reply: Reply, at: number, rpmLimit: number | null, tpmLimit: number | null): RateState {
  // reply[at..]: rpm count, rpm oldest, token sum, tpm count, tpm oldest, now
  const [requests, oldestRequestAt, tokenSum, holds, oldestHoldAt, now] = reply.slice(at, at + 6).map(Number);
  return rateState({ requests, oldestRequestAt, tokenSum, holds, oldestHoldAt }, rpmLimit, tpmLimit, now);
}

const orNone = (v: number | null) => (v === null ? -1 : v);

/** How long a budget period's hash stays after the period ends. */
const PERIOD_GRACE_MS = 86_400_000;

/** The hash of a key's money: its lifetime's, or one budget period's (money_key in scripts/prelude.lua). */
function moneyKey(keyId: string, periodStart: number): string {
  return periodStart ? `kg:k:${keyId}:p:${periodStart}` : `kg:k:${keyId}`;
}

const NONE_COOLING: Cooling = new Map();

/** The cooling upstreams at the end of a reply, from index `at`: name, milliseconds left, … */
function coolingFrom(reply: Reply, at: number): Cooling {
  if (reply.length <= at) return NONE_COOLING;
  const cooling = new Map<string, number>();
  for (let i = at; i + 1 < reply.length; i += 2) cooling.set(String(reply[i]), Number(reply[i + 1]));
  return cooling;
}

export class RedisLimitsStore implements LimitsStore {
  readonly shared = true;
  /** Must-apply operations Redis did not take, in order; retried every second. */
  private backlog: Array<() => Promise<unknown>> = [];
  private backlogTimer: NodeJS.Timeout | null = null;

  constructor() {
    // Now, not at the first request: a missing scripts folder stops the start with a clear error.
    scriptSources();
  }

  async accountGeneration(userId: string): Promise<number> {
    return Number((await call((c) => c.get(`kg:ag:${userId}`))) ?? 0);
  }

  async seedAccount(userId: string, balanceMicros: number, generation: number): Promise<boolean> {
    return Number(await run("kgSeed", [`kg:a:${userId}`, `kg:ag:${userId}`], [generation, 0, "balance", balanceMicros, "unflushed", 0, "reserved", 0])) === 1;
  }

  async keyGeneration(keyId: string): Promise<number> {
    return Number((await call((c) => c.get(`kg:kg:${keyId}`))) ?? 0);
  }

  async seedKey(keyId: string, spentMicros: number, generation: number, period?: KeyPeriod): Promise<boolean> {
    // A period's hash outlives its period by a day (settlements of requests admitted in it still land there), then goes.
    const expireAt = period ? period.end + PERIOD_GRACE_MS : 0;
    const hash = moneyKey(keyId, period?.start ?? 0);
    return Number(await run("kgSeed", [hash, `kg:kg:${keyId}`], [generation, expireAt, "spent", spentMicros, "unflushed", 0, "reserved", 0])) === 1;
  }

  async admit(a: Admission): Promise<AdmitResult> {
    const { args: riding, sent } = this.takeFinishes();
    let reply: Reply;
    try {
      reply = (await run(
        "kgAdmit",
        [],
        [
          a.revision,
          a.requestId,
          a.userId,
          a.keyId,
          a.ttlMs,
          orNone(a.rpmLimit),
          orNone(a.tpmLimit),
          orNone(a.maxBudgetMicros),
          a.promptTokens,
          a.promptTokensEstimate,
          a.inputMicrosPerMTok,
          a.outputMicrosPerMTok,
          orNone(a.requestedMaxTokens),
          a.modelMaxTokens,
          a.periodStart ?? 0,
          ...riding,
        ],
      )) as Reply;
    } catch (err) {
      // The settlements that rode along must still happen.
      if (riding.length) void this.mustApply(() => run("kgFinish", [], riding)).then(sent);
      else sent();
      throw err;
    }
    sent();
    switch (reply[0]) {
      case "stale":
        return { ok: false, reason: "stale", revision: Number(reply[1]) };
      case "unseeded":
        return { ok: false, reason: "unseeded", account: reply[1] === 1, key: reply[2] === 1 };
      case "refuse": {
        const retry = Number(reply[2]);
        return {
          ok: false,
          reason: reply[1] as RefusalReason,
          retryAfterMs: retry < 0 ? null : Math.max(0, retry),
          availableMicros: Number(reply[3]),
          rate: rateFrom(reply, 4, a.rpmLimit, a.tpmLimit),
        };
      }
      default:
        this.open++;
        return {
          ok: true,
          maxTokens: Number(reply[1]),
          lowered: reply[2] === 1,
          reservedMicros: Number(reply[3]),
          rate: rateFrom(reply, 4, a.rpmLimit, a.tpmLimit),
          cooling: coolingFrom(reply, 10),
        };
    }
  }

  /**
   * Settlements wait a moment (FINISH_DELAY_MS) for the next admission to
   * carry them, so a request costs one Redis round trip, not two; under load
   * many ride together. Meanwhile the money stays reserved, which errs on
   * refusing. Anything that reads or moves settled figures (flushed, credit,
   * peek, pending) sends them first, so the order of money moves is kept.
   */
  async hold(userId: string, holdId: string, micros: number, _now: number, ttlMs: number): Promise<HoldResult> {
    await this.sendFinishes();
    const reply = (await run("kgHold", [], [userId, holdId, micros, ttlMs])) as Reply;
    if (reply[0] === "unseeded") return { ok: false, reason: "unseeded" };
    if (reply[0] === "short") return { ok: false, reason: "short", availableMicros: Number(reply[1]) };
    return { ok: true };
  }

  settle(requestId: string, actual: Settlement, record = ""): Promise<void> {
    this.open = Math.max(0, this.open - 1);
    return this.queueFinish(requestId, actual.costMicros, actual.tokens, record);
  }

  record(requestId: string, record: string): Promise<void> {
    // Rides along like a settlement (no reservation to end, cost 0): the record is in the stream with the next admission.
    return this.queueFinish(requestId, 0, 0, record);
  }

  release(requestId: string): Promise<void> {
    this.open = Math.max(0, this.open - 1);
    return this.queueFinish(requestId, -1, 0, "");
  }

  /**
   * Reservations this store admitted and has not yet ended: while there are
   * some, more admissions are likely soon (a busy instance) and a settlement
   * waits to ride along; when there are none (an idle instance, one client
   * at a time) no admission may come until this answer ends, so it goes now.
   */
  private open = 0;

  private finishes: Array<string | number> = [];
  /** One per queued settlement, in the same order: resolves its promise once Redis has applied it (or it waits in the backlog). */
  private finishWaiters: Array<() => void> = [];
  private finishTimer: NodeJS.Timeout | null = null;

  /**
   * The promise resolves when the settlement is in Redis, record included,
   * so the proxy can finish a response only then: a client never holds a
   * usage id whose record a kill -9 could still lose. It costs no round trip
   * of its own (the settlement still rides along), only the wait for the one
   * that carries it: the next admission's, or FINISH_DELAY_MS at most.
   */
  private queueFinish(requestId: string, cost: number, tokens: number, record: string): Promise<void> {
    this.finishes.push(requestId, cost, tokens, record);
    const sent = new Promise<void>((resolve) => this.finishWaiters.push(resolve));
    if (this.open === 0) void this.sendFinishes();
    else this.finishTimer ??= setTimeout(() => void this.sendFinishes(), FINISH_DELAY_MS);
    return sent;
  }

  private takeFinishes(): { args: Array<string | number>; sent: () => void } {
    if (this.finishTimer) clearTimeout(this.finishTimer);
    this.finishTimer = null;
    // Bounded, so one script never carries an unbounded argument list.
    if (this.finishes.length > MAX_RIDING * FINISH_ARGS) {
      const rest = this.finishes.splice(0, this.finishes.length - MAX_RIDING * FINISH_ARGS);
      const restSent = this.finishWaiters.splice(0, rest.length / FINISH_ARGS);
      void this.mustApply(() => run("kgFinish", [], rest)).then(() => restSent.forEach((resolve) => resolve()));
    }
    const waiters = this.finishWaiters.splice(0);
    return { args: this.finishes.splice(0), sent: () => waiters.forEach((resolve) => resolve()) };
  }

  /** Sends waiting settlements now (before anything that depends on them). */
  private async sendFinishes(): Promise<void> {
    const { args, sent } = this.takeFinishes();
    if (args.length) await this.mustApply(() => run("kgFinish", [], args));
    sent();
  }

  async renew(requestId: string, _now: number, ttlMs: number): Promise<void> {
    await run("kgRenew", [], [requestId, ttlMs]);
  }

  async credit(userId: string, deltaMicros: number): Promise<void> {
    await this.sendFinishes();
    return this.mustApply(() => run("kgCredit", [], [userId, deltaMicros]));
  }

  async flushed(batchId: string, entries: FlushedEntry[]): Promise<void> {
    await this.sendFinishes();
    const args: Array<string | number> = [batchId];
    for (const e of entries) args.push(e.userId, e.keyId, e.costMicros, e.periodStart ?? 0);
    return this.mustApply(() => run("kgFlushed", [], args));
  }

  /**
   * The writer's side of the usage stream. A process is one consumer of the
   * group; entries it was given and did not acknowledge (its write failed)
   * come back to it first, and entries a dead process was given are claimed
   * by another after they sat idle (claimUsage).
   */
  async takeUsage(consumer: string, count: number): Promise<OutboxEntry[]> {
    // Settlements still waiting to ride along carry records too: they go first, so a drain writes them.
    await this.sendFinishes();
    const own = await this.readGroup(consumer, count, "0");
    // Then new ones, up to count: a round that retries a failed write also writes what arrived since.
    if (!own.length) return this.readGroup(consumer, count, ">");
    return own.length < count ? own.concat(await this.readGroup(consumer, count - own.length, ">")) : own;
  }

  private claims = 0;

  async claimUsage(consumer: string, idleMs: number, count: number): Promise<OutboxEntry[]> {
    // Every process start adds a consumer to the group; now and then, drop those long gone with nothing pending.
    if (this.claims++ % CONSUMER_PRUNE_EVERY === 0) await this.pruneConsumers(consumer);
    const reply = (await this.withGroup((c) => c.xautoclaim(usageStream(), USAGE_GROUP, consumer, idleMs, "0-0", "COUNT", count))) as [string, StreamEntry[]];
    return entriesOf(reply[1]);
  }

  async ackUsage(entries: WrittenEntry[]): Promise<void> {
    if (!entries.length) return;
    const args: Array<string | number> = [];
    for (const e of entries) args.push(e.id, e.userId, e.keyId, e.costMicros, e.periodStart ?? 0);
    // Not mustApply: an ack that fails leaves the entries with this consumer, which writes (a no-op) and acknowledges them again.
    await run("kgAcked", [], args);
  }

  async usageBacklog(): Promise<OutboxBacklog> {
    const [waiting, first] = await call((c) => Promise.all([c.xlen(usageStream()), c.xrange(usageStream(), "-", "+", "COUNT", 1)]));
    return { waiting, oldestAt: first.length ? Number(first[0][0].split("-")[0]) : null };
  }

  /** Deletes consumers idle for over CONSUMER_IDLE_MS with no entry pending: a dead process's name, which nothing will use again. */
  private async pruneConsumers(self: string): Promise<void> {
    const consumers = (await this.withGroup((c) => c.xinfo("CONSUMERS", usageStream(), USAGE_GROUP))) as unknown[][];
    for (const fields of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      const name = String(info.get("name"));
      if (name !== self && Number(info.get("pending")) === 0 && Number(info.get("idle")) > CONSUMER_IDLE_MS) {
        await call((c) => c.xgroup("DELCONSUMER", usageStream(), USAGE_GROUP, name));
      }
    }
  }

  private async readGroup(consumer: string, count: number, from: "0" | ">"): Promise<OutboxEntry[]> {
    const reply = (await this.withGroup((c) => c.xreadgroup("GROUP", USAGE_GROUP, consumer, "COUNT", count, "STREAMS", usageStream(), from))) as Array<
      [string, StreamEntry[]]
    > | null;
    return reply ? entriesOf(reply[0][1]) : [];
  }

  /** Runs a group command, creating the stream and its group first if Redis has neither (a fresh or restarted Redis). */
  private async withGroup<T>(fn: (c: Redis) => Promise<T>): Promise<T> {
    try {
      return await call(fn);
    } catch (err) {
      // NOGROUP: the stream has no group yet; "no such key": not even the stream (XINFO on a fresh Redis).
      if (!(err instanceof Error && /NOGROUP|no such key/i.test(err.message))) throw err;
      // From the stream's start ("0"), so records added before the group existed are written too.
      await call((c) => c.xgroup("CREATE", usageStream(), USAGE_GROUP, "0", "MKSTREAM")).catch((e: unknown) => {
        if (!(e instanceof Error && /BUSYGROUP/.test(e.message))) throw e;
      });
      return call(fn);
    }
  }

  async peek(userId: string, keyId: string, limits: KeyLimits): Promise<KeySnapshot | null> {
    await this.sendFinishes();
    const reply = (await run("kgPeek", [], [userId, keyId, orNone(limits.tpmLimit), limits.periodStart ?? 0])) as Reply;
    if (reply[0] !== "ok") return null;
    const accountAvailable = Number(reply[1]);
    const keyUsed = Number(reply[2]);
    return {
      rate: rateFrom(reply, 3, limits.rpmLimit, limits.tpmLimit),
      accountAvailableMicros: Math.max(0, accountAvailable),
      keyAvailableMicros: limits.maxBudgetMicros === null ? null : Math.max(0, limits.maxBudgetMicros - keyUsed),
    };
  }

  async pending(userId: string): Promise<{ unflushedMicros: number; reservedMicros: number }> {
    await this.sendFinishes();
    const [unflushed, reserved] = await call((c) => c.hmget(`kg:a:${userId}`, "unflushed", "reserved"));
    return { unflushedMicros: Number(unflushed ?? 0), reservedMicros: Number(reserved ?? 0) };
  }

  async sweep(): Promise<void> {
    // Bounded per call, so one sweep never blocks Redis for long; the next one takes the rest.
    while (Number(await run("kgSweep", [], [500])) === 500);
  }

  async acquireLease(keyId: string, holder: string, _now: number, ttlMs: number, revision: number): Promise<LeaseResult> {
    const reply = (await run("kgAcquire", [], [revision, keyId, holder, ttlMs])) as Reply;
    if (reply[0] === "stale") return { ok: false, reason: "stale", revision: Number(reply[1]) };
    if (reply[0] === "busy") return { ok: false, retryAfterMs: Math.max(0, Number(reply[1])) };
    return { ok: true, cooling: coolingFrom(reply, 1) };
  }

  async renewLease(keyId: string, holder: string, _now: number, ttlMs: number): Promise<boolean> {
    return Number(await run("kgLeaseOwned", [], [keyId, holder, ttlMs])) === 1;
  }

  async releaseLease(keyId: string, holder: string): Promise<void> {
    // If Redis is down the lease is not given back now; it expires within its TTL.
    await run("kgLeaseOwned", [], [keyId, holder, 0]).catch(() => undefined);
  }

  async coolDown(upstream: string, ms: number): Promise<void> {
    await run("kgCool", [], [upstream, Math.max(1, Math.ceil(ms))]);
  }

  async endCooldown(upstream: string): Promise<void> {
    await call((c) => c.zrem("kg:cool", upstream));
  }

  async cooldowns(): Promise<Cooling> {
    return coolingFrom((await run("kgCooling", [], [])) as Reply, 0);
  }

  async reservationsInFlight(): Promise<number> {
    await this.sendFinishes();
    return call((c) => c.zcard("kg:res"));
  }

  /**
   * Runs `op` now; if Redis is down, keeps it (in order, behind anything
   * already waiting) and retries every second. These operations end or move
   * money that is already counted, so applying them late errs on refusing.
   */
  private async mustApply(op: () => Promise<unknown>): Promise<void> {
    if (this.backlog.length) {
      this.backlog.push(op);
      return;
    }
    try {
      await op();
    } catch (err) {
      // Only an unreachable Redis is worth waiting for; a script error would block every later operation forever.
      if (!isStoreUnavailable(err)) {
        logger().error(`a limits-store operation failed and was dropped: ${redact(err instanceof Error ? err.message : String(err))}`);
        return;
      }
      logger().error(`Redis did not take a settlement; retrying every second: ${redact(err instanceof Error ? err.message : String(err))}`);
      this.backlog.push(op);
      this.backlogTimer ??= setInterval(() => void this.drainBacklog(), 1_000);
      this.backlogTimer.unref();
    }
  }

  private draining = false;

  private async drainBacklog(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.backlog.length) {
        await this.backlog[0]();
        this.backlog.shift();
      }
      if (this.backlogTimer) clearInterval(this.backlogTimer);
      this.backlogTimer = null;
    } catch {
      // Still down: the next tick tries again.
    } finally {
      this.draining = false;
    }
  }

  async close(): Promise<void> {
    await this.sendFinishes();
    await this.drainBacklog();
    // Nothing left to flush: one process's state is all in Redis.
  }

  /** Operations waiting for Redis (tests, metrics). */
  backlogSize(): number {
    return this.backlog.length;
  }
}

/** A stream entry as ioredis returns it: its id and its fields (null for an entry deleted while pending). */
type StreamEntry = [string, string[] | null];

function entriesOf(raw: StreamEntry[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const [id, fields] of raw) {
    const at = fields ? fields.indexOf("r") : -1;
    if (fields && at >= 0 && at % 2 === 0) out.push({ id, record: fields[at + 1] });
  }
  return out;
}

/** Tests: the raw client, for inspecting or flushing the store's keys. */
export function redisForTests(): Redis {
  return redis();
}
