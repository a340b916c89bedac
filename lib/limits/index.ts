/**
 * The limits store: every number the gateway decides with (rpm and tpm
 * windows, the account balance and the key's spend, in-flight reservations,
 * subscription-key leases), behind one interface whose every operation is one
 * atomic step. This file has the in-memory store (one process): each
 * operation is one synchronous step with no await inside, which JavaScript
 * runs without interleaving. redis-limits.ts has the Redis store (several
 * instances): each operation is one Lua script. `limits()` picks Redis when
 * REDIS_URL is set.
 *
 * Money is integer micro-dollars (JavaScript numbers: exact below 2^53, about
 * $9 billion). See ../shared/ACCOUNTING.md for the design this follows:
 *   available(account) = balance − unflushed − reserved
 *   available(key)     = maxBudget − spent − unflushed(key) − reserved(key)
 */

import { redisEnabled } from "@/lib/cluster/redis";
import { RedisLimitsStore } from "@/lib/limits/redis";

export const WINDOW_MS = 60_000;

export interface Admission {
  /** The cache revision this instance has caught up to (coherence.ts); a newer one in the store answers "stale". */
  revision: number;
  requestId: string;
  userId: string;
  keyId: string;
  now: number;
  /** How long the reservation lives unless settled, released or renewed (a crashed holder's money comes back). */
  ttlMs: number;
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxBudgetMicros: number | null;
  /** An upper bound on the prompt's tokens (its UTF-8 bytes are one): what the money reservation holds. */
  promptTokens: number;
  /** An estimate of the prompt's tokens (its text at about 4 bytes a token): what the tpm window holds until settled. */
  promptTokensEstimate: number;
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  /** The client's own max_tokens, which must fit whole; null lets the store lower the model's maximum to what fits. */
  requestedMaxTokens: number | null;
  modelMaxTokens: number;
}

export interface RateState {
  rpmLimit: number | null;
  rpmRemaining: number;
  /** Milliseconds until the oldest counted request leaves the window. */
  rpmResetMs: number;
  tpmLimit: number | null;
  tpmRemaining: number;
  tpmResetMs: number;
}

export type RefusalReason = "rpm" | "tpm" | "balance" | "budget";

export type Refused = { ok: false; reason: RefusalReason; retryAfterMs: number | null; availableMicros: number; rate: RateState };

/** Not a decision: decide again after catching up with other instances' writes, or after seeding. */
export type Retry = { ok: false; reason: "stale"; revision: number } | { ok: false; reason: "unseeded"; account: boolean; key: boolean };

export type AdmitResult = { ok: true; maxTokens: number; lowered: boolean; reservedMicros: number; rate: RateState } | Refused | Retry;

export type HoldResult = { ok: true } | { ok: false; reason: "unseeded" } | { ok: false; reason: "short"; availableMicros: number };

export type LeaseResult = { ok: true } | { ok: false; retryAfterMs: number } | { ok: false; reason: "stale"; revision: number };

export interface Settlement {
  costMicros: number;
  tokens: number;
}

export interface KeySnapshot {
  rate: RateState;
  /** What the account can still spend, after in-flight reservations. */
  accountAvailableMicros: number;
  /** What the key's maxBudget still allows, or null without one. */
  keyAvailableMicros: number | null;
}

