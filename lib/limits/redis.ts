import { logger } from "@/lib/ops/logger";
import type Redis from "ioredis";
import { call, isStoreUnavailable, redis } from "@/lib/cluster/redis";
import type { Admission, AdmitResult, HoldResult, KeySnapshot, LeaseResult, LimitsStore, RateState, RefusalReason, Settlement } from "@/lib/limits";
import { redact } from "@/lib/log";

/**
 * The limits store in Redis, for several instances: the same figures and the
 * same rules as MemoryLimitsStore, each operation one Lua script (Redis runs a
 * script whole, with nothing in between), so no decision is a
 * check-then-increment across round trips.
 *
 * Layout (one Redis, not Redis Cluster: scripts name keys they compute):
 *   kg:a:<user>        hash balance, unflushed, reserved
 *   kg:ag:<user>       the account's generation (bumped by credits and flushes)
 *   kg:k:<key>         hash spent, unflushed, reserved, tsum
 *   kg:kg:<key>        the key's generation (bumped by flushes)
 *   kg:k:<key>:rpm     sorted set: admissions in the window, scored by time
 *   kg:k:<key>:tpm     sorted set: token holds in the window, scored by time
 *   kg:k:<key>:tpmv    hash: each hold's tokens
 *   kg:r:<request>     hash: a reservation (user, key, micros, tokens held)
 *   kg:rs:<request>    a swept reservation's owner, so a late settle still counts its cost once
 *   kg:res             sorted set: reservations by expiry, for the sweep
 *   kg:l:<key>         a subscription key's lease (holder, with a TTL)
 *   kg:fl:<batch>      a flushed batch, so a retried flush applies once
 *   kg:rev, kg:inval   cache coherence (lib/cluster/coherence.ts)
 *
 * Time comes from Redis (TIME) in every script that keeps a window or an
 * expiry, so instances with drifting clocks still share one window.
 *
 * An operation that must happen eventually (settle, release, flushed, credit)
 * and finds Redis down is retried every second until it applies; the
 * reservation it would end is still held meanwhile, which errs on refusing.
 */

const WINDOW_MS = 60_000;
/** How long a settlement waits for an admission to ride along with. */
const FINISH_DELAY_MS = 5;
/** Settlements one admission carries at most. */
const MAX_RIDING = 500;

