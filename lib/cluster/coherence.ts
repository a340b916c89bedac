import { logger } from "@/lib/ops/logger";
import { call, onRedisReconnect, redisEnabled } from "@/lib/cluster/redis";
import { redact } from "@/lib/log";

/**
 * Cache coherence between instances: every write to a key, a subscription, a
 * pool, the model catalogue or the upstreams invalidates this process's cache at once and
 * then announces the change in Redis: one script bumps the revision counter
 * `kg:rev` and appends {kind, id} to the stream `kg:inval` under that
 * revision. Every gateway admission (the one Redis script a request runs
 * anyway) carries the revision this instance has caught up to; when Redis
 * has a newer one, the script refuses with "stale", the instance reads the
 * missed entries, drops those cache entries and decides again. So a key
 * paused through instance A is refused by instance B on B's next request,
 * without waiting for a TTL or a pub/sub message, and at no extra round trip
 * in steady state. Paths without an admission (GET /v1/models,
 * POST /api/keys/verify, the management API's mk_ keys) call sync() first:
 * one GET.
 *
 * Without REDIS_URL everything here is a no-op: one process invalidates its
 * own caches synchronously.
 */

export type InvalidationKind = "key" | "keyHash" | "subscription" | "pool" | "catalogue" | "upstreams";

/** Entries kept in the stream; an instance further behind than this drops its whole cache instead. */
const STREAM_MAX = 10_000;

interface CoherenceState {
  /** The revision this process has applied; -1 forces a full refresh on the next check. */
  revision: number;
  handlers: Map<InvalidationKind, (id: string) => void>;
  clearAll: Map<InvalidationKind, () => void>;
  catchingUp: Promise<void> | null;
  /** Announcements Redis did not take (it was down); retried until it does. */
  unsent: Array<{ kind: InvalidationKind; id: string }>;
  retryTimer: NodeJS.Timeout | null;
  hooked: boolean;
}

const globalForCoherence = globalThis as unknown as { __keygateCoherence?: CoherenceState };

function registry(): CoherenceState {
  return (globalForCoherence.__keygateCoherence ??= {
    revision: -1,
    handlers: new Map(),
    clearAll: new Map(),
    catchingUp: null,
    unsent: [],
    retryTimer: null,
    hooked: false,
  });
}

/** The registry, hooked to Redis reconnects the first time it is used with Redis (never at import: env() may not be valid yet). */
function state(): CoherenceState {
  const s = registry();
  if (!s.hooked && redisEnabled()) {
    s.hooked = true;
    // Away from Redis, this process may have missed announcements: refresh everything before the next decision.
    onRedisReconnect(() => {
      s.revision = -1;
    });
  }
  return s;
}

/** Each cache registers how to drop one entry, and everything, of its kind. */
export function onInvalidation(kind: InvalidationKind, one: (id: string) => void, all: () => void): void {
  const s = registry();
  s.handlers.set(kind, one);
  s.clearAll.set(kind, all);
}

/** The revision to send with an admission (0 without Redis: nothing to compare). */
export function localRevision(): number {
  return redisEnabled() ? state().revision : 0;
}

const ANNOUNCE = `
local rev = redis.call('INCR', 'kg:rev')
redis.call('XADD', 'kg:inval', 'MAXLEN', '~', ARGV[3], rev .. '-0', 'k', ARGV[1], 'i', ARGV[2])
return rev`;

/**
 * Tells every other instance that `kind`/`id` changed. The caller has already
 * dropped its own entry. Awaited before a write answers, so the change holds
 * everywhere by the time the writer hears "done". If Redis is down the
 * announcement is retried every second; meanwhile no instance can admit
 * anything (admission needs Redis), and each one refreshes all its caches
 * when Redis comes back.
 */
export async function announce(kind: InvalidationKind, id: string): Promise<void> {
  if (!redisEnabled()) return;
  try {
    await call((c) => c.eval(ANNOUNCE, 0, kind, id, String(STREAM_MAX)));
  } catch (err) {
    logger().error(`could not announce a ${kind} change to other instances; retrying: ${redact(err instanceof Error ? err.message : String(err))}`);
    const s = state();
    s.unsent.push({ kind, id });
    s.retryTimer ??= setInterval(() => void retryUnsent(), 1_000);
    s.retryTimer.unref();
  }
}

async function retryUnsent(): Promise<void> {
  const s = state();
  while (s.unsent.length) {
    const { kind, id } = s.unsent[0];
    try {
      await call((c) => c.eval(ANNOUNCE, 0, kind, id, String(STREAM_MAX)));
    } catch {
      return;
    }
    s.unsent.shift();
  }
  if (s.retryTimer) clearInterval(s.retryTimer);
  s.retryTimer = null;
}

/** Applies every announcement after our revision up to `target` (from a "stale" refusal, or a GET). One at a time. */
export function catchUp(target: number): Promise<void> {
  const s = state();
  if (s.revision === target) return Promise.resolve();
  if (s.catchingUp) return s.catchingUp.then(() => catchUp(target));
  const run = applyUpTo(s, target).finally(() => {
    s.catchingUp = null;
  });
  s.catchingUp = run;
  return run;
}

async function applyUpTo(s: CoherenceState, target: number): Promise<void> {
  const from = s.revision;
  if (from < 0 || target < from) {
    // First contact, a reconnect, or Redis lost its data: start from nothing.
    clearEverything(s);
    s.revision = target;
    return;
  }
  const entries = await call((c) => c.xrange("kg:inval", `(${from}-0`, `${target}-0`));
  const first = entries.length ? Number(entries[0][0].split("-")[0]) : null;
  if (entries.length !== target - from || first !== from + 1) {
    // Some were trimmed away (this process was far behind): drop everything rather than guess.
    clearEverything(s);
  } else {
    for (const [, fields] of entries) {
      const kind = fields[1] as InvalidationKind;
      s.handlers.get(kind)?.(fields[3]);
    }
  }
  s.revision = target;
}

function clearEverything(s: CoherenceState): void {
  for (const fn of s.clearAll.values()) fn();
}

/** For paths that make no admission: one GET, then catch up if behind. */
export async function sync(): Promise<void> {
  if (!redisEnabled()) return;
  const current = Number((await call((c) => c.get("kg:rev"))) ?? 0);
  await catchUp(current);
}