export interface LimitsStore {
  /** Whether several instances share this store (Redis). */
  readonly shared: boolean;
  /** The store's generation for an account: changes whenever its balance moves. Read before loading a balance from the database. */
  accountGeneration(userId: string): Promise<number>;
  /** Seeds an account's settled balance, unless the store has it already or its generation moved since `generation` was read (then false: read again). */
  seedAccount(userId: string, balanceMicros: number, generation: number): Promise<boolean>;
  /** The same for a key's settled spend. */
  keyGeneration(keyId: string): Promise<number>;
  seedKey(keyId: string, spentMicros: number, generation: number): Promise<boolean>;
  /** Checks rpm, tpm, the key's budget and the account's balance, and reserves all of them, or nothing. */
  admit(a: Admission): Promise<AdmitResult>;
  /**
   * Reserves `micros` of an account's balance for a charge about to be
   * written (a subscription), in the same atomic step admissions take, so the
   * charge and requests in flight can never together overdraw it. End it with
   * release() after the charge is committed and credited (or abandoned).
   */
  hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number): Promise<HoldResult>;
  /** Ends a reservation at its real cost: the cost moves to unflushed, the tpm entry to the real token count. */
  settle(requestId: string, actual: Settlement): Promise<void>;
  /** Ends a reservation without cost (upstream refused the request before any output). */
  release(requestId: string): Promise<void>;
  /** Extends a reservation's life while its stream is open. */
  renew(requestId: string, now: number, ttlMs: number): Promise<void>;
  /** A committed ledger change (a grant, a top-up, a subscription charge). */
  credit(userId: string, deltaMicros: number): Promise<void>;
  /** Usage written to the database (batch `batchId`, applied once): it leaves unflushed and joins the settled balance and spend. */
  flushed(batchId: string, entries: Array<{ userId: string; keyId: string; costMicros: number }>): Promise<void>;
  /** What a key has left, without reserving anything (POST /api/keys/verify); null when the store has not seen the key or account. */
  peek(userId: string, keyId: string, limits: { rpmLimit: number | null; tpmLimit: number | null; maxBudgetMicros: number | null }, now: number): Promise<KeySnapshot | null>;
  /** Settled-but-unflushed usage and in-flight reservations of an account (for showing a live balance). */
  pending(userId: string): Promise<{ unflushedMicros: number; reservedMicros: number }>;
  /** Drops reservations whose holder never came back. */
  sweep(now: number): Promise<void>;
  /** Takes a key's one slot (subscription keys: one request in flight), unless someone else holds it and its TTL has not passed. */
  acquireLease(keyId: string, holder: string, now: number, ttlMs: number, revision: number): Promise<LeaseResult>;
  /** Extends the lease while its request streams; false when it is no longer ours. */
  renewLease(keyId: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the slot back, only if `holder` still holds it. */
  releaseLease(keyId: string, holder: string): Promise<void>;
  /** Reservations in flight in this store (metrics). */
  reservationsInFlight(): Promise<number>;
  /** Shutdown: sends whatever is still waiting to be applied (settlements, retries). */
  close(): Promise<void>;
}

interface AccountFigures {
  balance: number;
  unflushed: number;
  reserved: number;
}

interface KeyFigures {
  spent: number;
  unflushed: number;
  reserved: number;
  /** Admission times in the last WINDOW_MS, oldest first. */
  requests: number[];
  /** Token holds in the last WINDOW_MS, oldest first. */
  tokens: TokenHold[];
  tokenSum: number;
}

interface TokenHold {
  at: number;
  tokens: number;
  /** Set when the hold leaves the window: settling it then changes nothing. */
  expired?: boolean;
}

interface Reservation {
  userId: string;
  keyId: string;
  micros: number;
  expiresAt: number;
  hold: TokenHold | null;
}

export function costMicros(inputTokens: number, outputTokens: number, inputMicrosPerMTok: number, outputMicrosPerMTok: number): number {
  // Rounded up to the micro-dollar: never charge less than the price.
  return Math.ceil((inputTokens * inputMicrosPerMTok + outputTokens * outputMicrosPerMTok) / 1_000_000);
}

/**
 * The in-memory figures, with synchronous operations (one step each, no
 * await): MemoryLimitsStore wraps them in the store interface, and the unit
 * tests drive them directly with a controlled clock.
 */
export class MemoryFigures {
  private accounts = new Map<string, AccountFigures>();
  private generations = new Map<string, number>();
  private keys = new Map<string, KeyFigures>();
  private reservations = new Map<string, Reservation>();
  private leases = new Map<string, { holder: string; expiresAt: number }>();
  private keyGenerations = new Map<string, number>();
  /** Reservations the sweep dropped, by request: whose cost a late settle still counts. */
  private swept = new Map<string, { userId: string; keyId: string }>();

  acquireLease(keyId: string, holder: string, now: number, ttlMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const held = this.leases.get(keyId);
    if (held && held.holder !== holder && held.expiresAt > now) return { ok: false, retryAfterMs: held.expiresAt - now };
    this.leases.set(keyId, { holder, expiresAt: now + ttlMs });
    return { ok: true };
  }

  renewLease(keyId: string, holder: string, now: number, ttlMs: number): boolean {
    const held = this.leases.get(keyId);
    if (!held || held.holder !== holder) return false;
    held.expiresAt = now + ttlMs;
    return true;
  }

  releaseLease(keyId: string, holder: string): void {
    if (this.leases.get(keyId)?.holder === holder) this.leases.delete(keyId);
  }

  accountGeneration(userId: string): number {
    return this.generations.get(userId) ?? 0;
  }

