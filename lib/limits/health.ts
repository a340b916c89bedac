import { limits } from "@/lib/limits";

/**
 * Each upstream's health, for the operators' list (GET /api/admin/upstreams):
 * whether it is cooling down (from the limits store, so every instance agrees)
 * and its requests and errors over the last five minutes. The counts are this
 * instance's own, kept in one-minute buckets: with several instances each
 * shows the traffic it relayed (Prometheus's keygate_upstream_requests_total
 * sums them across instances).
 */

export interface UpstreamHealth {
  state: "ok" | "cooling_down";
  coolingDownUntil: string | null;
  requests5m: number;
  errors5m: number;
}

const BUCKET_MS = 60_000;
const BUCKETS = 5;

interface Counts {
  /** Minute number of each bucket (Date.now() / BUCKET_MS), so a stale bucket is known and reset. */
  minute: number[];
  requests: number[];
  errors: number[];
}

const globalForHealth = globalThis as unknown as { __keygateUpstreamCounts?: Map<string, Counts> };

function counts(): Map<string, Counts> {
  return (globalForHealth.__keygateUpstreamCounts ??= new Map());
}

/** Counts one attempt at an upstream: `failed` is a connection error, a timeout, or a status the gateway retries on. */
export function recordUpstreamAttempt(upstream: string, failed: boolean, now = Date.now()): void {
  let c = counts().get(upstream);
  if (!c) counts().set(upstream, (c = { minute: new Array(BUCKETS).fill(-1), requests: new Array(BUCKETS).fill(0), errors: new Array(BUCKETS).fill(0) }));
  const minute = Math.floor(now / BUCKET_MS);
  const i = minute % BUCKETS;
  if (c.minute[i] !== minute) {
    c.minute[i] = minute;
    c.requests[i] = 0;
    c.errors[i] = 0;
  }
  c.requests[i]++;
  if (failed) c.errors[i]++;
}

function lastFiveMinutes(upstream: string, now: number): { requests: number; errors: number } {
  const c = counts().get(upstream);
  if (!c) return { requests: 0, errors: 0 };
  const minute = Math.floor(now / BUCKET_MS);
  let requests = 0;
  let errors = 0;
  for (let i = 0; i < BUCKETS; i++) {
    if (c.minute[i] > minute - BUCKETS) {
      requests += c.requests[i];
      errors += c.errors[i];
    }
  }
  return { requests, errors };
}

/** Health per upstream name (cooldowns from the limits store, request counts from the last five minutes). */
export async function upstreamHealth(names: string[]): Promise<Map<string, UpstreamHealth>> {
  // Cooldowns are kept by name and URL (lib/gateway/routing.ts): the longest one left under each name counts.
  const byName = new Map<string, number>();
  for (const [key, left] of await limits().cooldowns()) {
    const space = key.indexOf(" ");
    const name = space < 0 ? key : key.slice(0, space);
    byName.set(name, Math.max(byName.get(name) ?? 0, left));
  }
  const cooling = byName;
  const now = Date.now();
  return new Map(
    names.map((name) => {
      const left = cooling.get(name);
      const { requests, errors } = lastFiveMinutes(name, now);
      return [
        name,
        {
          state: left === undefined ? "ok" : "cooling_down",
          coolingDownUntil: left === undefined ? null : new Date(now + left).toISOString(),
          requests5m: requests,
          errors5m: errors,
        },
      ];
    }),
  );
}
