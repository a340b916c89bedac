import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryFigures } from "@/lib/limits/memory";
import { costMicros, WINDOW_MS, type Admission } from "@/lib/limits/store";
import { ADMISSION_DEFAULTS } from "@/test/admission";

/**
 * The limits store's promises, checked on the store alone with a controlled
 * clock: exact sliding-window rpm, budgets and balances that concurrent
 * reservations can never overdraw, and money that always comes back.
 */

function store(balance: number, spent = 0) {
  const s = new MemoryFigures();
  s.seedAccount("u", balance, s.accountGeneration("u"));
  s.seedKey("k", spent, s.keyGeneration("k"));
  return s;
}

let seq = 0;
function admission(overrides: Partial<Admission> = {}): Admission {
  return {
    revision: 0,
    requestId: `r${seq++}`,
    userId: "u",
    keyId: "k",
    now: 1_000_000,
    ...ADMISSION_DEFAULTS,
    ...overrides,
  };
}

describe("rpm: a sliding log, exact at the boundary", () => {
  it("admits request N and refuses N+1 within 60 s, and admits again only when the oldest leaves the window", () => {
    const s = store(1e12);
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) expect(s.admit(admission({ rpmLimit: 5, now: t0 + i * 1000 })).ok).toBe(true);
    const refused = s.admit(admission({ rpmLimit: 5, now: t0 + 10_000 }));
    expect(refused).toMatchObject({ ok: false, reason: "rpm", retryAfterMs: WINDOW_MS - 10_000 });
    // One millisecond before the first admission leaves the window: still refused.
    expect(s.admit(admission({ rpmLimit: 5, now: t0 + WINDOW_MS - 1 })).ok).toBe(false);
    expect(s.admit(admission({ rpmLimit: 5, now: t0 + WINDOW_MS })).ok).toBe(true);
    expect(s.admit(admission({ rpmLimit: 5, now: t0 + WINDOW_MS })).ok).toBe(false);
  });

  it("never admits more than N in any 60-second span, whatever the arrival times (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 }), (limit, gaps) => {
        const s = store(1e12);
        let now = 0;
        const admitted: number[] = [];
        for (const gap of gaps) {
          now += gap;
          if (s.admit(admission({ rpmLimit: limit, now })).ok) admitted.push(now);
        }
        for (let i = 0; i + limit < admitted.length; i++) {
          expect(admitted[i + limit] - admitted[i]).toBeGreaterThanOrEqual(WINDOW_MS);
        }
      }),
    );
  });
});

describe("money: reservations can never overdraw", () => {
  it("refuses with budget when the key's cap is the tighter limit, and with balance when the account's is", () => {
    const worst = costMicros(100, 100, 1_000_000, 1_000_000);
    expect(store(1e12).admit(admission({ maxBudgetMicros: worst - 1 }))).toMatchObject({ ok: false, reason: "budget" });
    expect(store(worst - 1).admit(admission({ maxBudgetMicros: 1e12 }))).toMatchObject({ ok: false, reason: "balance" });
    expect(store(worst).admit(admission({ maxBudgetMicros: worst }))).toMatchObject({ ok: true, reservedMicros: worst });
  });

  it("lowers max_tokens to what is affordable when the client set none, and refuses a prompt it cannot pay for", () => {
    const s = store(150);
    const lowered = s.admit(admission({ requestedMaxTokens: null }));
    expect(lowered).toMatchObject({ ok: true, lowered: true, maxTokens: 50, reservedMicros: 150 });
    expect(store(100).admit(admission({ requestedMaxTokens: null }))).toMatchObject({ ok: false, reason: "balance" });
  });

  it("reserves only the prompt for a request that generates nothing (requestedMaxTokens 0, an embedding), whatever the output price", () => {
    const prompt = costMicros(100, 0, 1_000_000, 1_000_000);
    expect(store(prompt).admit(admission({ requestedMaxTokens: 0 }))).toMatchObject({ ok: true, maxTokens: 0, lowered: false, reservedMicros: prompt });
    expect(store(prompt - 1).admit(admission({ requestedMaxTokens: 0 }))).toMatchObject({ ok: false, reason: "balance" });
  });

  it("keeps reserved + settled within the balance and the budget under any mix of admissions, settlements and releases (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("admit" as const),
        prompt: fc.integer({ min: 1, max: 500 }),
        estimateShare: fc.double({ min: 0, max: 1, noNaN: true }),
        max: fc.option(fc.integer({ min: 1, max: 500 })),
      }),
      fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("flush" as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 50_000 }), fc.array(op, { maxLength: 80 }), (balance, budget, ops) => {
        const s = store(balance);
        const open: Array<{ id: string; micros: number }> = [];
        let settled = 0;
        let flushed = 0;
        for (const o of ops) {
          if (o.kind === "admit") {
            // The estimate never changes what money holds: the bound does.
            const promptTokensEstimate = Math.max(1, Math.floor(o.prompt * o.estimateShare));
            const a = admission({
              promptTokens: o.prompt,
              promptTokensEstimate,
              requestedMaxTokens: o.max,
              maxBudgetMicros: budget,
              inputMicrosPerMTok: 50_000_000,
              outputMicrosPerMTok: 50_000_000,
            });
            const r = s.admit(a);
            if (r.ok) open.push({ id: a.requestId, micros: r.reservedMicros });
          } else if (o.kind === "flush") {
            s.flushed("b", [{ userId: "u", keyId: "k", costMicros: settled - flushed }]);
            flushed = settled;
          } else if (open.length) {
            const [r] = open.splice(o.pick % open.length, 1);
            if (o.kind === "settle") {
              const cost = Math.floor(r.micros * o.fraction);
              s.settle(r.id, { costMicros: cost, tokens: 0 });
              settled += cost;
            } else s.release(r.id);
          }
          const reserved = open.reduce((n, r) => n + r.micros, 0);
          expect(reserved + settled).toBeLessThanOrEqual(Math.min(balance, budget));
          expect(s.pending("u")).toEqual({ reservedMicros: reserved, unflushedMicros: settled - flushed });
        }
      }),
    );
  });

  it("gives a crashed holder's reservation back after its TTL", () => {
    const s = store(1000);
    expect(s.admit(admission({ promptTokens: 500, requestedMaxTokens: 500, ttlMs: 1000 })).ok).toBe(true);
    expect(s.admit(admission({ promptTokens: 500, requestedMaxTokens: 500 })).ok).toBe(false);
    s.sweep(1_000_000 + 1000);
    expect(s.pending("u").reservedMicros).toBe(0);
    expect(s.admit(admission({ promptTokens: 500, requestedMaxTokens: 500 })).ok).toBe(true);
  });

  it("does not seed an account from a balance read that a credit overtook", () => {
    const s = new MemoryFigures();
    const generation = s.accountGeneration("u");
    s.credit("u", 5_000_000);
    expect(s.seedAccount("u", 0, generation)).toBe(false);
    expect(s.seedAccount("u", 5_000_000, s.accountGeneration("u"))).toBe(true);
  });
});

