/**
 * The limits store for one process: each operation is one synchronous step
 * with no await inside, which JavaScript runs without interleaving. It is also
 * the reference for the rules: redis.ts runs the same ones in Lua
 * (scripts/*.lua), and test/redis-limits.test.ts checks that both decide alike.
 */

import {
  costMicros,
  rateState,
  tpmHold,
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
  type RefusalReason,
  type Settlement,
  type WrittenEntry,
} from "@/lib/limits/store";

interface AccountFigures {
  balance: number;
  unflushed: number;
  reserved: number;
}

/** A key's money for one budget period (or its lifetime): what its maxBudget is checked against. */
interface KeyMoney {
  spent: number;
  unflushed: number;
  reserved: number;
  /** When its period ends (null: lifetime): the sweep forgets it a day later, once nothing is in flight or unflushed. */
  endsAt: number | null;
}

/** A key's rpm and tpm window (whatever its budget period). */
interface KeyWindow {
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

/** A usage record waiting in the outbox: given to a writer (owner) or not yet. */
interface OutboxItem {
  record: string;
  addedAt: number;
  owner: string | null;
  givenAt: number;
}

interface Reservation {
  userId: string;
  keyId: string;
  /** The key money it reserved from: the period it was admitted in (moneyKey), charged there even if settled after the period ended. */
  money: string;
  micros: number;
  expiresAt: number;
  hold: TokenHold | null;
}

const NONE_COOLING: Cooling = new Map();

/** How long a past period's money is kept after the period ends (late settlements of requests admitted in it still count there). */
const PERIOD_GRACE_MS = 86_400_000;

/**
 * The in-memory figures, with synchronous operations (one step each, no
 * await): MemoryLimitsStore wraps them in the store interface, and the unit
 * tests drive them directly with a controlled clock.
 */
export class MemoryFigures {
  private accounts = new Map<string, AccountFigures>();
  private generations = new Map<string, number>();
  /** Keys' money by moneyKey(key, period start): spend is kept per period, so a new period starts from zero with nothing to reset. */
  private keys = new Map<string, KeyMoney>();
  private windows = new Map<string, KeyWindow>();
  private reservations = new Map<string, Reservation>();
  private leases = new Map<string, { holder: string; expiresAt: number }>();
  private keyGenerations = new Map<string, number>();
  /** Reservations the sweep dropped, by request: whose cost a late settle still counts. */
  private swept = new Map<string, { userId: string; keyId: string; money: string }>();
  /** Upstreams cooling down: when each cooldown ends. */
  private coolingUntil = new Map<string, number>();
  /** Usage records on their way to the database, oldest first (Map keeps insertion order), as Redis's stream and consumer group do. */
  private outbox = new Map<string, OutboxItem>();
  private outboxSeq = 0;

  acquireLease(keyId: string, holder: string, now: number, ttlMs: number): { ok: true; cooling: Cooling } | { ok: false; retryAfterMs: number } {
    const held = this.leases.get(keyId);
    if (held && held.holder !== holder && held.expiresAt > now) return { ok: false, retryAfterMs: held.expiresAt - now };
    this.leases.set(keyId, { holder, expiresAt: now + ttlMs });
    return { ok: true, cooling: this.cooling(now) };
  }

  coolDown(upstream: string, ms: number, now: number): void {
    this.coolingUntil.set(upstream, Math.max(this.coolingUntil.get(upstream) ?? 0, now + ms));
  }

  endCooldown(upstream: string): void {
    this.coolingUntil.delete(upstream);
  }

