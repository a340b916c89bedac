import { describe, expect, it } from "vitest";
import { appendEntry } from "@/lib/billing/ledger";
import { prisma } from "@/lib/db";
import { write } from "@/lib/writes/unit";
import { responseSchema } from "@/lib/openapi";
import { call, createUser, expectError, grant, type ApiResponse, type TestUser } from "./api";
import { createCreditKey, createManagementKey, testActor } from "./fixtures";

/** GET /api/billing/ledger: the caller's credit ledger, newest first, a page at a time. */

function expectDocumented(res: ApiResponse) {
  const schema = responseSchema("GET", "/api/billing/ledger", res.status);
  expect(schema, `GET /api/billing/ledger answered ${res.status}, which is not documented: ${res.text}`).toBeDefined();
  const parsed = schema!.safeParse(res.json);
  expect(parsed.success, parsed.error?.message).toBe(true);
}

async function page(token: string, query = "") {
  const res = await call("GET", `/api/billing/ledger${query}`, { token });
  expectDocumented(res);
  return res;
}

/** Entries written straight into the ledger at chosen times, as the gateway and subscriptions would. */
async function seed(user: TestUser, entries: Array<{ kind: "grant" | "topup" | "usage" | "subscription"; micros: number; note?: string; at: string }>) {
  for (const e of entries) {
    await write(testActor(user.id), async (tx, after) => {
      const row = await appendEntry(tx, after, { userId: user.id, kind: e.kind, amountMicros: BigInt(e.micros), note: e.note });
      await tx.ledgerEntry.update({ where: { id: row.id }, data: { createdAt: new Date(e.at) } });
    });
  }
}

async function allPages(token: string, limit: number) {
  const seen: Array<Record<string, unknown>> = [];
  const cursors: Array<string | null> = [];
  let cursor: string | null = null;
  do {
    const res = await page(token, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.length).toBeLessThanOrEqual(limit);
    seen.push(...res.json.data);
    cursor = res.json.nextCursor;
    cursors.push(cursor);
  } while (cursor);
  return { seen, cursors };
}

