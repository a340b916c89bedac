import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { call, createUser, expectError } from "./api";
import { createCreditKey, createManagementKey, FUTURE, FUTURE_ISO, insertSubscriptionKey, listKeys } from "./fixtures";

/** The fields every item of GET /api/keys carries (the CheapestInference API's list, minus apiKey). */
const LIST_FIELDS = [
  "id",
  "name",
  "keyPlan",
  "keyType",
  "keyPrefix",
  "isActive",
  "maxBudget",
  "spend",
  "rpmLimit",
  "tpmLimit",
  "expiresAt",
  "subscriptionId",
  "subscriptionStatus",
  "subscriptionExpiresAt",
  "createdAt",
  "lastUsedAt",
];

describe("consumption keys", () => {
  it("creates a credit key whose secret is returned once and never listed", async () => {
    const user = await createUser({ creditUsd: 10 });
    const created = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "client_42" } });
    expect(created.status, created.text).toBe(201);
    const apiKey: string = created.json.data.apiKey;
    expect(apiKey).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(created.json.data).toMatchObject({ name: "client_42", keyType: "credit", keyPlan: "credits", isActive: true, rpmLimit: 60 });

    const list = await call("GET", "/api/keys", { token: user.token });
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    expect(list.json.data[0].keyPrefix).toBe(apiKey.slice(0, 16));
    expect(list.text).not.toContain(apiKey.slice(16));
    expect(list.json.data[0]).not.toHaveProperty("apiKey");
  });

  it("refuses a credit key with a clear 402 while the balance is zero", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k" } });
    expectError(res, 402, "insufficient_balance");
    expect(await listKeys(user)).toEqual([]);
  });

  it("creates a credit key with maxBudget, rpm, tpm and expiresAt, and stores the budget as integer micro-dollars", async () => {
    const user = await createUser({ creditUsd: 50 });
    const res = await call("POST", "/api/keys/credit", {
      token: user.token,
      body: { name: "limited", maxBudget: 25.5, rpm: 120, tpm: 50_000, expiresAt: FUTURE },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toMatchObject({
      name: "limited",
      keyType: "credit",
      keyPlan: "credits",
      isActive: true,
      maxBudget: 25.5,
      spend: 0,
      rpmLimit: 120,
      tpmLimit: 50_000,
      expiresAt: FUTURE_ISO,
    });

    const [listed] = await listKeys(user);
    expect(listed).toMatchObject({ id: res.json.data.id, maxBudget: 25.5, rpmLimit: 120, tpmLimit: 50_000, expiresAt: FUTURE_ISO });

    const row = await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: res.json.data.id } });
    expect(row.maxBudgetMicros).toBe(BigInt(25_500_000));
    expect(row.expiresAt?.toISOString()).toBe(FUTURE_ISO);
  });

  it("defaults a credit key to 60 rpm, no tpm limit, no budget cap and no expiry", async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "defaults" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toMatchObject({ rpmLimit: 60, tpmLimit: null, maxBudget: null, expiresAt: null, spend: 0, lastUsedAt: null });
    expect(Date.parse(res.json.data.createdAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("accepts expires_at as the spelling of expiresAt when creating a credit key", async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "snake", expires_at: FUTURE } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data.expiresAt).toBe(FUTURE_ISO);
    expect((await listKeys(user))[0].expiresAt).toBe(FUTURE_ISO);
  });

  it("lists every consumption key with the documented fields and without any secret material", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { name: "listed" });
    const [item] = await listKeys(user);
    for (const field of LIST_FIELDS) expect(item, `missing ${field}`).toHaveProperty(field);
    expect(item.prefix).toBe(item.keyPrefix);
    for (const forbidden of ["apiKey", "key", "keyHash", "userId"]) expect(item).not.toHaveProperty(forbidden);
    expect(item).toMatchObject({ id: key.id, name: "listed", keyPlan: "credits", keyType: "credit", isActive: true });
  });

  it("lists subscription keys beside credit keys, newest first, with keyPlan pool", async () => {
    const user = await createUser({ creditUsd: 5 });
    const credit = await createCreditKey(user, { name: "client_42" });
    const pool = await insertSubscriptionKey(user);
    const list = await listKeys(user);
    expect(list.map((k) => k.id)).toEqual([pool.id, credit.id]);
    expect(list[0]).toMatchObject({
      name: "prod-key",
      keyPlan: "pool",
      keyType: "subscription",
      isActive: true,
      subscriptionId: pool.subscriptionId,
      subscriptionStatus: "active",
    });
    expect(list[0].keyPrefix).toBe(pool.keyPrefix);
    expect(pool.keyPrefix).toMatch(/^sk_pool_[0-9A-Za-z]{8}$/);
    expect(list[1]).toMatchObject({ keyPlan: "credits", keyType: "credit" });
  });

  it("refuses budget, rate and expiry changes on a subscription key with 422 but lets it be renamed", async () => {
    const user = await createUser();
    const pool = await insertSubscriptionKey(user, "pool");
    const refused = await call("PUT", `/api/keys/${pool.id}`, { token: user.token, body: { maxBudget: 10 } });
    expectError(refused, 422, "not_applicable");
    expect((await listKeys(user))[0].maxBudget).toBeNull();

    const renamed = await call("PUT", `/api/keys/${pool.id}`, { token: user.token, body: { name: "renamed pool" } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.data).toMatchObject({ name: "renamed pool", keyType: "subscription" });
  });

  it("answers POST /api/keys/subscription with 409 no_active_subscription while the caller has no subscription", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    for (const [token, body] of [
      [user.token, undefined],
      [mk.apiKey, undefined],
      [mk.apiKey, { subscriptionId: "subscription_uuid" }],
      [user.token, {}],
    ] as const) {
      const res = await call("POST", "/api/keys/subscription", { token, body });
      expectError(res, 409, "no_active_subscription");
    }
    expect(await listKeys(user)).toEqual([]);
  });

  it("updates name, budget, rpm, tpm and expiry with PUT and persists them", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const res = await call("PUT", `/api/keys/${key.id}`, {
      token: user.token,
      body: { name: "renamed", maxBudget: 12.345678, rpm: 10, tpm: 1000, expires_at: FUTURE },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    const expected = { id: key.id, name: "renamed", maxBudget: 12.345678, rpmLimit: 10, tpmLimit: 1000, expiresAt: FUTURE_ISO };
    expect(res.json.data).toMatchObject(expected);
    expect((await listKeys(user))[0]).toMatchObject(expected);
  });

  it("clears the budget cap, tpm limit and expiry when PUT sends null", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { maxBudget: 5, tpm: 100, expiresAt: FUTURE });
    const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { maxBudget: null, tpm: null, expiresAt: null } });
    expect(res.status, res.text).toBe(200);
    expect((await listKeys(user))[0]).toMatchObject({ maxBudget: null, tpmLimit: null, expiresAt: null });

    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { expiresAt: FUTURE } });
    expect((await listKeys(user))[0].expiresAt).toBe(FUTURE_ISO);
    const snake = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { expires_at: null } });
    expect(snake.status, snake.text).toBe(200);
    expect((await listKeys(user))[0].expiresAt).toBeNull();
  });

  it("deactivates a key with isActive:false: it stays listed as inactive and the management API keeps working", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ id: key.id, isActive: false });

    const list = await listKeys(user);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: key.id, isActive: false });
    const row = await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.isActive).toBe(false);

    const another = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "still works" } });
    expect(another.status, another.text).toBe(201);
  });

  it("deactivates with the ModelSwitch API's active:false through a management key, which keeps working, and reactivates with active:true", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const off = await call("PUT", `/api/keys/${key.id}`, { token: mk.apiKey, body: { active: false } });
    expect(off.status, off.text).toBe(200);
    expect(off.json.data.isActive).toBe(false);
    const viaMk = await listKeys(user, mk.apiKey);
    expect(viaMk).toHaveLength(1);
    expect(viaMk[0]).toMatchObject({ id: key.id, isActive: false });
    const on = await call("PUT", `/api/keys/${key.id}`, { token: mk.apiKey, body: { active: true } });
    expect(on.status, on.text).toBe(200);
    expect((await listKeys(user))[0].isActive).toBe(true);
  });

  it("accepts both spellings at once when they agree", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false, active: false } });
    expect(res.status, res.text).toBe(200);
    expect((await listKeys(user))[0].isActive).toBe(false);
  });

  it("deletes a key with {deleted:true}, removes it from the list and the database, and 404s a second delete", async () => {
    const user = await createUser({ creditUsd: 5 });
    const keep = await createCreditKey(user, { name: "keep" });
    const gone = await createCreditKey(user, { name: "gone" });
    const res = await call("DELETE", `/api/keys/${gone.id}`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, data: { deleted: true } });
    expect((await listKeys(user)).map((k) => k.id)).toEqual([keep.id]);
    expect(await (await prisma()).apiKey.findUnique({ where: { id: gone.id } })).toBeNull();

    expectError(await call("DELETE", `/api/keys/${gone.id}`, { token: user.token }), 404, "not_found");
    expectError(await call("PUT", `/api/keys/${gone.id}`, { token: user.token, body: { name: "x" } }), 404, "not_found");
  });
});