const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(v) return tonumber(v) or 0 end
-- Drops admissions and token holds that left the window; returns the key's token sum (0 without a tpm limit: not read).
local function trim(kkey, now, tpm)
  local cutoff = now - ${WINDOW_MS}
  redis.call('ZREMRANGEBYSCORE', kkey .. ':rpm', '-inf', cutoff)
  if tpm < 0 then return 0 end
  local old = redis.call('ZRANGEBYSCORE', kkey .. ':tpm', '-inf', cutoff)
  local removed = 0
  local i = 1
  while i <= #old do
    local chunk = {}
    for j = i, math.min(i + 499, #old) do chunk[#chunk + 1] = old[j] end
    local vals = redis.call('HMGET', kkey .. ':tpmv', unpack(chunk))
    for _, v in ipairs(vals) do removed = removed + num(v) end
    redis.call('HDEL', kkey .. ':tpmv', unpack(chunk))
    redis.call('ZREM', kkey .. ':tpm', unpack(chunk))
    i = i + 500
  end
  if removed ~= 0 then return redis.call('HINCRBY', kkey, 'tsum', 0 - removed) end
  return num(redis.call('HGET', kkey, 'tsum'))
end
-- The window's raw figures: count and oldest of admissions, count and oldest of holds (holds only with a tpm limit).
local function window(kkey, tpm)
  local rc = redis.call('ZCARD', kkey .. ':rpm')
  local ro = redis.call('ZRANGE', kkey .. ':rpm', 0, 0, 'WITHSCORES')
  if tpm < 0 then return rc, num(ro[2]), 0, 0 end
  local tc = redis.call('ZCARD', kkey .. ':tpm')
  local to = redis.call('ZRANGE', kkey .. ':tpm', 0, 0, 'WITHSCORES')
  return rc, num(ro[2]), tc, num(to[2])
end
-- Ends reservation rid: gives back its money; its token hold becomes 'tokens' (0 drops it). cost < 0: release.
-- A reservation already swept (its holder stalled past the TTL) left a marker: its cost is still counted, once.
-- Amounts are negated as 0 - x: Lua's -0 reaches Redis as "-0", which HINCRBY refuses.
local function finish(rid, cost, tokens)
  local r = redis.call('HMGET', 'kg:r:' .. rid, 'u', 'k', 'm', 't')
  if not r[1] then
    local swept = redis.call('HMGET', 'kg:rs:' .. rid, 'u', 'k')
    if not swept[1] then return 0 end
    redis.call('DEL', 'kg:rs:' .. rid)
    if cost > 0 then
      if redis.call('HEXISTS', 'kg:a:' .. swept[1], 'balance') == 1 then redis.call('HINCRBY', 'kg:a:' .. swept[1], 'unflushed', cost) end
      if redis.call('HEXISTS', 'kg:k:' .. swept[2], 'spent') == 1 then redis.call('HINCRBY', 'kg:k:' .. swept[2], 'unflushed', cost) end
    end
    return 0
  end
  redis.call('DEL', 'kg:r:' .. rid)
  redis.call('ZREM', 'kg:res', rid)
  local akey = 'kg:a:' .. r[1]
  local kkey = 'kg:k:' .. r[2]
  local m = num(r[3])
  if redis.call('HEXISTS', akey, 'balance') == 1 then
    redis.call('HINCRBY', akey, 'reserved', 0 - m)
    if cost > 0 then redis.call('HINCRBY', akey, 'unflushed', cost) end
  end
  if redis.call('HEXISTS', kkey, 'spent') == 1 then
    redis.call('HINCRBY', kkey, 'reserved', 0 - m)
    if cost > 0 then redis.call('HINCRBY', kkey, 'unflushed', cost) end
    local held = num(r[4])
    if held > 0 and redis.call('ZSCORE', kkey .. ':tpm', rid) then
      if tokens > 0 then
        redis.call('HSET', kkey .. ':tpmv', rid, tokens)
      else
        redis.call('HDEL', kkey .. ':tpmv', rid)
        redis.call('ZREM', kkey .. ':tpm', rid)
      end
      redis.call('HINCRBY', kkey, 'tsum', tokens - held)
    end
  end
  return 1
end
`;

// ARGV: revision, requestId, userId, keyId, ttlMs, rpm, tpm, maxBudget (-1: none), promptTokens, inMicros, outMicros, requestedMax (-1: none), modelMax,
// then (requestId, cost, tokens) triples: earlier requests' settlements, applied first (they ride along instead of costing a round trip each).
const ADMIT = `${PRELUDE}
for i = 14, #ARGV, 3 do finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
local rev = tonumber(ARGV[1])
local current = num(redis.call('GET', 'kg:rev'))
if current ~= rev then return {'stale', current} end
local rid, user, keyId = ARGV[2], ARGV[3], ARGV[4]
local ttl, rpm, tpm, budget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local prompt, inP, outP, requested, modelMax = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local akey, kkey = 'kg:a:' .. user, 'kg:k:' .. keyId
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
local k = redis.call('HMGET', kkey, 'spent', 'unflushed', 'reserved')
if not a[1] or not k[1] then return {'unseeded', a[1] and 0 or 1, k[1] and 0 or 1} end
local now = now_ms()
local tsum = trim(kkey, now, tpm)
local rc, ro, tc, to = window(kkey, tpm)
local accountAvail = num(a[1]) - num(a[2]) - num(a[3])
local keyAvail = accountAvail + 1
if budget >= 0 then keyAvail = budget - num(k[1]) - num(k[2]) - num(k[3]) end
local avail = math.max(0, math.min(accountAvail, keyAvail))
local moneyReason = 'balance'
if budget >= 0 and keyAvail < accountAvail then moneyReason = 'budget' end
local function refuse(reason, retry)
  return {'refuse', reason, retry, avail, rc, ro, tsum, tc, to, now}
end
if rpm >= 0 and rc >= rpm then return refuse('rpm', ro + ${WINDOW_MS} - now) end
local function cost(i, o) return math.ceil((i * inP + o * outP) / 1000000) end
local promptCost = cost(prompt, 0)
local maxTokens = modelMax
if requested >= 0 then maxTokens = requested end
local lowered = 0
if requested < 0 then
  if outP > 0 then
    local affordable = math.floor(((avail - promptCost) * 1000000) / outP)
    if affordable < maxTokens then
      maxTokens = math.max(0, affordable)
      lowered = 1
    end
  end
  if tpm >= 0 then
    local room = tpm - tsum - prompt
    if room < maxTokens and room >= 1 then
      maxTokens = room
      lowered = 1
    end
  end
end
if tpm >= 0 and tsum + prompt + math.max(1, maxTokens) > tpm then
  if tc > 0 then return refuse('tpm', to + ${WINDOW_MS} - now) end
  return refuse('tpm', ${WINDOW_MS})
end
if maxTokens < 1 then return refuse(moneyReason, -1) end
local micros = cost(prompt, maxTokens)
if micros > avail then return refuse(moneyReason, -1) end
redis.call('ZADD', kkey .. ':rpm', now, rid)
redis.call('PEXPIRE', kkey .. ':rpm', ${WINDOW_MS} * 2)
local held = 0
if tpm >= 0 then
  held = prompt + maxTokens
  redis.call('ZADD', kkey .. ':tpm', now, rid)
  redis.call('HSET', kkey .. ':tpmv', rid, held)
  redis.call('PEXPIRE', kkey .. ':tpm', ${WINDOW_MS} * 2)
  redis.call('PEXPIRE', kkey .. ':tpmv', ${WINDOW_MS} * 2)
  tsum = redis.call('HINCRBY', kkey, 'tsum', held)
end
redis.call('HINCRBY', akey, 'reserved', micros)
redis.call('HINCRBY', kkey, 'reserved', micros)
redis.call('HSET', 'kg:r:' .. rid, 'u', user, 'k', keyId, 'm', micros, 't', held)
redis.call('ZADD', 'kg:res', now + ttl, rid)
-- The window now holds this admission too (no need to read it again).
if rc == 0 then ro = now end
rc = rc + 1
if tpm >= 0 then
  if tc == 0 then to = now end
  tc = tc + 1
end
return {'ok', maxTokens, lowered, micros, rc, ro, tsum, tc, to, now}
`;

// ARGV: (requestId, cost (-1: release), tokens) triples
const FINISH = `${PRELUDE}
for i = 1, #ARGV, 3 do finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
return 1`;

// ARGV: userId, holdId, micros, ttlMs
const HOLD = `${PRELUDE}
local akey = 'kg:a:' .. ARGV[1]
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
if not a[1] then return {'unseeded'} end
local micros = tonumber(ARGV[3])
local avail = num(a[1]) - num(a[2]) - num(a[3])
if avail < micros then return {'short', math.max(0, avail)} end
redis.call('HINCRBY', akey, 'reserved', micros)
redis.call('HSET', 'kg:r:' .. ARGV[2], 'u', ARGV[1], 'k', '', 'm', micros, 't', 0)
redis.call('ZADD', 'kg:res', now_ms() + tonumber(ARGV[4]), ARGV[2])
return {'ok'}`;

// ARGV: requestId, ttlMs
const RENEW = `${PRELUDE}
if redis.call('EXISTS', 'kg:r:' .. ARGV[1]) == 0 then return 0 end
redis.call('ZADD', 'kg:res', 'GT', now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1`;

// ARGV: limit
const SWEEP = `${PRELUDE}
local due = redis.call('ZRANGEBYSCORE', 'kg:res', '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, rid in ipairs(due) do
  local r = redis.call('HMGET', 'kg:r:' .. rid, 'u', 'k')
  if finish(rid, -1, 0) == 0 then
    redis.call('ZREM', 'kg:res', rid)
  elseif r[1] then
    -- Its holder may still settle late (it stalled, not crashed): that cost must count, once.
    redis.call('HSET', 'kg:rs:' .. rid, 'u', r[1], 'k', r[2])
    redis.call('PEXPIRE', 'kg:rs:' .. rid, 3600000)
  end
end
return #due`;

// ARGV: userId, delta
const CREDIT = `
redis.call('INCR', 'kg:ag:' .. ARGV[1])
if redis.call('HEXISTS', 'kg:a:' .. ARGV[1], 'balance') == 1 then
  redis.call('HINCRBY', 'kg:a:' .. ARGV[1], 'balance', ARGV[2])
end
return 1`;

// ARGV: batchId, then (userId, keyId, cost) triples
const FLUSHED = `
if not redis.call('SET', 'kg:fl:' .. ARGV[1], '1', 'NX', 'PX', 3600000) then return 0 end
for i = 2, #ARGV, 3 do
  local akey, kkey, c = 'kg:a:' .. ARGV[i], 'kg:k:' .. ARGV[i + 1], tonumber(ARGV[i + 2])
  redis.call('INCR', 'kg:ag:' .. ARGV[i])
  redis.call('INCR', 'kg:kg:' .. ARGV[i + 1])
  if redis.call('HEXISTS', akey, 'balance') == 1 then
    redis.call('HINCRBY', akey, 'unflushed', 0 - c)
    redis.call('HINCRBY', akey, 'balance', 0 - c)
  end
  if redis.call('HEXISTS', kkey, 'spent') == 1 then
    redis.call('HINCRBY', kkey, 'unflushed', 0 - c)
    redis.call('HINCRBY', kkey, 'spent', c)
  end
end
return 1`;

// KEYS: the hash, the generation. ARGV: generation, field=value pairs
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`;

// ARGV: userId, keyId, tpm (-1: none)
const PEEK = `${PRELUDE}
local akey, kkey = 'kg:a:' .. ARGV[1], 'kg:k:' .. ARGV[2]
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
local k = redis.call('HMGET', kkey, 'spent', 'unflushed', 'reserved')
if not a[1] or not k[1] then return {'unseeded'} end
local now = now_ms()
local tpm = tonumber(ARGV[3])
local tsum = trim(kkey, now, tpm)
local rc, ro, tc, to = window(kkey, tpm)
return {'ok', num(a[1]) - num(a[2]) - num(a[3]), num(k[1]) + num(k[2]) + num(k[3]), rc, ro, tsum, tc, to, now}`;

// ARGV: revision, keyId, holder, ttlMs
const ACQUIRE = `
local current = tonumber(redis.call('GET', 'kg:rev') or '0')
if current ~= tonumber(ARGV[1]) then return {'stale', current} end
local lease = 'kg:l:' .. ARGV[2]
local holder = redis.call('GET', lease)
if holder and holder ~= ARGV[3] then return {'busy', redis.call('PTTL', lease)} end
redis.call('SET', lease, ARGV[3], 'PX', tonumber(ARGV[4]))
return {'ok'}`;

// ARGV: keyId, holder, ttlMs (0: release)
const LEASE_OWNED = `
local lease = 'kg:l:' .. ARGV[1]
if redis.call('GET', lease) ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', lease, tonumber(ARGV[3])) else redis.call('DEL', lease) end
return 1`;

const SCRIPTS = { kgHold: HOLD, kgAdmit: ADMIT, kgFinish: FINISH, kgRenew: RENEW, kgSweep: SWEEP, kgCredit: CREDIT, kgFlushed: FLUSHED, kgSeed: SEED, kgPeek: PEEK, kgAcquire: ACQUIRE, kgLeaseOwned: LEASE_OWNED };
type ScriptName = keyof typeof SCRIPTS;
type Reply = Array<string | number>;

const defined = new WeakSet<Redis>();

/** Runs a script by its SHA (ioredis loads it on NOSCRIPT). */
function run(name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
  return call((client) => {
    if (!defined.has(client)) {
      for (const [n, lua] of Object.entries(SCRIPTS)) client.defineCommand(n, { lua });
      defined.add(client);
    }
    const fn = (client as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name];
    return fn.call(client, keys.length, ...keys, ...args);
  });
}

function rateFrom(reply: Reply, at: number, rpmLimit: number | null, tpmLimit: number | null): RateState {
  // reply[at..]: rpm count, rpm oldest, token sum, tpm count, tpm oldest, now
  const [rc, ro, tsum, tc, to, now] = reply.slice(at, at + 6).map(Number);
  return {
    rpmLimit,
    rpmRemaining: rpmLimit === null ? Infinity : Math.max(0, rpmLimit - rc),
    rpmResetMs: rc ? Math.max(0, ro + WINDOW_MS - now) : 0,
    tpmLimit,
    tpmRemaining: tpmLimit === null ? Infinity : Math.max(0, tpmLimit - tsum),
    tpmResetMs: tc ? Math.max(0, to + WINDOW_MS - now) : 0,
  };
}

const orNone = (v: number | null) => (v === null ? -1 : v);

export class RedisLimitsStore implements LimitsStore {
  readonly shared = true;
  /** Must-apply operations Redis did not take, in order; retried every second. */
  private backlog: Array<() => Promise<unknown>> = [];
  private backlogTimer: NodeJS.Timeout | null = null;

  async accountGeneration(userId: string): Promise<number> {
    return Number((await call((c) => c.get(`kg:ag:${userId}`))) ?? 0);
  }

  async seedAccount(userId: string, balanceMicros: number, generation: number): Promise<boolean> {
    return Number(await run("kgSeed", [`kg:a:${userId}`, `kg:ag:${userId}`], [generation, "balance", balanceMicros, "unflushed", 0, "reserved", 0])) === 1;
  }

  async keyGeneration(keyId: string): Promise<number> {
    return Number((await call((c) => c.get(`kg:kg:${keyId}`))) ?? 0);
  }

  async seedKey(keyId: string, spentMicros: number, generation: number): Promise<boolean> {
    return Number(await run("kgSeed", [`kg:k:${keyId}`, `kg:kg:${keyId}`], [generation, "spent", spentMicros, "unflushed", 0, "reserved", 0, "tsum", 0])) === 1;
  }

  async admit(a: Admission): Promise<AdmitResult> {
    const riding = this.takeFinishes();
    let reply: Reply;
    try {
      reply = (await run("kgAdmit", [], [
      a.revision,
      a.requestId,
      a.userId,
      a.keyId,
      a.ttlMs,
      orNone(a.rpmLimit),
      orNone(a.tpmLimit),
      orNone(a.maxBudgetMicros),
      a.promptTokens,
      a.inputMicrosPerMTok,
      a.outputMicrosPerMTok,
      orNone(a.requestedMaxTokens),
      a.modelMaxTokens,
      ...riding,
    ])) as Reply;
    } catch (err) {
      // The settlements that rode along must still happen.
      if (riding.length) void this.mustApply(() => run("kgFinish", [], riding));
      throw err;
    }
    switch (reply[0]) {
      case "stale":
        return { ok: false, reason: "stale", revision: Number(reply[1]) };
      case "unseeded":
        return { ok: false, reason: "unseeded", account: reply[1] === 1, key: reply[2] === 1 };
      case "refuse": {
        const retry = Number(reply[2]);
        return { ok: false, reason: reply[1] as RefusalReason, retryAfterMs: retry < 0 ? null : Math.max(0, retry), availableMicros: Number(reply[3]), rate: rateFrom(reply, 4, a.rpmLimit, a.tpmLimit) };
      }
      default:
        return { ok: true, maxTokens: Number(reply[1]), lowered: reply[2] === 1, reservedMicros: Number(reply[3]), rate: rateFrom(reply, 4, a.rpmLimit, a.tpmLimit) };
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

  settle(requestId: string, actual: Settlement): Promise<void> {
    return this.queueFinish(requestId, actual.costMicros, actual.tokens);
  }

  release(requestId: string): Promise<void> {
    return this.queueFinish(requestId, -1, 0);
  }

  private finishes: Array<string | number> = [];
  private finishTimer: NodeJS.Timeout | null = null;

  private queueFinish(requestId: string, cost: number, tokens: number): Promise<void> {
    this.finishes.push(requestId, cost, tokens);
    this.finishTimer ??= setTimeout(() => void this.sendFinishes(), FINISH_DELAY_MS);
    return Promise.resolve();
  }

  private takeFinishes(): Array<string | number> {
    if (this.finishTimer) clearTimeout(this.finishTimer);
    this.finishTimer = null;
    // Bounded, so one script never carries an unbounded argument list.
    if (this.finishes.length > MAX_RIDING * 3) {
      const rest = this.finishes.splice(0, this.finishes.length - MAX_RIDING * 3);
      void this.mustApply(() => run("kgFinish", [], rest));
    }
    return this.finishes.splice(0);
  }

  /** Sends waiting settlements now (before anything that depends on them). */
  private sendFinishes(): Promise<void> {
    const batch = this.takeFinishes();
    return batch.length ? this.mustApply(() => run("kgFinish", [], batch)) : Promise.resolve();
  }

  async renew(requestId: string, _now: number, ttlMs: number): Promise<void> {
    await run("kgRenew", [], [requestId, ttlMs]);
  }

  async credit(userId: string, deltaMicros: number): Promise<void> {
    await this.sendFinishes();
    return this.mustApply(() => run("kgCredit", [], [userId, deltaMicros]));
  }

  async flushed(batchId: string, entries: Array<{ userId: string; keyId: string; costMicros: number }>): Promise<void> {
    await this.sendFinishes();
    const args: Array<string | number> = [batchId];
    for (const e of entries) args.push(e.userId, e.keyId, e.costMicros);
    return this.mustApply(() => run("kgFlushed", [], args));
  }

  async peek(userId: string, keyId: string, limits: { rpmLimit: number | null; tpmLimit: number | null; maxBudgetMicros: number | null }): Promise<KeySnapshot | null> {
    await this.sendFinishes();
    const reply = (await run("kgPeek", [], [userId, keyId, orNone(limits.tpmLimit)])) as Reply;
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
    return { ok: true };
  }

  async renewLease(keyId: string, holder: string, _now: number, ttlMs: number): Promise<boolean> {
    return Number(await run("kgLeaseOwned", [], [keyId, holder, ttlMs])) === 1;
  }

  async releaseLease(keyId: string, holder: string): Promise<void> {
    // If Redis is down the lease is not given back now; it expires within its TTL.
    await run("kgLeaseOwned", [], [keyId, holder, 0]).catch(() => undefined);
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

/** Tests: the raw client, for inspecting or flushing the store's keys. */
export function redisForTests(): Redis {
  return redis();
}