  seedAccount(userId: string, balanceMicros: number, generation: number): boolean {
    if (this.accounts.has(userId)) return true;
    if ((this.generations.get(userId) ?? 0) !== generation) return false;
    this.accounts.set(userId, { balance: balanceMicros, unflushed: 0, reserved: 0 });
    return true;
  }

  keyGeneration(keyId: string): number {
    return this.keyGenerations.get(keyId) ?? 0;
  }

  seedKey(keyId: string, spentMicros: number, generation: number): boolean {
    if (this.keys.has(keyId)) return true;
    if ((this.keyGenerations.get(keyId) ?? 0) !== generation) return false;
    this.keys.set(keyId, { spent: spentMicros, unflushed: 0, reserved: 0, requests: [], tokens: [], tokenSum: 0 });
    return true;
  }

  admit(a: Admission): AdmitResult {
    const account = this.accounts.get(a.userId);
    const key = this.keys.get(a.keyId);
    if (!account || !key) return { ok: false, reason: "unseeded", account: !account, key: !key };
    trim(key, a.now);
    const rate = rateState(key, a.rpmLimit, a.tpmLimit, a.now);
    const accountAvailable = account.balance - account.unflushed - account.reserved;
    const keyAvailable = a.maxBudgetMicros === null ? Infinity : a.maxBudgetMicros - key.spent - key.unflushed - key.reserved;
    const available = Math.max(0, Math.min(accountAvailable, keyAvailable));
    const moneyReason: RefusalReason = keyAvailable < accountAvailable ? "budget" : "balance";
    const refuse = (reason: RefusalReason, retryAfterMs: number | null): AdmitResult => ({ ok: false, reason, retryAfterMs, availableMicros: available, rate });

    if (a.rpmLimit !== null && key.requests.length >= a.rpmLimit) return refuse("rpm", rate.rpmResetMs);

    // The output tokens this request may produce: the client's max_tokens whole,
    // or else the model's maximum lowered to what the money and tpm can pay for.
    const promptCost = costMicros(a.promptTokens, 0, a.inputMicrosPerMTok, a.outputMicrosPerMTok);
    let maxTokens = a.requestedMaxTokens ?? a.modelMaxTokens;
    let lowered = false;
    if (a.requestedMaxTokens === null) {
      if (a.outputMicrosPerMTok > 0) {
        const affordable = Math.floor(((available - promptCost) * 1_000_000) / a.outputMicrosPerMTok);
        if (affordable < maxTokens) {
          maxTokens = Math.max(0, affordable);
          lowered = true;
        }
      }
      if (a.tpmLimit !== null) {
        const room = a.tpmLimit - key.tokenSum - a.promptTokens;
        if (room < maxTokens && room >= 1) {
          maxTokens = room;
          lowered = true;
        }
      }
    }
    if (a.tpmLimit !== null && key.tokenSum + a.promptTokens + Math.max(1, maxTokens) > a.tpmLimit) {
      // An empty window cannot hold it either: waiting will not help, but the answer is still a rate limit.
      return refuse("tpm", key.tokens.length ? rate.tpmResetMs : WINDOW_MS);
    }
    if (maxTokens < 1) return refuse(moneyReason, null);
    const micros = costMicros(a.promptTokens, maxTokens, a.inputMicrosPerMTok, a.outputMicrosPerMTok);
    if (micros > available) return refuse(moneyReason, null);

    // Every check passed: take everything in the same step.
    key.requests.push(a.now);
    let hold: TokenHold | null = null;
    if (a.tpmLimit !== null) {
      hold = { at: a.now, tokens: a.promptTokens + maxTokens };
      key.tokens.push(hold);
      key.tokenSum += hold.tokens;
    }
    account.reserved += micros;
    key.reserved += micros;
    this.reservations.set(a.requestId, { userId: a.userId, keyId: a.keyId, micros, expiresAt: a.now + a.ttlMs, hold });
    return { ok: true, maxTokens, lowered, reservedMicros: micros, rate: rateState(key, a.rpmLimit, a.tpmLimit, a.now) };
  }

  hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number): HoldResult {
    const account = this.accounts.get(userId);
    if (!account) return { ok: false, reason: "unseeded" };
    const available = account.balance - account.unflushed - account.reserved;
    if (available < micros) return { ok: false, reason: "short", availableMicros: Math.max(0, available) };
    account.reserved += micros;
    this.reservations.set(holdId, { userId, keyId: "", micros, expiresAt: now + ttlMs, hold: null });
    return { ok: true };
  }

  settle(requestId: string, actual: Settlement): void {
    const r = this.take(requestId);
    // A reservation swept before its holder settled (it stalled past the TTL): its cost still counts, once.
    const owner = r ?? this.swept.get(requestId);
    this.swept.delete(requestId);
    if (!owner) return;
    const account = this.accounts.get(owner.userId);
    const key = this.keys.get(owner.keyId);
    if (account) account.unflushed += actual.costMicros;
    if (key) {
      key.unflushed += actual.costMicros;
      if (r?.hold && !r.hold.expired) {
        key.tokenSum += actual.tokens - r.hold.tokens;
        r.hold.tokens = actual.tokens;
      }
    }
  }

  release(requestId: string): void {
    const r = this.take(requestId);
    const key = r && this.keys.get(r.keyId);
    if (r?.hold && key && !r.hold.expired) {
      key.tokenSum -= r.hold.tokens;
      r.hold.tokens = 0;
    }
  }

  renew(requestId: string, now: number, ttlMs: number): void {
    const r = this.reservations.get(requestId);
    if (r) r.expiresAt = Math.max(r.expiresAt, now + ttlMs);
  }

  credit(userId: string, deltaMicros: number): void {
    this.generations.set(userId, (this.generations.get(userId) ?? 0) + 1);
    const account = this.accounts.get(userId);
    if (account) account.balance += deltaMicros;
  }

  flushed(_batchId: string, entries: Array<{ userId: string; keyId: string; costMicros: number }>): void {
    for (const e of entries) {
      this.generations.set(e.userId, (this.generations.get(e.userId) ?? 0) + 1);
      this.keyGenerations.set(e.keyId, (this.keyGenerations.get(e.keyId) ?? 0) + 1);
      const account = this.accounts.get(e.userId);
      if (account) {
        account.unflushed -= e.costMicros;
        account.balance -= e.costMicros;
      }
      const key = this.keys.get(e.keyId);
      if (key) {
        key.unflushed -= e.costMicros;
        key.spent += e.costMicros;
      }
    }
  }

  peek(userId: string, keyId: string, limits: { rpmLimit: number | null; tpmLimit: number | null; maxBudgetMicros: number | null }, now: number): KeySnapshot | null {
    const account = this.accounts.get(userId);
    const key = this.keys.get(keyId);
    if (!account || !key) return null;
    trim(key, now);
    const accountAvailable = account.balance - account.unflushed - account.reserved;
    const keyAvailable = limits.maxBudgetMicros === null ? null : limits.maxBudgetMicros - key.spent - key.unflushed - key.reserved;
    return {
      rate: rateState(key, limits.rpmLimit, limits.tpmLimit, now),
      accountAvailableMicros: Math.max(0, accountAvailable),
      keyAvailableMicros: keyAvailable === null ? null : Math.max(0, keyAvailable),
    };
  }

  pending(userId: string): { unflushedMicros: number; reservedMicros: number } {
    const account = this.accounts.get(userId);
    return { unflushedMicros: account?.unflushed ?? 0, reservedMicros: account?.reserved ?? 0 };
  }

  reservationsInFlight(): number {
    return this.reservations.size;
  }

  sweep(now: number): void {
    for (const [id, r] of this.reservations) {
      if (r.expiresAt <= now) {
        this.release(id);
        if (this.swept.size >= 100_000) this.swept.clear();
        this.swept.set(id, { userId: r.userId, keyId: r.keyId });
      }
    }
    for (const [keyId, lease] of this.leases) {
      if (lease.expiresAt <= now) this.leases.delete(keyId);
    }
  }

  private take(requestId: string): Reservation | undefined {
    const r = this.reservations.get(requestId);
    if (!r) return undefined;
    this.reservations.delete(requestId);
    const account = this.accounts.get(r.userId);
    const key = this.keys.get(r.keyId);
    if (account) account.reserved -= r.micros;
    if (key) key.reserved -= r.micros;
    return r;
  }
}


/** The store for one process: the figures above, behind the (asynchronous) store interface. */
export class MemoryLimitsStore implements LimitsStore {
  readonly shared = false;
  readonly figures = new MemoryFigures();