  /** The upstreams still cooling at `now`, with what each has left (ended ones are forgotten). */
  cooling(now: number): Cooling {
    if (this.coolingUntil.size === 0) return NONE_COOLING;
    const left = new Map<string, number>();
    for (const [name, until] of this.coolingUntil) {
      if (until > now) left.set(name, until - now);
      else this.coolingUntil.delete(name);
    }
    return left;
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

  /** Seeds a key's settled spend: of its lifetime, or (with `period`) of the budget period starting at period.start. */
  seedKey(keyId: string, spentMicros: number, generation: number, period?: KeyPeriod): boolean {
    const id = moneyKey(keyId, period?.start ?? 0);
    if (this.keys.has(id)) return true;
    if ((this.keyGenerations.get(keyId) ?? 0) !== generation) return false;
    this.keys.set(id, { spent: spentMicros, unflushed: 0, reserved: 0, endsAt: period ? period.end : null });
    return true;
  }

  private window(keyId: string): KeyWindow {
    let w = this.windows.get(keyId);
    if (!w) this.windows.set(keyId, (w = { requests: [], tokens: [], tokenSum: 0 }));
    return w;
  }

  admit(a: Admission): AdmitResult {
    const account = this.accounts.get(a.userId);
    const money = moneyKey(a.keyId, a.periodStart ?? 0);
    const spend = this.keys.get(money);
    if (!account || !spend) return { ok: false, reason: "unseeded", account: !account, key: !spend };
    const key = this.window(a.keyId);
    trim(key, a.now);
    const rate = rateOf(key, a.rpmLimit, a.tpmLimit, a.now);
    const accountAvailable = account.balance - account.unflushed - account.reserved;
    const keyAvailable = a.maxBudgetMicros === null ? Infinity : a.maxBudgetMicros - spend.spent - spend.unflushed - spend.reserved;
    const available = Math.max(0, Math.min(accountAvailable, keyAvailable));
    const moneyReason: RefusalReason = keyAvailable < accountAvailable ? "budget" : "balance";
    const refuse = (reason: RefusalReason, retryAfterMs: number | null): AdmitResult => ({ ok: false, reason, retryAfterMs, availableMicros: available, rate });

    if (a.rpmLimit !== null && key.requests.length >= a.rpmLimit) return refuse("rpm", rate.rpmResetMs);

    // The output tokens this request may produce: the client's max_tokens whole,
    // or else the model's maximum lowered to what the money and the tpm window allow.
    // Money counts the prompt's bound (promptTokens); the window, its estimate.
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
        // Never below 1 for the window's sake: tpmHold's cap lets a request larger than the room run once the window is empty.
        const room = a.tpmLimit - key.tokenSum - a.promptTokensEstimate;
        if (room < maxTokens && room >= 1) {
          maxTokens = room;
          lowered = true;
        }
      }
    }
    const tokens = a.tpmLimit === null ? 0 : tpmHold(a.promptTokensEstimate, maxTokens, a.tpmLimit);
    if (a.tpmLimit !== null && key.tokenSum + tokens > a.tpmLimit) return refuse("tpm", rate.tpmResetMs);
    // A request that generates nothing (an embedding: requestedMaxTokens 0) reserves its prompt alone.
    if (maxTokens < 1 && a.requestedMaxTokens !== 0) return refuse(moneyReason, null);
    const micros = costMicros(a.promptTokens, maxTokens, a.inputMicrosPerMTok, a.outputMicrosPerMTok);
    if (micros > available) return refuse(moneyReason, null);

    // Every check passed: take everything in the same step.
    key.requests.push(a.now);
    let hold: TokenHold | null = null;
    if (a.tpmLimit !== null) {
      hold = { at: a.now, tokens };
      key.tokens.push(hold);
      key.tokenSum += tokens;
    }
    account.reserved += micros;
    spend.reserved += micros;
    this.reservations.set(a.requestId, { userId: a.userId, keyId: a.keyId, money, micros, expiresAt: a.now + a.ttlMs, hold });
    return { ok: true, maxTokens, lowered, reservedMicros: micros, rate: rateOf(key, a.rpmLimit, a.tpmLimit, a.now), cooling: this.cooling(a.now) };
  }

  hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number): HoldResult {
    const account = this.accounts.get(userId);
    if (!account) return { ok: false, reason: "unseeded" };
    const available = account.balance - account.unflushed - account.reserved;
    if (available < micros) return { ok: false, reason: "short", availableMicros: Math.max(0, available) };
    account.reserved += micros;
    this.reservations.set(holdId, { userId, keyId: "", money: "", micros, expiresAt: now + ttlMs, hold: null });
    return { ok: true };
  }

  settle(requestId: string, actual: Settlement, record?: string, now = Date.now()): void {
    const r = this.take(requestId);
    // A reservation swept before its holder settled (it stalled past the TTL): its cost still counts, once.
    const owner = r ?? this.swept.get(requestId);
    this.swept.delete(requestId);
    if (!owner) {
      // Nothing to end: already settled (scripts/prelude.lua's finish explains the rule). A free record is written anyway.
      if (record !== undefined && actual.costMicros === 0) this.addRecord(record, now);
      return;
    }
    const account = this.accounts.get(owner.userId);
    const money = this.keys.get(owner.money);
    if (account) account.unflushed += actual.costMicros;
    if (money) money.unflushed += actual.costMicros;
    // A period's spend is also the key's lifetime spend (kept when seeded: read if its period is cleared).
    const lifetime = owner.money !== owner.keyId ? this.keys.get(owner.keyId) : undefined;
    if (lifetime) lifetime.unflushed += actual.costMicros;
    const key = r && this.windows.get(r.keyId);
    if (key && r?.hold && !r.hold.expired) {
      key.tokenSum += actual.tokens - r.hold.tokens;
      r.hold.tokens = actual.tokens;
    }
    if (record !== undefined) this.addRecord(record, now);
  }

  /** A record with no reservation to end (a subscription key's request, which costs nothing). */
  record(record: string, now = Date.now()): void {
    this.addRecord(record, now);
  }

  private addRecord(record: string, now: number): void {
    this.outbox.set(`${now}-${this.outboxSeq++}`, { record, addedAt: now, owner: null, givenAt: 0 });
  }

  /** Up to `count` entries: the consumer's unacknowledged ones first, then new ones, now given to it. */
  takeUsage(consumer: string, count: number, now = Date.now()): OutboxEntry[] {
    const own: OutboxEntry[] = [];
    for (const [id, item] of this.outbox) {
      if (own.length >= count) break;
      if (item.owner === consumer) {
        item.givenAt = now;
        own.push({ id, record: item.record });
      }
    }
    // Then new ones, up to count: a round that retries a failed write also writes what arrived since.
    for (const [id, item] of this.outbox) {
      if (own.length >= count) break;
      if (item.owner === null) {
        item.owner = consumer;
        item.givenAt = now;
        own.push({ id, record: item.record });
      }
    }
    return own;
  }

  claimUsage(consumer: string, idleMs: number, count: number, now = Date.now()): OutboxEntry[] {
    const claimed: OutboxEntry[] = [];
    for (const [id, item] of this.outbox) {
      if (claimed.length >= count) break;
      if (item.owner !== null && now - item.givenAt >= idleMs) {
        item.owner = consumer;
        item.givenAt = now;
        claimed.push({ id, record: item.record });
      }
    }
    return claimed;
  }

  /** Only an entry given to a writer and still here moves money: the first acknowledgement, as XACK's answer of 1. */
  ackUsage(entries: WrittenEntry[]): void {
    for (const e of entries) {
      const item = this.outbox.get(e.id);
      if (!item || item.owner === null) continue;
      this.outbox.delete(e.id);
      if (e.costMicros !== 0) this.flushed("", [e]);
    }
  }

  usageBacklog(): OutboxBacklog {
    const first = this.outbox.values().next();
    return { waiting: this.outbox.size, oldestAt: first.done ? null : first.value.addedAt };
  }

  release(requestId: string): void {
    const r = this.take(requestId);
    const key = r && this.windows.get(r.keyId);
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

  flushed(_batchId: string, entries: FlushedEntry[]): void {
    for (const e of entries) {
      this.generations.set(e.userId, (this.generations.get(e.userId) ?? 0) + 1);
      this.keyGenerations.set(e.keyId, (this.keyGenerations.get(e.keyId) ?? 0) + 1);
      const account = this.accounts.get(e.userId);
      if (account) {
        account.unflushed -= e.costMicros;
        account.balance -= e.costMicros;
      }
      const key = this.keys.get(moneyKey(e.keyId, e.periodStart ?? 0));
      if (key) {
        key.unflushed -= e.costMicros;
        key.spent += e.costMicros;
      }
      // A period's spend is also the key's lifetime spend (kept when seeded: read if its period is cleared).
      const lifetime = e.periodStart ? this.keys.get(e.keyId) : undefined;
      if (lifetime) {
        lifetime.unflushed -= e.costMicros;
        lifetime.spent += e.costMicros;
      }
    }
  }

  peek(userId: string, keyId: string, limits: KeyLimits, now: number): KeySnapshot | null {
    const account = this.accounts.get(userId);
    const money = this.keys.get(moneyKey(keyId, limits.periodStart ?? 0));
    if (!account || !money) return null;
    const key = this.window(keyId);
    trim(key, now);
    const accountAvailable = account.balance - account.unflushed - account.reserved;
    const keyAvailable = limits.maxBudgetMicros === null ? null : limits.maxBudgetMicros - money.spent - money.unflushed - money.reserved;
    return {
      rate: rateOf(key, limits.rpmLimit, limits.tpmLimit, now),
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
        this.swept.set(id, { userId: r.userId, keyId: r.keyId, money: r.money });
      }
    }
    // A past period's money, a day after it ended: nothing can be admitted in it any more, and nothing of it is pending.
    for (const [id, m] of this.keys) {
      if (m.endsAt !== null && m.endsAt + PERIOD_GRACE_MS <= now && m.reserved === 0 && m.unflushed === 0) this.keys.delete(id);
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
    const key = this.keys.get(r.money);
    if (account) account.reserved -= r.micros;
    if (key) key.reserved -= r.micros;
    return r;
  }
}

