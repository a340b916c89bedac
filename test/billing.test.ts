import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { appendEntry } from "@/lib/billing/ledger";
import { resetEnvCache } from "@/lib/env";
import { write } from "@/lib/writes/unit";
import { ADMIN_TOKEN, call, createUser, expectError, grant } from "./api";
import { createCreditKey, createManagementKey, testActor } from "./fixtures";

async function balance(token: string): Promise<number> {
  const res = await call("GET", "/api/billing/status", { token });
  expect(res.status, res.text).toBe(200);
  return res.json.data.balance;
}

async function ledgerAmounts(userId: string): Promise<bigint[]> {
  const rows = await (await prisma()).ledgerEntry.findMany({ where: { userId } });
  // Two grants may share a millisecond, so compare as a sorted multiset.
  return rows.map((r) => r.amountMicros).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe("admin credit grants (POST /api/admin/credits)", () => {
  it("adds a grant to the balance exactly: 0.1 + 0.2 is 0.3, kept as integer micro-dollars in the ledger", async () => {
    const user = await createUser();
    const first = await grant(user.email, 0.1);
    expect(first).toMatchObject({ email: user.email, amountUsd: 0.1, balanceUsd: 0.1 });
    const second = await grant(user.email, 0.2);
    expect(second.balanceUsd).toBe(0.3);
    expect(await balance(user.token)).toBe(0.3);
    expect(await ledgerAmounts(user.id)).toEqual([BigInt(100_000), BigInt(200_000)]);
  });

  it("answers a grant with 201 and the native envelope holding the new balance", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: user.email, amountUsd: 12.5, note: "welcome" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toMatchObject({ email: user.email, amountUsd: 12.5, balanceUsd: 12.5 });
    expect(typeof res.json.data.entryId).toBe("string");
    const [row] = await (await prisma()).ledgerEntry.findMany({ where: { userId: user.id } });
    expect(row).toMatchObject({ kind: "grant", amountMicros: BigInt(12_500_000), note: "welcome" });
  });

  it("accepts any amount with exactly 6 decimals, large ones included, and keeps every micro-dollar", async () => {
    const user = await createUser();
    await grant(user.email, 132781.659508);
    await grant(user.email, 0.000001);
    expect(await balance(user.token)).toBe(132781.659509);
    expect(await ledgerAmounts(user.id)).toEqual([BigInt(1), BigInt(132_781_659_508)]);
  });

  it("refuses amounts with more than 6 decimals, zero, negative or non-numeric with 400, writing nothing", async () => {
    const user = await createUser();
    for (const amountUsd of [0.0000001, 1.0000001, 0.30000000000000004, 0, -5, "10", null, 1_000_001]) {
      const res = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: user.email, amountUsd } });
      expectError(res, 400, "validation_error");
      expect(res.text).toContain("amountUsd");
    }
    expect(await ledgerAmounts(user.id)).toEqual([]);
    expect(await balance(user.token)).toBe(0);
  });

  it("refuses a missing or wrong admin token with 401 and WWW-Authenticate, and a non-operator's session with 404, writing nothing", async () => {
    const user = await createUser();
    const body = { email: user.email, amountUsd: 100 };
    for (const token of [undefined, "wrong-admin-token-0123456789abcdef", ADMIN_TOKEN + "x"]) {
      const res = await call("POST", "/api/admin/credits", { token, body });
      expectError(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
    }
    expectError(await call("POST", "/api/admin/credits", { token: user.token, body }), 404, "not_found");
    const mk = await createManagementKey(user);
    expectError(await call("POST", "/api/admin/credits", { token: mk.apiKey, body }), 401, "unauthorized");
    expect(await ledgerAmounts(user.id)).toEqual([]);
  });

  it("answers a grant to an unknown email with 404 not_found", async () => {
    const res = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: "nobody-here@example.com", amountUsd: 1 } });
    expectError(res, 404, "not_found");
  });

  it("is switched off (404 admin_disabled) when ADMIN_API_TOKEN is unset", async () => {
    const user = await createUser();
    const saved = process.env.ADMIN_API_TOKEN;
    process.env.ADMIN_API_TOKEN = "";
    resetEnvCache();
    try {
      const res = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: user.email, amountUsd: 1 } });
      expectError(res, 404, "admin_disabled");
    } finally {
      process.env.ADMIN_API_TOKEN = saved;
      resetEnvCache();
    }
    expect(await ledgerAmounts(user.id)).toEqual([]);
  });
});

describe("billing status (GET /api/billing/status)", () => {
  it("reports balance, spend this period, subscriptions and key counts for the caller", async () => {
    const user = await createUser({ creditUsd: 7.25 });
    const a = await createCreditKey(user);
    await createCreditKey(user);
    await call("PUT", `/api/keys/${a.id}`, { token: user.token, body: { isActive: false } });
    await createManagementKey(user);

    const res = await call("GET", "/api/billing/status", { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    const data = res.json.data;
    expect(data).toMatchObject({
      currency: "USD",
      balance: 7.25,
      spendThisPeriod: 0,
      activeSubscriptions: [],
      keys: {
        credit: { total: 2, active: 1 },
        subscription: { total: 0, active: 0 },
        management: { total: 1, active: 1 },
      },
    });
    const start = Date.parse(data.period.start);
    const end = Date.parse(data.period.end);
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(end).toBeGreaterThan(Date.now());
  });

  it("counts usage debits of this period as spend and subtracts them from the balance", async () => {
    const user = await createUser({ creditUsd: 10 });
    await write(testActor(user.id), (tx, after) => appendEntry(tx, after, { userId: user.id, kind: "usage", amountMicros: BigInt(-1_234_567) }));
    const res = await call("GET", "/api/billing/status", { token: user.token });
    expect(res.json.data.balance).toBe(8.765433);
    expect(res.json.data.spendThisPeriod).toBe(1.234567);
  });

  it("lets a credit key be created once the balance is above zero, and not before", async () => {
    const user = await createUser();
    expectError(await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k" } }), 402, "insufficient_balance");
    expectError(await call("POST", "/api/keys", { token: user.token, body: { name: "k" } }), 402, "insufficient_balance");
    await grant(user.email, 0.000001);
    expect((await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k" } })).status).toBe(201);
  });
});
