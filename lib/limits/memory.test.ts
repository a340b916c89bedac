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

  it("keeps reserved + settled within the balance and the budget under any mix of admissions, settlements and releases (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("admit" as const), prompt: fc.integer({ min: 1, max: 500 }), max: fc.option(fc.integer({ min: 1, max: 500 })) }),
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
            const a = admission({ promptTokens: o.prompt, requestedMaxTokens: o.max, maxBudgetMicros: budget, inputMicrosPerMTok: 50_000_000, outputMicrosPerMTok: 50_000_000 });
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

describe("tpm: the worst case is held, then settled to the real count", () => {
  it("refuses what would pass the tpm limit, and frees the unused part at settlement", () => {
    const s = store(1e12);
    const first = admission({ tpmLimit: 500, promptTokens: 100, requestedMaxTokens: 200 });
    expect(s.admit(first)).toMatchObject({ ok: true, rate: { tpmRemaining: 200 } });
    expect(s.admit(admission({ tpmLimit: 500, promptTokens: 100, requestedMaxTokens: 200 }))).toMatchObject({ ok: false, reason: "tpm" });
    s.settle(first.requestId, { costMicros: 10, tokens: 120 });
    expect(s.admit(admission({ tpmLimit: 500, promptTokens: 100, requestedMaxTokens: 200 })).ok).toBe(true);
  });
});