/** The store for one process: the figures above, behind the (asynchronous) store interface. */
export class MemoryLimitsStore implements LimitsStore {
  readonly shared = false;
  private readonly figures = new MemoryFigures();

  async accountGeneration(userId: string) {
    return this.figures.accountGeneration(userId);
  }
  async seedAccount(userId: string, balanceMicros: number, generation: number) {
    return this.figures.seedAccount(userId, balanceMicros, generation);
  }
  async keyGeneration(keyId: string) {
    return this.figures.keyGeneration(keyId);
  }
  async seedKey(keyId: string, spentMicros: number, generation: number, period?: KeyPeriod) {
    return this.figures.seedKey(keyId, spentMicros, generation, period);
  }
  async admit(a: Admission) {
    return this.figures.admit(a);
  }
  async hold(userId: string, holdId: string, micros: number, now: number, ttlMs: number) {
    return this.figures.hold(userId, holdId, micros, now, ttlMs);
  }
  async settle(requestId: string, actual: Settlement, record?: string) {
    this.figures.settle(requestId, actual, record);
  }
  async record(_requestId: string, record: string) {
    this.figures.record(record);
  }
  async takeUsage(consumer: string, count: number) {
    return this.figures.takeUsage(consumer, count);
  }
  async claimUsage(consumer: string, idleMs: number, count: number) {
    return this.figures.claimUsage(consumer, idleMs, count);
  }
  async ackUsage(entries: WrittenEntry[]) {
    this.figures.ackUsage(entries);
  }
  async usageBacklog() {
    return this.figures.usageBacklog();
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
  async flushed(batchId: string, entries: FlushedEntry[]) {
    this.figures.flushed(batchId, entries);
  }
  async peek(userId: string, keyId: string, limits: KeyLimits, now: number) {
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
  async coolDown(upstream: string, ms: number) {
    this.figures.coolDown(upstream, ms, Date.now());
  }
  async cooldowns() {
    return this.figures.cooling(Date.now());
  }
  async endCooldown(upstream: string) {
    this.figures.endCooldown(upstream);
  }
  async reservationsInFlight() {
    return this.figures.reservationsInFlight();
  }
  async close() {}
}

/** A key's money entry: its lifetime's (period start 0: the key id, as before periods), or one budget period's. */
function moneyKey(keyId: string, periodStart: number): string {
  return periodStart ? `${keyId}@${periodStart}` : keyId;
}

/** Drops what left the sliding window: admissions and token holds older than WINDOW_MS. */
function trim(key: KeyWindow, now: number): void {
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

/** The rate-limit state of a trimmed window. */
function rateOf(key: KeyWindow, rpmLimit: number | null, tpmLimit: number | null, now: number) {
  const w = {
    requests: key.requests.length,
    oldestRequestAt: key.requests[0] ?? 0,
    tokenSum: key.tokenSum,
    holds: key.tokens.length,
    oldestHoldAt: key.tokens[0]?.at ?? 0,
  };
  return rateState(w, rpmLimit, tpmLimit, now);
}