describe("GET /api/billing/ledger", () => {
  it("lists every kind of entry, newest first, with signed USD amounts, notes and times", async () => {
    const user = await createUser();
    await seed(user, [
      { kind: "grant", micros: 20_000_000, note: "Welcome credit", at: "2026-03-01T10:00:00.000Z" },
      { kind: "topup", micros: 25_500_000, note: "Card top-up (Stripe cs_test_1)", at: "2026-03-02T10:00:00.000Z" },
      { kind: "usage", micros: -4_200, note: "Usage: 3 requests", at: "2026-03-03T10:00:00.000Z" },
      { kind: "subscription", micros: -9_990_000, at: "2026-03-04T10:00:00.000Z" },
    ]);
    const res = await page(user.token);
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.nextCursor).toBeNull();
    expect(res.json.data.map((e: Record<string, unknown>) => ({ ...e, id: typeof e.id }))).toEqual([
      { id: "string", kind: "subscription", amount: -9.99, note: null, createdAt: "2026-03-04T10:00:00.000Z" },
      { id: "string", kind: "usage", amount: -0.0042, note: "Usage: 3 requests", createdAt: "2026-03-03T10:00:00.000Z" },
      { id: "string", kind: "topup", amount: 25.5, note: "Card top-up (Stripe cs_test_1)", createdAt: "2026-03-02T10:00:00.000Z" },
      { id: "string", kind: "grant", amount: 20, note: "Welcome credit", createdAt: "2026-03-01T10:00:00.000Z" },
    ]);
  });

  it("shows an operator's grant made through the API, and is empty for a new account", async () => {
    const user = await createUser();
    const empty = await page(user.token);
    expect(empty.json).toEqual({ success: true, data: [], nextCursor: null });
    const granted = await grant(user.email, 12.34);
    const res = await page(user.token);
    expect(res.json.data).toEqual([{ id: granted.entryId, kind: "grant", amount: 12.34, note: "Operator grant", createdAt: expect.any(String) }]);
  });

  it("pages through everything exactly once, newest first, even when entries share a timestamp", async () => {
    const user = await createUser();
    const same = "2026-05-05T05:05:05.000Z";
    await seed(user, [
      { kind: "grant", micros: 1_000_000, at: "2026-05-01T00:00:00.000Z" },
      { kind: "usage", micros: -1, at: same },
      { kind: "usage", micros: -2, at: same },
      { kind: "usage", micros: -3, at: same },
      { kind: "topup", micros: 5_000_000, at: "2026-05-09T00:00:00.000Z" },
    ]);
    const whole = (await page(user.token)).json.data as Array<{ id: string; createdAt: string }>;
    expect(whole).toHaveLength(5);
    for (let i = 1; i < whole.length; i++) expect(whole[i - 1].createdAt >= whole[i].createdAt).toBe(true);

    const { seen, cursors } = await allPages(user.token, 2);
    expect(seen.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    expect(cursors).toHaveLength(3);
    expect(cursors[2]).toBeNull();
    // limit=5 on 5 entries: one full page and no cursor, not an empty second page.
    expect((await page(user.token, "?limit=5")).json.nextCursor).toBeNull();
  });

  it("answers 50 entries when limit is omitted, with a cursor to the rest", async () => {
    const user = await createUser();
    const db = await prisma();
    const base = Date.parse("2026-06-01T00:00:00.000Z");
    await db.ledgerEntry.createMany({
      data: Array.from({ length: 53 }, (_, i) => ({
        userId: user.id,
        kind: "usage" as const,
        amountMicros: BigInt(-1 - i),
        createdAt: new Date(base + i * 1000),
      })),
    });
    const first = await page(user.token);
    expect(first.json.data).toHaveLength(50);
    expect(first.json.data[0].amount).toBe(-0.000053);
    const rest = await page(user.token, `?cursor=${first.json.nextCursor}`);
    expect(rest.json.data.map((e: { amount: number }) => e.amount)).toEqual([-0.000003, -0.000002, -0.000001]);
    expect(rest.json.nextCursor).toBeNull();
  });

  it("accepts a management key, and refuses consumption keys (403) and anonymous callers (401)", async () => {
    const user = await createUser({ creditUsd: 3 });
    const mk = await createManagementKey(user);
    const res = await page(mk.apiKey);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toHaveLength(1);
    const sk = await createCreditKey(user);
    expectError(await page(sk.apiKey), 403, "consumption_key_not_allowed");
    expectError(await call("GET", "/api/billing/ledger"), 401);
  });

  it("refuses a malformed limit or cursor with 400, and an unknown cursor with 404 invalid_cursor", async () => {
    const user = await createUser({ creditUsd: 1 });
    for (const q of ["?limit=0", "?limit=101", "?limit=abc", "?limit=1e1", `?cursor=${"x".repeat(65)}`]) {
      expectError(await page(user.token, q), 400, "validation_error");
    }
    expectError(await page(user.token, "?cursor=no-such-entry"), 404, "invalid_cursor");
  });
});

describe("ledger isolation between accounts", () => {
  it("never shows Bob Alice's entries, and treats her entry ID as a cursor like a made-up one (404)", async () => {
    const alice = await createUser({ creditUsd: 40 });
    const bob = await createUser({ creditUsd: 2 });
    await seed(alice, [{ kind: "usage", micros: -1_000, note: "Alice's usage", at: "2026-07-01T00:00:00.000Z" }]);

    const bobs = await page(bob.token);
    expect(bobs.json.data).toHaveLength(1);
    expect(bobs.json.data[0]).toMatchObject({ kind: "grant", amount: 2 });
    expect(bobs.text).not.toContain("Alice");

    const alices = (await page(alice.token)).json.data as Array<{ id: string }>;
    expect(alices).toHaveLength(2);
    for (const entry of alices) {
      const res = await page(bob.token, `?cursor=${entry.id}`);
      expectError(res, 404, "invalid_cursor");
      expect(res.text).not.toContain(entry.id);
    }
    const bobMk = await createManagementKey(bob);
    expect((await page(bobMk.apiKey)).json.data.map((e: { id: string }) => e.id)).toEqual(bobs.json.data.map((e: { id: string }) => e.id));
  });
});
