/**
 * The limits store's contract: every number the gateway decides with (rpm
 * and tpm windows, the account balance and the key's spend, in-flight
 * reservations, subscription-key leases), behind one interface whose every
 * operation is one atomic step. Two stores keep it, with the same rules:
 * memory.ts (one process) and redis.ts (several instances, one Lua script an
 * operation, scripts/*.lua). index.ts picks one.
 *
 * Money is integer micro-dollars (JavaScript numbers: exact below 2^53, about
 * $9 billion). See ../shared/ACCOUNTING.md for the design this follows:
 *   available(account) = balance − unflushed − reserved
 *   available(key)     = maxBudget − spent − unflushed(key) − reserved(key)
 * where a key with a budget period keeps these per period (Admission.periodStart).
 *
 * This file imports nothing: both stores and the factory import it, never
 * each other.
 */

/** The sliding window of rpmLimit and tpmLimit. */
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
  /**
   * The start (ms) of the key's budget period this request is admitted in
   * (lib/limits/periods.ts keyPeriodStart); 0 or absent: a lifetime budget.
   * maxBudget is checked against that period's spend, and the reservation is
   * charged to it even when it settles after the period ended.
   */
  periodStart?: number;
  /** An upper bound on the prompt's tokens (its UTF-8 bytes are one): what the money reservation holds. */
  promptTokens: number;
  /** An estimate of the prompt's tokens (its text at about 4 bytes a token): what the tpm window holds until settled. */
  promptTokensEstimate: number;
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  /** The client's own max_tokens, which must fit whole; null lets the store lower the model's maximum to what fits; 0: the request generates nothing (embeddings), so only its prompt is reserved. */
  requestedMaxTokens: number | null;
  modelMaxTokens: number;
}

/** A key's limits as peek() reads them. */
export interface KeyLimits {
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxBudgetMicros: number | null;
  /** The budget period whose spend maxBudget is checked against (0 or absent: lifetime). */
  periodStart?: number;
}

/** A budget period whose spend the store keeps: when it started and ends (ms). */
export interface KeyPeriod {
  start: number;
  end: number;
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
type Retry = { ok: false; reason: "stale"; revision: number } | { ok: false; reason: "unseeded"; account: boolean; key: boolean };

/**
 * Upstreams cooling down (lib/gateway/routing.ts skips them), by name: the
 * milliseconds each has left. Read in the same atomic step as an admission or
 * a lease, so routing around a failing upstream costs no extra round trip.
 */
export type Cooling = ReadonlyMap<string, number>;

export type AdmitResult = { ok: true; maxTokens: number; lowered: boolean; reservedMicros: number; rate: RateState; cooling: Cooling } | Refused | Retry;

export type HoldResult = { ok: true } | { ok: false; reason: "unseeded" } | { ok: false; reason: "short"; availableMicros: number };

export type LeaseResult = { ok: true; cooling: Cooling } | { ok: false; retryAfterMs: number } | { ok: false; reason: "stale"; revision: number };

export interface Settlement {
  costMicros: number;
  /** The request's real tokens (input + output): what its tpm hold becomes. */
  tokens: number;
}

/** Settled usage written to the database, one entry a request. */
export interface FlushedEntry {
  userId: string;
  keyId: string;
  costMicros: number;
  /** The budget period the request was admitted in (0 or absent: lifetime): whose spend it joins. */
  periodStart?: number;
}

/**
 * A usage record in the store's outbox, on its way to the database. The store
 * adds it in the same atomic step as its settlement, so the money counted as
 * unflushed and the record that will write it down are never apart (a crash
 * of the process that settled it loses neither, with Redis).
 */
export interface OutboxEntry {
  /** Its place in the outbox: "<ms>-<seq>", the time it was added first (a Redis stream id). */
  id: string;
  /** The record, opaque to the store (lib/usage/writer.ts encodes and decodes it). */
  record: string;
}

/** An outbox entry whose record is in the database: its ack moves `costMicros` from unflushed to settled, once. */
export interface WrittenEntry extends FlushedEntry {
  id: string;
}

/** How many records wait in the outbox (given to a writer or not), and when the oldest was added (ms), or null. */
export interface OutboxBacklog {
  waiting: number;
  oldestAt: number | null;
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
  /** The same for a key's settled spend: of its lifetime, or (with `period`) of that budget period, kept apart per period start. */
  keyGeneration(keyId: string): Promise<number>;
  seedKey(keyId: string, spentMicros: number, generation: number, period?: KeyPeriod): Promise<boolean>;
  /** Checks rpm, tpm, the key's budget and the account's balance, and reserves all of them, or nothing. */
  admit(a: Admission): Promise<AdmitResult>;
  /**
   * Reserves `micros` of an account's balance for a charge about to be
   * written (a subscription), in the same atomic step admissions take, so the
   * charge and requests in flight can never together overdraw it. End it with
   * release() after the charge is committed and credited (or abandoned).
   */
  hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number): Promise<HoldResult>;
  /**
   * Ends a reservation at its real cost: the cost moves to unflushed, the tpm
   * hold to the real token count, and `record` (the request's usage record)
   * joins the outbox, all in one step. A reservation already ended (a retried
   * step whose first answer was lost) is left alone, record included.
   * Resolves once the step is applied (Redis: after the round trip that
   * carries it, or once it waits in the backlog for an unreachable Redis).
   */
  settle(requestId: string, actual: Settlement, record?: string): Promise<void>;
  /** Adds the usage record of a request that reserved nothing (a subscription key's, at no cost) to the outbox. */
  record(requestId: string, record: string): Promise<void>;
  /** Ends a reservation without cost (upstream refused the request before any output). */
  release(requestId: string): Promise<void>;
  /** Extends a reservation's life while its stream is open. */
  renew(requestId: string, now: number, ttlMs: number): Promise<void>;
  /** A committed ledger change (a grant, a top-up, a subscription charge). */
  credit(userId: string, deltaMicros: number): Promise<void>;
  /** Usage written to the database (batch `batchId`, applied once): it leaves unflushed and joins the settled balance and spend. */
  flushed(batchId: string, entries: FlushedEntry[]): Promise<void>;
  /**
   * Up to `count` outbox entries for writer `consumer` to write: first those
   * it was given before and has not acknowledged (its last write failed),
   * then new ones in the same answer, so the round that retries a failed
   * write also writes what arrived since. An entry is given to one consumer
   * at a time.
   */
  takeUsage(consumer: string, count: number): Promise<OutboxEntry[]>;
  /** Entries given to another consumer and not acknowledged for `idleMs` (its process died, or stalled): now `consumer`'s. */
  claimUsage(consumer: string, idleMs: number, count: number): Promise<OutboxEntry[]>;
  /**
   * Entries whose records are in the database: each leaves the outbox, and
   * its cost leaves unflushed and joins the settled balance and spend, on the
   * first acknowledgement only (two writers that both wrote it move it once).
   */
  ackUsage(entries: WrittenEntry[]): Promise<void>;
  /** The outbox's size and age (metrics). */
  usageBacklog(): Promise<OutboxBacklog>;
  /** What a key has left, without reserving anything (POST /api/keys/verify); null when the store has not seen the key or account. */
  peek(userId: string, keyId: string, limits: KeyLimits, now: number): Promise<KeySnapshot | null>;
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
  /** Puts an upstream in cooldown for `ms` (a longer cooldown already running is kept), for every instance sharing the store. */
  coolDown(upstream: string, ms: number): Promise<void>;
  /** Every upstream cooling down now, with the milliseconds it has left (health in the admin API). */
  cooldowns(): Promise<Cooling>;
  /** Ends an upstream's cooldown now (an operator's reset, tests). */
  endCooldown(upstream: string): Promise<void>;
  /** Reservations in flight in this store (metrics). */
  reservationsInFlight(): Promise<number>;
  /** Shutdown: sends whatever is still waiting to be applied (settlements, retries). */
  close(): Promise<void>;
}