describe("tpm: an estimate is held, never more than the limit, then settled to the real count", () => {
  // A prompt of 300 bytes (the money's bound) that is about 26 tokens (the window's estimate), with max_tokens 20.
  const big = { tpmLimit: 100, promptTokens: 300, promptTokensEstimate: 26, requestedMaxTokens: 20 };

  it("a key with tpmLimit 100 admits a request whose estimate fits although its byte bound does not", () => {
    const s = store(1e12);
    const r = s.admit(admission(big));
    expect(r).toMatchObject({ ok: true, maxTokens: 20, rate: { tpmLimit: 100, tpmRemaining: 100 - 46 } });
    // Money still holds the safe bound.
    expect(r).toMatchObject({ reservedMicros: costMicros(300, 20, 1_000_000, 1_000_000) });
  });

  it("refuses what would pass the limit, and frees the unused part at settlement", () => {
    const s = store(1e12);
    const tpm = { tpmLimit: 500, promptTokens: 400, promptTokensEstimate: 100, requestedMaxTokens: 200 };
    const first = admission(tpm);
    expect(s.admit(first)).toMatchObject({ ok: true, rate: { tpmRemaining: 200 } });
    expect(s.admit(admission(tpm))).toMatchObject({ ok: false, reason: "tpm", retryAfterMs: WINDOW_MS });
    s.settle(first.requestId, { costMicros: 10, tokens: 120 });
    expect(s.admit(admission(tpm))).toMatchObject({ ok: true, rate: { tpmRemaining: 80 } });
  });

  it("a request estimated above the whole tpmLimit runs in an empty window and waits otherwise", () => {
    const s = store(1e12);
    const t0 = 1_000_000;
    const huge = { tpmLimit: 100, promptTokens: 800, promptTokensEstimate: 200, requestedMaxTokens: 50 };
    const first = admission({ ...huge, now: t0 });
    // Alone in the window it runs, holding the whole limit (not refused forever).
    expect(s.admit(first)).toMatchObject({ ok: true, maxTokens: 50, rate: { tpmRemaining: 0 } });
    // Not beside anything else: even one more token waits for the window.
    expect(s.admit(admission({ ...big, now: t0 + 1_000 }))).toMatchObject({ ok: false, reason: "tpm", retryAfterMs: WINDOW_MS - 1_000 });
    s.settle(first.requestId, { costMicros: 0, tokens: 230 });
    expect(s.admit(admission({ ...huge, now: t0 + 2_000 }))).toMatchObject({ ok: false, reason: "tpm", retryAfterMs: WINDOW_MS - 2_000 });
    // Once its real count left the window, the next one runs.
    expect(s.admit(admission({ ...huge, now: t0 + WINDOW_MS }))).toMatchObject({ ok: true, rate: { tpmRemaining: 0 } });
  });

  it("settle replaces the estimate with the real count", () => {
    const s = store(1e12);
    const limits = { rpmLimit: null, tpmLimit: 100, maxBudgetMicros: null };
    const first = admission(big);
    expect(s.admit(first)).toMatchObject({ ok: true, rate: { tpmRemaining: 54 } });
    s.settle(first.requestId, { costMicros: 10, tokens: 30 });
    expect(s.peek("u", "k", limits, 1_000_000)?.rate.tpmRemaining).toBe(70);
    // A real count above the estimate is counted whole: the window waits for it.
    const second = admission(big);
    expect(s.admit(second)).toMatchObject({ ok: true, rate: { tpmRemaining: 70 - 46 } });
    s.settle(second.requestId, { costMicros: 10, tokens: 90 });
    expect(s.peek("u", "k", limits, 1_000_000)?.rate.tpmRemaining).toBe(0);
    expect(s.admit(admission(big))).toMatchObject({ ok: false, reason: "tpm" });
    // Released (nothing generated), a hold counts nothing.
    const s2 = store(1e12);
    const released = admission(big);
    expect(s2.admit(released).ok).toBe(true);
    s2.release(released.requestId);
    expect(s2.peek("u", "k", limits, 1_000_000)?.rate.tpmRemaining).toBe(100);
  });

  it("lowers a missing max_tokens to the window's room after the estimate (not the bound), and never below 1 for the window", () => {
    const s = store(1e12);
    const open = { tpmLimit: 100, promptTokens: 300, promptTokensEstimate: 20, requestedMaxTokens: null, modelMaxTokens: 1000 };
    expect(s.admit(admission({ ...open, promptTokensEstimate: 10, requestedMaxTokens: 30 }))).toMatchObject({ ok: true, rate: { tpmRemaining: 60 } });
    expect(s.admit(admission(open))).toMatchObject({ ok: true, lowered: true, maxTokens: 100 - 40 - 20, rate: { tpmRemaining: 0 } });
    // No room at all: not lowered to nothing, but refused until the window has room.
    expect(s.admit(admission(open))).toMatchObject({ ok: false, reason: "tpm" });
    // An estimate that fills the whole limit: not lowered for the window; it runs alone in an empty one.
    expect(store(1e12).admit(admission({ ...open, promptTokensEstimate: 100 }))).toMatchObject({
      ok: true,
      lowered: false,
      maxTokens: 1000,
      rate: { tpmRemaining: 0 },
    });
  });

  it("decides every admission by the estimate: admitted iff the window's tokens plus min(estimate + max_tokens, tpmLimit) fit, so an empty window always admits (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("admit" as const),
        prompt: fc.integer({ min: 1, max: 500 }),
        estimateShare: fc.double({ min: 0, max: 1, noNaN: true }),
        max: fc.option(fc.integer({ min: 1, max: 300 })),
      }),
      fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), tokens: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.array(op, { maxLength: 60 }), (tpmLimit, ops) => {
        const s = store(1e12);
        // The window as the key should count it (every call at one instant: nothing leaves it).
        const held = new Map<string, number>();
        const sum = () => [...held.values()].reduce((n, t) => n + t, 0);
        const open: string[] = [];
        for (const o of ops) {
          if (o.kind === "admit") {
            const a = admission({
              tpmLimit,
              promptTokens: o.prompt,
              promptTokensEstimate: Math.max(1, Math.floor(o.prompt * o.estimateShare)),
              requestedMaxTokens: o.max,
              modelMaxTokens: 300,
            });
            const before = sum();
            const r = s.admit(a);
            if (r.ok) {
              const hold = Math.min(a.promptTokensEstimate + r.maxTokens, tpmLimit);
              expect(before + hold).toBeLessThanOrEqual(tpmLimit);
              held.set(a.requestId, hold);
              open.push(a.requestId);
            } else {
              expect(r).toMatchObject({ reason: "tpm" });
              expect(before).toBeGreaterThan(0);
              const room = tpmLimit - before - a.promptTokensEstimate;
              const maxTokens = o.max ?? (room >= 1 && room < 300 ? room : 300);
              expect(before + Math.min(a.promptTokensEstimate + maxTokens, tpmLimit)).toBeGreaterThan(tpmLimit);
            }
          } else if (open.length) {
            const [id] = open.splice(o.pick % open.length, 1);
            if (o.kind === "settle") {
              s.settle(id, { costMicros: 0, tokens: o.tokens });
              held.set(id, o.tokens);
            } else {
              s.release(id);
              held.delete(id);
            }
          }
          expect(s.peek("u", "k", { rpmLimit: null, tpmLimit, maxBudgetMicros: null }, 1_000_000)?.rate.tpmRemaining).toBe(Math.max(0, tpmLimit - sum()));
        }
      }),
    );
  });
});