  async accountGeneration(userId: string) {
    return this.figures.accountGeneration(userId);
  }
  async seedAccount(userId: string, balanceMicros: number, generation: number) {
    return this.figures.seedAccount(userId, balanceMicros, generation);
  }
  async keyGeneration(keyId: string) {
    return this.figures.keyGeneration(keyId);
  }
  async seedKey(keyId: string, spentMicros: number, generation: number) {
    return this.figures.seedKey(keyId, spentMicros, generation);
  }
  async admit(a: Admission) {
    return this.figures.admit(a);
  }
  async hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number) {
    return this.figures.hold(userId, holdId, micros, now, ttlMs);
  }
  async settle(requestId: string, actual: Settlement) {
    this.figures.settle(requestId, actual);
  }
  async release(requestId: string) {
    this.figures.release(requestId);
  }
  async renew(requestId: string, now: number, ttlMs: number) {
    this.figures.renew(requestId, now, ttlMs);
  }
  async credit(userId: string, deltaMicros: number) {
    this.figures.credit(userId, deltaMicros);
  }
  async flushed(batchId: string, entries: Array<{ userId: string; keyId: string; costMicros: number }>) {
    this.figures.flushed(batchId, entries);
  }
  async peek(userId: string, keyId: string, limits: { rpmLimit: number | null; tpmLimit: number | null; maxBudgetMicros: number | null }, now: number) {
    return this.figures.peek(userId, keyId, limits, now);
  }
  async pending(userId: string) {
    return this.figures.pending(userId);
  }
  async sweep(now: number) {
    this.figures.sweep(now);
  }
  async acquireLease(keyId: string, holder: string, now: number, ttlMs: number): Promise<LeaseResult> {
    return this.figures.acquireLease(keyId, holder, now, ttlMs);
  }
  async renewLease(keyId: string, holder: string, now: number, ttlMs: number) {
    return this.figures.renewLease(keyId, holder, now, ttlMs);
  }
  async releaseLease(keyId: string, holder: string) {
    this.figures.releaseLease(keyId, holder);
  }
  async reservationsInFlight() {
    return this.figures.reservationsInFlight();
  }
  async close() {}
}

/** Drops what left the sliding window: admissions and token holds older than WINDOW_MS. */
function trim(key: KeyFigures, now: number): void {
  const cutoff = now - WINDOW_MS;
  let drop = 0;
  while (drop < key.requests.length && key.requests[drop] <= cutoff) drop++;
  if (drop) key.requests.splice(0, drop);
  drop = 0;
  while (drop < key.tokens.length && key.tokens[drop].at <= cutoff) {
    key.tokenSum -= key.tokens[drop].tokens;
    key.tokens[drop].expired = true;
    drop++;
  }
  if (drop) key.tokens.splice(0, drop);
}

function rateState(key: KeyFigures, rpmLimit: number | null, tpmLimit: number | null, now: number): RateState {
  return {
    rpmLimit,
    rpmRemaining: rpmLimit === null ? Infinity : Math.max(0, rpmLimit - key.requests.length),
    rpmResetMs: key.requests.length ? Math.max(0, key.requests[0] + WINDOW_MS - now) : 0,
    tpmLimit,
    tpmRemaining: tpmLimit === null ? Infinity : Math.max(0, tpmLimit - key.tokenSum),
    tpmResetMs: key.tokens.length ? Math.max(0, key.tokens[0].at + WINDOW_MS - now) : 0,
  };
}

const globalForLimits = globalThis as unknown as { __keygateLimits?: LimitsStore; __keygateLimitsSweep?: NodeJS.Timeout };

/**
 * The process's one store, shared by the gateway and Next's route handlers
 * (globalThis: Next bundles its own copy of lib/): Redis with REDIS_URL,
 * memory without.
 */
export function limits(): LimitsStore {
  if (!globalForLimits.__keygateLimits) {
    const store: LimitsStore = redisEnabled() ? new RedisLimitsStore() : new MemoryLimitsStore();
    globalForLimits.__keygateLimits = store;
    globalForLimits.__keygateLimitsSweep = setInterval(() => {
      store.sweep(Date.now()).catch(() => undefined);
    }, 5_000);
    globalForLimits.__keygateLimitsSweep.unref();
  }
  return globalForLimits.__keygateLimits;
}

/** Tests: forget the store (another REDIS_URL, or a fresh memory). */
export function resetLimitsStore(): void {
  if (globalForLimits.__keygateLimitsSweep) clearInterval(globalForLimits.__keygateLimitsSweep);
  globalForLimits.__keygateLimits = undefined;
  globalForLimits.__keygateLimitsSweep = undefined;
}

/**
 * A committed ledger change moves the balance the gateway decides with, from
 * the very next request, on every instance. Awaited by the writer before it
 * answers; in Redis mode a failure is retried in the background (see
 * RedisLimitsStore.credit) rather than failing a write that has committed.
 */
export async function accountBalanceChanged(userId: string, deltaMicros: bigint): Promise<void> {
  await limits().credit(userId, Number(deltaMicros));
}
