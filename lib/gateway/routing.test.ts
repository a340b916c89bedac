import { afterEach, describe, expect, it } from "vitest";
import { adapterFor } from "@/lib/gateway/protocols";
import { cooldownKey, FAILURES_BEFORE_COOLDOWN, forgetFailures, noteAttempt, planAttempts, retryAfterMs, type Route } from "@/lib/gateway/routing";
import { MemoryFigures } from "@/lib/limits/memory";

/** Routing decisions (PRODUCT.md, "Upstreams and routing"): the order routes are tried in, and when an upstream cools down. */

function route(upstream: string, priority = 0, weight = 1): Route {
  const url = `http://127.0.0.1/${upstream}`;
  return {
    upstream,
    cooldownKey: cooldownKey(upstream, url),
    upstreamModel: "m",
    priority,
    weight,
    target: { url, headers: {} },
    adapter: adapterFor("openai"),
    translator: null,
    timeoutMs: null,
  };
}

/** A seeded generator (mulberry32), so statistical checks never flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const none = new Map<string, number>();
const names = (p: ReturnType<typeof planAttempts>) => ("routes" in p ? p.routes.map((r) => r.upstream) : p);

describe("the order routes are tried in", () => {
  it("tries lower priority first, never a route twice, and at most maxAttempts routes", () => {
    const routes = [route("c", 2), route("a", 0), route("b", 1), route("d", 3)];
    expect(names(planAttempts(routes, none, 3))).toEqual(["a", "b", "c"]);
    expect(names(planAttempts(routes, none, 10))).toEqual(["a", "b", "c", "d"]);
    expect(names(planAttempts(routes, none, 1))).toEqual(["a"]);
  });

  it("shares traffic within a priority by weight (1:3 within statistical bounds over 20,000 requests), and falls back to the other", () => {
    const random = seeded(42);
    const routes = [route("light", 0, 1), route("heavy", 0, 3), route("backup", 1)];
    let heavyFirst = 0;
    for (let i = 0; i < 20_000; i++) {
      const plan = names(planAttempts(routes, none, 3, random)) as string[];
      expect(plan).toHaveLength(3);
      expect(new Set(plan).size).toBe(3);
      expect(plan[2]).toBe("backup");
      if (plan[0] === "heavy") heavyFirst++;
    }
    // Expected 0.75; five standard deviations of a binomial share at n = 20,000 is about ±0.015.
    expect(heavyFirst / 20_000).toBeGreaterThan(0.735);
    expect(heavyFirst / 20_000).toBeLessThan(0.765);
  });

  it("skips routes cooling down, and when all are, says how long until the first is back", () => {
    const routes = [route("a", 0), route("b", 1)];
    expect(names(planAttempts(routes, new Map([[routes[0].cooldownKey, 5_000]]), 3))).toEqual(["b"]);
    expect(
      planAttempts(
        routes,
        new Map([
          [routes[0].cooldownKey, 5_000],
          [routes[1].cooldownKey, 2_000],
        ]),
        3,
      ),
    ).toEqual({ coolingMs: 2_000 });
  });
});

describe("when an upstream cools down", () => {
  afterEach(() => forgetFailures());
  const fail = (status: number | null, retryAfter: number | null = null) => noteAttempt("u", { failed: true, status, retryAfterMs: retryAfter }, 30_000);
  const ok = () => noteAttempt("u", { failed: false, status: 200, retryAfterMs: null }, 30_000);

  it(`after ${FAILURES_BEFORE_COOLDOWN} retryable failures in a row, for KEYGATE_COOLDOWN_S or a longer Retry-After`, () => {
    expect(fail(500)).toBeNull();
    expect(fail(null)).toBeNull();
    expect(fail(503)).toBe(30_000);
    expect(fail(502)).toBeNull(); // the streak starts again
    expect(fail(502)).toBeNull();
    expect(fail(502, 120_000)).toBe(120_000);
  });

  it("waits for KEYGATE_COOLDOWN_AFTER_FAILURES failures in a row when it is set, but a 429 still cools at once", () => {
    for (let i = 0; i < 9; i++) expect(noteAttempt("u", { failed: true, status: 503, retryAfterMs: null }, 30_000, 10)).toBeNull();
    expect(noteAttempt("u", { failed: true, status: 503, retryAfterMs: null }, 30_000, 10)).toBe(30_000);
    expect(noteAttempt("u", { failed: true, status: 429, retryAfterMs: null }, 30_000, 10)).toBe(30_000);
  });

  it("an answer that is not a failure ends the streak", () => {
    expect(fail(500)).toBeNull();
    expect(fail(500)).toBeNull();
    expect(ok()).toBeNull();
    expect(fail(500)).toBeNull();
    expect(fail(500)).toBeNull();
  });

  it("a 429 cools it at once, for the longer of KEYGATE_COOLDOWN_S and Retry-After", () => {
    expect(fail(429)).toBe(30_000);
    expect(fail(429, 5_000)).toBe(30_000);
    expect(fail(429, 90_000)).toBe(90_000);
  });

  it("reads Retry-After in seconds or as an HTTP date, and ignores nonsense", () => {
    const now = Date.parse("2026-12-07T10:00:00Z");
    expect(retryAfterMs("12", now)).toBe(12_000);
    expect(retryAfterMs("Mon, 07 Dec 2026 10:01:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs("-5", now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});

describe("cooldowns in the limits store", () => {
  it("keeps the longer cooldown, reports what is left with admissions and leases, and forgets ended ones", () => {
    const f = new MemoryFigures();
    f.coolDown("a", 10_000, 1_000);
    f.coolDown("a", 5_000, 2_000); // shorter: kept at 11,000
    f.coolDown("b", 1_000, 1_000);
    expect(f.cooling(1_500)).toEqual(
      new Map([
        ["a", 9_500],
        ["b", 500],
      ]),
    );
    expect(f.cooling(2_000)).toEqual(new Map([["a", 9_000]]));
    expect(f.acquireLease("k", "h", 3_000, 1_000)).toEqual({ ok: true, cooling: new Map([["a", 8_000]]) });
    f.endCooldown("a");
    expect(f.cooling(3_000).size).toBe(0);
  });
});
