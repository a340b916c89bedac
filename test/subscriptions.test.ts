import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import { subscriptionFor } from "@/lib/subscriptions/cache";
import { parseKey } from "@/lib/keys/format";
import { responseSchema } from "@/lib/openapi";
import { PERIOD_MS } from "@/lib/pools/blocks";
import { RENEWAL_LEAD_MS, sweepSubscriptions } from "@/lib/subscriptions/sweep";
import { ADMIN_TOKEN, call, createUser, expectError, grant, type ApiResponse, type TestUser } from "./api";
import { createManagementKey, createPool, insertSubscription, listKeys, subscribe } from "./fixtures";

const DAY = 24 * 3600_000;

async function balance(user: TestUser): Promise<number> {
  const res = await call("GET", "/api/billing/status", { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.json.data.balance;
}

async function subscriptionCharges(userId: string) {
  return (await prisma()).ledgerEntry.findMany({ where: { userId, kind: "subscription" }, orderBy: { createdAt: "asc" } });
}

async function setPeriod(id: string, data: { periodStart?: Date; periodEnd?: Date; status?: "active" | "expired"; autoRenew?: boolean }) {
  await (await prisma()).subscription.update({ where: { id }, data });
}

function expectDocumented(method: string, template: string, res: ApiResponse) {
  const schema = responseSchema(method, template, res.status);
  expect(schema, `${method} ${template} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  expect(schema!.safeParse(res.json).success, res.text).toBe(true);
}

describe("your subscriptions (GET /api/subscriptions, GET /api/subscriptions/:id)", () => {
  it("carry their block length and renewal price, so a pool taken off sale still shows hours and a price", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ name: "Retired pool", blockHours: 8, pricePerBlockUsd: 1.5 });
    const sub = await subscribe(user, pool.id, [0, 2]);
    const off = await call("PUT", `/api/admin/pools/${pool.id}`, { token: ADMIN_TOKEN, body: { active: false } });
    expect(off.status, off.text).toBe(200);
    const res = await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token });
    expect(res.json.data).toMatchObject({ blocks: [0, 2], blockHours: 8, renewalPriceUsd: 3 });
  });

  it("lists the caller's subscriptions newest first and reads one, for a session or a management key", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const pool = await createPool({ name: "Listed pool" });
    const a = await subscribe(user, pool.id, [1]);
    const b = await subscribe(user, pool.id, [0, 2]);
    for (const token of [user.token, mk.apiKey]) {
      const list = await call("GET", "/api/subscriptions", { token });
      expectDocumented("GET", "/api/subscriptions", list);
      expect(list.json.data.map((s: { id: string }) => s.id)).toEqual([b.id, a.id]);
      const one = await call("GET", `/api/subscriptions/${a.id}`, { token });
      expectDocumented("GET", "/api/subscriptions/{id}", one);
      expect(one.json.data).toMatchObject({
        id: a.id,
        poolId: pool.id,
        poolName: "Listed pool",
        blocks: [1],
        blockHours: 6,
        renewalPriceUsd: 1,
        status: "active",
        autoRenew: false,
        keyCount: 0,
        endedReason: null,
      });
    }
  });

  it("answers another user's subscription ID with the same 404 as a missing one, on every endpoint, and changes nothing", async () => {
    const [alice, bob] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool();
    const sub = await subscribe(alice, pool.id, [0]);
    const missing = await call("GET", "/api/subscriptions/no-such-subscription", { token: bob.token });
    expectError(missing, 404, "not_found");
    for (const [method, path, body] of [
      ["GET", `/api/subscriptions/${sub.id}`, undefined],
      ["PUT", `/api/subscriptions/${sub.id}`, { autoRenew: true }],
      ["POST", `/api/subscriptions/${sub.id}/renew`, undefined],
    ] as const) {
      const res = await call(method, path, { token: bob.token, body });
      expectError(res, 404, "not_found");
      expect(res.json.error.message).toBe(missing.json.error.message);
    }
    expect((await call("GET", "/api/subscriptions", { token: bob.token })).json.data).toEqual([]);
    expect(await balance(bob)).toBe(5);
    expect((await call("GET", `/api/subscriptions/${sub.id}`, { token: alice.token })).json.data.autoRenew).toBe(false);
  });

  it("shows an active subscription whose period has ended as expired, before the sweep has run", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await setPeriod(sub.id, { periodEnd: new Date(Date.now() - 1000) });
    expect((await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data.status).toBe("expired");
  });
});

describe("auto-renewal (PUT /api/subscriptions/:id)", () => {
  it("turns autoRenew on and off, and tells the gateway", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    const on = await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    expectDocumented("PUT", "/api/subscriptions/{id}", on);
    expect(on.json.data).toMatchObject({ id: sub.id, autoRenew: true });
    const off = await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: false } });
    expect(off.json.data.autoRenew).toBe(false);
    for (const body of [{}, { autoRenew: "yes" }, { autoRenew: true, status: "active" }]) {
      expectError(await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body }), 400, "validation_error");
    }
  });

  it("refuses to turn autoRenew on once the period has ended (409 subscription_ended): that needs a renewal and free seats", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await setPeriod(sub.id, { periodEnd: new Date(Date.now() - 1000) });
    const res = await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    expectError(res, 409, "subscription_ended");
    expectDocumented("PUT", "/api/subscriptions/{id}", res);
    expect(res.json.error.message).toContain(`/api/subscriptions/${sub.id}/renew`);
  });
});

describe("renewal (POST /api/subscriptions/:id/renew)", () => {
  it("extends a running subscription by a period from its old end: same id, charged now, coverage start unchanged", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ pricePerBlockUsd: 1 });
    const sub = await subscribe(user, pool.id, [0, 1]);
    const res = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expectDocumented("POST", "/api/subscriptions/{id}/renew", res);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ id: sub.id, status: "active", periodStart: sub.periodStart, blocks: [0, 1] });
    expect(Date.parse(res.json.data.periodEnd)).toBe(Date.parse(sub.periodEnd) + PERIOD_MS);
    expect(await balance(user)).toBe(1);
    expect((await subscriptionCharges(user.id)).map((c) => c.amountMicros)).toEqual([BigInt(-2_000_000), BigInt(-2_000_000)]);
  });

  it("restarts an ended subscription from now, back to active, with the same keys", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [2]);
    const key = await call("POST", "/api/keys/subscription", { token: user.token, body: { subscriptionId: sub.id } });
    expect(key.status, key.text).toBe(201);
    await setPeriod(sub.id, { status: "expired", periodStart: new Date(Date.now() - 31 * DAY), periodEnd: new Date(Date.now() - DAY) });
    const before = Date.now();
    const res = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    const start = Date.parse(res.json.data.periodStart);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(res.json.data.periodEnd) - start).toBe(PERIOD_MS);
    expect(res.json.data).toMatchObject({ id: sub.id, status: "active", endedReason: null, keyCount: 1 });
    const [listed] = await listKeys(user);
    expect(listed).toMatchObject({
      id: key.json.data.id,
      subscriptionId: sub.id,
      subscriptionStatus: "active",
      subscriptionExpiresAt: res.json.data.periodEnd,
    });
    expect(await balance(user)).toBe(3);
  });

  it("answers 402 when the balance cannot pay for a period, and changes nothing", async () => {
    const user = await createUser({ creditUsd: 1.5 });
    const sub = await subscribe(user, (await createPool({ pricePerBlockUsd: 1 })).id, [0]);
    const res = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expectError(res, 402, "insufficient_balance");
    expectDocumented("POST", "/api/subscriptions/{id}/renew", res);
    expect(res.json.error.message).toContain("$1.00");
    expect(res.json.error.message).toContain("$0.50");
    expect((await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data.periodEnd).toBe(sub.periodEnd);
    expect(await balance(user)).toBe(0.5);
  });

  it("counts gateway requests in flight against the price, in the same step as admissions (a hold), and leaves nothing held after", async () => {
    const user = await createUser({ creditUsd: 3 });
    const sub = await subscribe(user, (await createPool({ pricePerBlockUsd: 1 })).id, [0]);
    // $2 left; a request in flight on another key has $1.50 of it reserved.
    const store = limits();
    expect(await store.hold(user.id, "in-flight-request", 1_500_000, Date.now(), 60_000)).toEqual({ ok: true });
    const refused = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expectError(refused, 402, "insufficient_balance");
    expect(refused.json.error.message).toContain("$0.50");
    expect((await store.pending(user.id)).reservedMicros).toBe(1_500_000);
    await store.release("in-flight-request");
    const renewed = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expect(renewed.status, renewed.text).toBe(200);
    // The charge replaced its hold: nothing reserved, and the balance moved by the price once.
    expect(await store.pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    expect(await balance(user)).toBe(1);
  });

  it("needs the seats free again to renew an ended subscription: 409 block_full when they were sold meanwhile", async () => {
    const [alice, bob] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool({ capacity: 1 });
    const sub = await subscribe(alice, pool.id, [1]);
    await setPeriod(sub.id, { periodEnd: new Date(Date.now() - 1000) });
    await subscribe(bob, pool.id, [1]);
    const res = await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: alice.token });
    expectError(res, 409, "block_full");
    expect(res.json.error.message).toContain("Block 1 (06:00–12:00 UTC)");
    expect(await balance(alice)).toBe(4);
  });

  it("refuses to renew in a pool that is off sale (409 pool_inactive)", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool();
    const sub = await subscribe(user, pool.id, [0]);
    await (await prisma()).pool.update({ where: { id: pool.id }, data: { active: false } });
    expectError(await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token }), 409, "pool_inactive");
    expect(await balance(user)).toBe(4);
  });

  it("tells the gateway: its cached view of the subscription follows a renewal at once", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    expect((await subscriptionFor(sub.id))?.periodEnd).toBe(Date.parse(sub.periodEnd));
    await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token });
    expect((await subscriptionFor(sub.id))?.periodEnd).toBe(Date.parse(sub.periodEnd) + PERIOD_MS);
  });
});

describe("period end (sweepSubscriptions)", () => {
  it("expires a subscription without autoRenew at its period end, says why, and gives its seats back", async () => {
    const [user, other] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool({ capacity: 1 });
    const sub = await subscribe(user, pool.id, [0]);
    const now = Date.now();
    await setPeriod(sub.id, { periodEnd: new Date(now - 1000) });
    expect((await subscriptionFor(sub.id))?.status).toBe("active");
    const result = await sweepSubscriptions(now);
    expect(result.expired).toContain(sub.id);
    expect(result.renewed).not.toContain(sub.id);
    const after = (await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data;
    expect(after).toMatchObject({ status: "expired", endedReason: "The period ended and auto-renewal was off." });
    expect((await subscriptionFor(sub.id))?.status).toBe("expired");
    expect(await balance(user)).toBe(4);
    await subscribe(other, pool.id, [0]);
    // Settled once: the next sweep leaves it alone.
    expect((await sweepSubscriptions(now)).expired).not.toContain(sub.id);
  });

  it("leaves a subscription alone while its period runs", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await setPeriod(sub.id, { periodEnd: new Date(Date.now() + 10 * 60_000) });
    const result = await sweepSubscriptions(Date.now());
    expect([...result.expired, ...result.renewed]).not.toContain(sub.id);
  });

  it("auto-renews from the balance: charged once, extended by a period from the old end, still active", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool({ pricePerBlockUsd: 1 })).id, [0, 3]);
    await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    const now = Date.now();
    const oldEnd = now - 5000;
    await setPeriod(sub.id, { periodEnd: new Date(oldEnd) });
    const result = await sweepSubscriptions(now);
    expect(result.renewed).toContain(sub.id);
    const after = (await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data;
    expect(after).toMatchObject({ status: "active", autoRenew: true, endedReason: null, periodStart: sub.periodStart });
    expect(Date.parse(after.periodEnd)).toBe(oldEnd + PERIOD_MS);
    expect(await balance(user)).toBe(1);
    expect((await subscriptionFor(sub.id))?.periodEnd).toBe(oldEnd + PERIOD_MS);
    // Run again (a second instance, or the next tick): nothing more is charged.
    expect((await sweepSubscriptions(now)).renewed).not.toContain(sub.id);
    expect((await subscriptionCharges(user.id)).length).toBe(2);
  });

  it("charges an auto-renewal once even when two sweeps (two instances) run at the same moment", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    const now = Date.now();
    await setPeriod(sub.id, { periodEnd: new Date(now - 1000) });
    const results = await Promise.all([sweepSubscriptions(now), sweepSubscriptions(now), sweepSubscriptions(now)]);
    expect(results.filter((r) => r.renewed.includes(sub.id))).toHaveLength(1);
    expect((await subscriptionCharges(user.id)).length).toBe(2);
    expect(await balance(user)).toBe(3);
  });

  it("auto-renews up to a minute early, so the keys never lapse between two sweeps", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    const now = Date.now();
    const oldEnd = now + RENEWAL_LEAD_MS - 1000;
    await setPeriod(sub.id, { periodEnd: new Date(oldEnd) });
    expect((await sweepSubscriptions(now)).renewed).toContain(sub.id);
    expect(Date.parse((await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data.periodEnd)).toBe(oldEnd + PERIOD_MS);
  });

  it("expires an auto-renewal the balance cannot pay, with endedReason saying the price and the balance", async () => {
    const user = await createUser({ creditUsd: 2 });
    const sub = await subscribe(user, (await createPool({ pricePerBlockUsd: 2 })).id, [1]);
    await grant(user.email, 1.2);
    await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    const now = Date.now();
    // Inside the lead time a short balance is only retried, never expired early.
    await setPeriod(sub.id, { periodEnd: new Date(now + 30_000) });
    expect(await sweepSubscriptions(now)).not.toMatchObject({ expired: expect.arrayContaining([sub.id]) });
    expect((await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data.status).toBe("active");

    await setPeriod(sub.id, { periodEnd: new Date(now - 1000) });
    expect((await sweepSubscriptions(now)).expired).toContain(sub.id);
    const after = (await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data;
    expect(after.status).toBe("expired");
    expect(after.endedReason).toContain("Auto-renewal needed $2.00 but the balance was $1.20.");
    expect(await balance(user)).toBe(1.2);
    expect((await subscriptionCharges(user.id)).length).toBe(1);
  });

  it("starts a renewal now when a whole period has passed since the old end (the server was down), charging one period", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    await call("PUT", `/api/subscriptions/${sub.id}`, { token: user.token, body: { autoRenew: true } });
    const now = Date.now();
    await setPeriod(sub.id, { periodEnd: new Date(now - PERIOD_MS - DAY) });
    expect((await sweepSubscriptions(now)).renewed).toContain(sub.id);
    const after = (await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token })).json.data;
    expect(Date.parse(after.periodStart)).toBe(now);
    expect(Date.parse(after.periodEnd)).toBe(now + PERIOD_MS);
    expect(await balance(user)).toBe(3);
  });
});

describe("subscription keys (POST /api/keys/subscription)", () => {
  it("creates an sk_pool_ key for the most recent active subscription, shown once, with no budget, rate limit or expiry of its own", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool();
    const older = await subscribe(user, pool.id, [0]);
    const newer = await subscribe(user, pool.id, [1]);
    const res = await call("POST", "/api/keys/subscription", { token: user.token });
    expectDocumented("POST", "/api/keys/subscription", res);
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.json.data).sort()).toEqual(["apiKey", "id", "isActive"]);
    expect(res.json.data.isActive).toBe(true);
    expect(res.json.data.apiKey).toMatch(/^sk_pool_[0-9A-Za-z]{38}$/);
    expect(parseKey(res.json.data.apiKey)).toBe("subscription");

    const [listed] = await listKeys(user);
    expect(listed).toMatchObject({
      id: res.json.data.id,
      keyPlan: "pool",
      keyType: "subscription",
      subscriptionId: newer.id,
      subscriptionStatus: "active",
      subscriptionExpiresAt: newer.periodEnd,
      rpmLimit: null,
      maxBudget: null,
      expiresAt: null,
    });
    expect(listed).not.toHaveProperty("apiKey");
    expect((await call("GET", `/api/subscriptions/${newer.id}`, { token: user.token })).json.data.keyCount).toBe(1);
    expect((await call("GET", `/api/subscriptions/${older.id}`, { token: user.token })).json.data.keyCount).toBe(0);
  });

  it("creates a key for the named subscription, with a management key and a name, as the first document's curl examples do", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const pool = await createPool();
    const named = await subscribe(user, pool.id, [0]);
    await subscribe(user, pool.id, [1]);
    const res = await call("POST", "/api/keys/subscription", { token: mk.apiKey, body: { subscriptionId: named.id, name: "night-batch" } });
    expect(res.status, res.text).toBe(201);
    const [listed] = await listKeys(user);
    expect(listed).toMatchObject({ id: res.json.data.id, name: "night-batch", subscriptionId: named.id });
    // Without a name, the key is named after its pool.
    const unnamed = await call("POST", "/api/keys/subscription", { token: mk.apiKey });
    expect((await listKeys(user)).find((k) => k.id === unnamed.json.data.id)?.name).toBe("Test pool key");
  });

  it("answers 409 no_active_subscription for another user's subscription, an ended one, or none, and creates nothing", async () => {
    const [alice, bob] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool();
    const alices = await subscribe(alice, pool.id, [0]);
    expectError(await call("POST", "/api/keys/subscription", { token: bob.token }), 409, "no_active_subscription");
    expectError(await call("POST", "/api/keys/subscription", { token: bob.token, body: { subscriptionId: alices.id } }), 409, "no_active_subscription");
    const bobs = await subscribe(bob, pool.id, [1]);
    await setPeriod(bobs.id, { periodEnd: new Date(Date.now() - 1000) });
    expectError(await call("POST", "/api/keys/subscription", { token: bob.token }), 409, "no_active_subscription");
    expectError(await call("POST", "/api/keys/subscription", { token: bob.token, body: { subscriptionId: bobs.id } }), 409, "no_active_subscription");
    expect(await listKeys(bob)).toEqual([]);
    expect((await call("GET", `/api/subscriptions/${alices.id}`, { token: alice.token })).json.data.keyCount).toBe(0);
  });

  it("shows a key's subscription as expired once its period has ended, and its new end after a renewal", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sub = await subscribe(user, (await createPool()).id, [0]);
    const key = await call("POST", "/api/keys/subscription", { token: user.token });
    expect(key.status, key.text).toBe(201);
    const ended = new Date(Date.now() - 1000);
    await setPeriod(sub.id, { periodEnd: ended });
    expect((await listKeys(user))[0]).toMatchObject({ subscriptionStatus: "expired", subscriptionExpiresAt: ended.toISOString() });
    await sweepSubscriptions(Date.now());
    expect((await listKeys(user))[0]).toMatchObject({ subscriptionStatus: "expired", isActive: true });
  });

  it("lets a subscription key be renamed or paused, and reports the subscription on the updated key", async () => {
    const user = await createUser();
    const sub = await insertSubscription(user);
    const key = await call("POST", "/api/keys/subscription", { token: user.token });
    const res = await call("PUT", `/api/keys/${key.json.data.id}`, { token: user.token, body: { name: "renamed", isActive: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({
      name: "renamed",
      isActive: false,
      subscriptionId: sub.id,
      subscriptionStatus: "active",
      subscriptionExpiresAt: sub.periodEnd.toISOString(),
    });
  });
});

describe("billing status", () => {
  it("lists the running subscriptions in activeSubscriptions and counts subscription keys", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool();
    const running = await subscribe(user, pool.id, [0]);
    const ended = await subscribe(user, pool.id, [1]);
    await setPeriod(ended.id, { periodEnd: new Date(Date.now() - 1000) });
    await call("POST", "/api/keys/subscription", { token: user.token });
    const res = await call("GET", "/api/billing/status", { token: user.token });
    expectDocumented("GET", "/api/billing/status", res);
    expect(res.json.data.activeSubscriptions.map((s: { id: string }) => s.id)).toEqual([running.id]);
    expect(res.json.data.activeSubscriptions[0]).toMatchObject({ poolId: pool.id, blocks: [0], keyCount: 1, status: "active" });
    expect(res.json.data.keys.subscription).toEqual({ total: 1, active: 1 });
    expect(res.json.data.spendThisPeriod).toBe(2);
    expect(res.json.data.balance).toBe(3);
  });
});
