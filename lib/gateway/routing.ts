import type { ProtocolAdapter, UpstreamTarget } from "@/lib/gateway/protocols";
import type { Translator } from "@/lib/gateway/translate/types";
import type { Cooling } from "@/lib/limits";

/**
 * Which routes a request tries, in which order, and when an upstream is
 * skipped. A model's routes are tried by `priority` (lower first); routes of
 * equal priority share traffic by `weight`; a route cooling down is skipped;
 * no route is tried twice; at most KEYGATE_MAX_ATTEMPTS are tried. Attempts
 * move on only before the first byte reaches the client (lib/gateway/proxy.ts).
 */

/** One way to serve a model: an upstream, and the model's name there. */
export interface Route {
  /** The upstream's name (`env-openai` for the environment's). */
  upstream: string;
  /**
   * What its cooldown and failure streak are kept under: the name and the
   * URL, so an upstream whose address an operator changes starts afresh.
   */
  cooldownKey: string;
  upstreamModel: string;
  priority: number;
  weight: number;
  target: UpstreamTarget;
  /** The adapter of the protocol the upstream speaks (the client's own, or the one a translator writes). */
  adapter: ProtocolAdapter;
  /** Between the client's API and the upstream's protocol; null when they are the same. */
  translator: Translator | null;
  /** The upstream's own timeout, or null for KEYGATE_UPSTREAM_TIMEOUT_MS. */
  timeoutMs: number | null;
}

/** Upstream statuses that move a request on to its next route (and count against the upstream). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504, 529]);

/**
 * The routes to try, in order, or how long until the first of them stops
 * cooling down when every one is. `random` is injectable for tests.
 */
export function planAttempts(
  routes: readonly Route[],
  cooling: Cooling,
  maxAttempts: number,
  random: () => number = Math.random,
): { routes: Route[] } | { coolingMs: number } {
  const ready = cooling.size ? routes.filter((r) => !cooling.has(r.cooldownKey)) : routes;
  if (ready.length === 0) {
    let soonest = Infinity;
    for (const r of routes) soonest = Math.min(soonest, cooling.get(r.cooldownKey) ?? Infinity);
    return { coolingMs: Number.isFinite(soonest) ? soonest : 0 };
  }
  if (ready.length === 1) return { routes: [ready[0]] };
  // Weighted order without replacement within a priority (Efraimidis–Spirakis: sort by u^(1/w), largest first).
  const keyed = ready.map((r) => ({ r, key: Math.pow(random(), 1 / Math.max(1, r.weight)) }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || b.key - a.key);
  return { routes: keyed.slice(0, Math.max(1, maxAttempts)).map((k) => k.r) };
}

/** Retryable failures in a row after which an upstream cools down. */
export const FAILURES_BEFORE_COOLDOWN = 3;

const globalForRouting = globalThis as unknown as { __keygateFailureStreaks?: Map<string, number> };

function streaks(): Map<string, number> {
  return (globalForRouting.__keygateFailureStreaks ??= new Map());
}

/**
 * Notes an attempt's outcome for its upstream and returns how long to cool
 * it down, or null. A 429 cools it at once; other retryable failures after
 * `failuresBeforeCooldown` in a row (KEYGATE_COOLDOWN_AFTER_FAILURES, 3;
 * counted by this instance); any answer
 * that is not a failure ends the streak. The cooldown is `cooldownMs`, or
 * the upstream's Retry-After when that is longer.
 */
export function noteAttempt(
  upstream: string,
  outcome: { failed: boolean; status: number | null; retryAfterMs: number | null },
  cooldownMs: number,
  failuresBeforeCooldown = FAILURES_BEFORE_COOLDOWN,
): number | null {
  const s = streaks();
  if (!outcome.failed) {
    if (s.size) s.delete(upstream);
    return null;
  }
  const streak = (s.get(upstream) ?? 0) + 1;
  if (outcome.status !== 429 && streak < failuresBeforeCooldown) {
    s.set(upstream, streak);
    return null;
  }
  s.delete(upstream);
  return Math.max(cooldownMs, outcome.retryAfterMs ?? 0);
}

/** An upstream's key for cooldowns and failure streaks. */
export function cooldownKey(upstream: string, url: string): string {
  return `${upstream} ${url}`;
}

/** Tests: forgets every failure streak (cooldowns live in the limits store: endCooldown). */
export function forgetFailures(): void {
  streaks().clear();
}

/** Retry-After as milliseconds (seconds or an HTTP date), or null. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.min(seconds, 86_400) * 1000 : null;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), 86_400_000) : null;
}