describe("GET /api/keys pagination", () => {
  it("pages through every key exactly once, newest first, with ?limit and the returned cursor", async () => {
    const user = await createUser({ creditUsd: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createCreditKey(user, { name: `k${i}` })).id);

    const all = await call("GET", "/api/keys", { token: user.token });
    expect(all.status).toBe(200);
    expect(all.json.nextCursor).toBeNull();
    const fullOrder: string[] = all.json.data.map((k: { id: string }) => k.id);
    expect([...fullOrder].sort()).toEqual([...ids].sort());
    expect(fullOrder[0]).toBe(ids[4]);

    const seen: string[] = [];
    let cursor: string | null = null;
    const pageSizes: number[] = [];
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const page = await call("GET", `/api/keys${query}`, { token: user.token });
      expect(page.status, page.text).toBe(200);
      expect(page.json.success).toBe(true);
      pageSizes.push(page.json.data.length);
      seen.push(...page.json.data.map((k: { id: string }) => k.id));
      cursor = page.json.nextCursor;
    } while (cursor && pageSizes.length < 10);
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(fullOrder);
  });

  it("returns no cursor when the page holds the last key", async () => {
    const user = await createUser({ creditUsd: 5 });
    await createCreditKey(user);
    await createCreditKey(user);
    const page = await call("GET", "/api/keys?limit=2", { token: user.token });
    expect(page.json.data).toHaveLength(2);
    expect(page.json.nextCursor).toBeNull();
  });

  it("refuses a limit outside 1..100 or not a whole number with 400", async () => {
    const user = await createUser();
    for (const limit of ["0", "101", "abc", "1.5", "-1"]) {
      const res = await call("GET", `/api/keys?limit=${limit}`, { token: user.token });
      expectError(res, 400, "validation_error");
      expect(res.text).toContain("limit");
    }
  });

  it("answers an unknown cursor with 404 invalid_cursor", async () => {
    const user = await createUser();
    expectError(await call("GET", "/api/keys?cursor=clnotakey000000000000000", { token: user.token }), 404, "invalid_cursor");
  });
});