export function costMicros(inputTokens: number, outputTokens: number, inputMicrosPerMTok: number, outputMicrosPerMTok: number): number {
  // Rounded up to the micro-dollar: never charge less than the price.
  return Math.ceil((inputTokens * inputMicrosPerMTok + outputTokens * outputMicrosPerMTok) / 1_000_000);
}

/**
 * The tokens an admission holds in its key's tpm window until it settles to
 * the real count: an estimate (the prompt's, plus the output cap; at least one
 * output token), never more than the whole limit. A rate limit is not money,
 * so the window never holds the prompt's byte bound; and a request estimated
 * above the whole limit still runs, alone in an otherwise empty window,
 * instead of being refused forever. Admitted iff tokens in the window + this
 * hold ≤ tpmLimit. scripts/admit.lua computes the same.
 */
export function tpmHold(promptTokensEstimate: number, maxTokens: number, tpmLimit: number): number {
  return Math.min(promptTokensEstimate + Math.max(1, maxTokens), tpmLimit);
}

/** A key's window as both stores count it: admissions and token holds in the last WINDOW_MS. */
export interface WindowFigures {
  requests: number;
  /** When the oldest counted admission was made (ignored without any). */
  oldestRequestAt: number;
  tokenSum: number;
  holds: number;
  oldestHoldAt: number;
}

/** What the rate-limit headers say, from a key's window at `now`. */
export function rateState(w: WindowFigures, rpmLimit: number | null, tpmLimit: number | null, now: number): RateState {
  return {
    rpmLimit,
    rpmRemaining: rpmLimit === null ? Infinity : Math.max(0, rpmLimit - w.requests),
    rpmResetMs: w.requests ? Math.max(0, w.oldestRequestAt + WINDOW_MS - now) : 0,
    tpmLimit,
    tpmRemaining: tpmLimit === null ? Infinity : Math.max(0, tpmLimit - w.tokenSum),
    tpmResetMs: w.holds ? Math.max(0, w.oldestHoldAt + WINDOW_MS - now) : 0,
  };
}
