import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { subscriptionFor } from "@/lib/subscriptions/cache";
import { responseSchema } from "@/lib/openapi";
import { ADMIN_TOKEN, call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createManagementKey, createPool, expectFieldError, subscribe } from "./fixtures";

// `null` sends no Authorization header at all.
const admin = (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) => call(method, path, { token: token ?? undefined, body });

async function balance(user: TestUser): Promise<number> {
  const res = await call("GET", "/api/billing/status", { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.json.data.balance;
}

async function subscriptionCharges(userIds: string[]) {
  return (await prisma()).ledgerEntry.findMany({ where: { userId: { in: userIds }, kind: "subscription" } });
}

/** Fails unless the answer is one the OpenAPI document lists for the operation, with a body of the documented shape. */
function expectDocumented(method: string, template: string, res: ApiResponse) {
  const schema = responseSchema(method, template, res.status);
  expect(schema, `${method} ${template} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  expect(schema!.safeParse(res.json).success, res.text).toBe(true);
}

describe("pool admin (POST /api/admin/pools, PUT /api/admin/pools/:id)", () => {
  it("creates a pool with 201: its blocks of the UTC day, seats and price, stored as micro-dollars", async () => {
    const res = await admin("POST", "/api/admin/pools", { name: "Night owls", models: ["keygate/echo"], blockHours: 8, capacity: 3, pricePerBlockUsd: 2.5 });
    expectDocumented("POST", "/api/admin/pools", res);
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toMatchObject({
      name: "Night owls",
      models: ["keygate/echo"],
      blockHours: 8,
      capacity: 3,
      pricePerBlockUsd: 2.5,
      periodDays: 30,
      active: true,
    });
    expect(res.json.data.blocks).toEqual([
      { index: 0, startHourUtc: 0, endHourUtc: 8, capacity: 3, remaining: 3 },
      { index: 1, startHourUtc: 8, endHourUtc: 16, capacity: 3, remaining: 3 },
      { index: 2, startHourUtc: 16, endHourUtc: 24, capacity: 3, remaining: 3 },
    ]);
    const row = await (await prisma()).pool.findUnique({ where: { id: res.json.data.id } });
    expect(row?.pricePerBlockMicros).toBe(BigInt(2_500_000));
  });

  it("accepts catalogue models and the demo model, and refuses an unknown model with 400 naming it", async () => {
    const model = `pool-model-${crypto.randomBytes(4).toString("hex")}`;
    const added = await admin("POST", "/api/admin/models", { model, provider: "openai", inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6, maxOutputTokens: 1000 });
    expect(added.status, added.text).toBe(200);
    const ok = await admin("POST", "/api/admin/pools", { name: "Mixed", models: [model, "keygate/echo"], blockHours: 12, capacity: 1, pricePerBlockUsd: 1 });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.data.models).toEqual([model, "keygate/echo"]);

    const bad = await admin("POST", "/api/admin/pools", { name: "Ghost", models: [model, "no-such-model"], blockHours: 12, capacity: 1, pricePerBlockUsd: 1 });
    expectFieldError(bad, "models.1");
    expect(bad.json.error.message).toContain("no-such-model");
    expectDocumented("POST", "/api/admin/pools", bad);
    const badUpdate = await admin("PUT", `/api/admin/pools/${ok.json.data.id}`, { models: ["gpt-nonexistent"] });
    expectFieldError(badUpdate, "models.0");
  });

  it("refuses bad input with 400 naming the field: unknown fields, block lengths that do not divide the day, no models, no seats, no price", async () => {
    const good = { name: "P", models: ["keygate/echo"], blockHours: 6, capacity: 5, pricePerBlockUsd: 1 };
    for (const [body, field] of [
      [{ ...good, active: false }, "active"],
      [{ ...good, id: "mine" }, "id"],
      [{ ...good, blockHours: 5 }, "blockHours"],
      [{ ...good, blockHours: 0 }, "blockHours"],
      [{ ...good, blockHours: "6" }, "blockHours"],
      [{ ...good, models: [] }, "models"],
      [{ ...good, models: ["keygate/echo", "keygate/echo"] }, "models"],
      [{ ...good, models: "keygate/echo" }, "models"],
      [{ ...good, capacity: 0 }, "capacity"],
      [{ ...good, capacity: 1.5 }, "capacity"],
      [{ ...good, pricePerBlockUsd: 0 }, "pricePerBlockUsd"],
      [{ ...good, pricePerBlockUsd: 0.0000001 }, "pricePerBlockUsd"],
      [{ ...good, name: "  " }, "name"],
      [{ models: good.models, blockHours: 6, capacity: 5, pricePerBlockUsd: 1 }, "name"],
    ] as const) {
      expectFieldError(await admin("POST", "/api/admin/pools", body), field);
    }
    const pool = await createPool();
    expectFieldError(await admin("PUT", `/api/admin/pools/${pool.id}`, { capacity: 2, seats: 3 }), "seats");
    expectError(await admin("PUT", `/api/admin/pools/${pool.id}`, {}), 400, "validation_error");
    expectFieldError(await admin("PUT", `/api/admin/pools/${pool.id}`, { blockHours: 7 }), "blockHours");
  });

  it("needs the admin token: none is 401, a non-operator's session is 404 (as if the endpoint did not exist)", async () => {
    const user = await createUser();
    const body = { name: "P", models: ["keygate/echo"], blockHours: 6, capacity: 5, pricePerBlockUsd: 1 };
    expectError(await admin("POST", "/api/admin/pools", body, null), 401);
    expectError(await admin("POST", "/api/admin/pools", body, user.token), 404, "not_found");
    const pool = await createPool();
    expectError(await admin("PUT", `/api/admin/pools/${pool.id}`, { capacity: 1 }, user.token), 404, "not_found");
    expectError(await admin("GET", "/api/admin/pools", undefined, user.token), 404, "not_found");
  });

  it("changes only the fields sent; an inactive pool leaves GET /api/pools, is 404 by id and cannot be bought, but operators still see it", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ name: "Before" });
    const res = await admin("PUT", `/api/admin/pools/${pool.id}`, { name: "After", pricePerBlockUsd: 1.25, capacity: 7 });
    expectDocumented("PUT", "/api/admin/pools/{id}", res);
    expect(res.json.data).toMatchObject({
      id: pool.id,
      name: "After",
      pricePerBlockUsd: 1.25,
      capacity: 7,
      blockHours: 6,
      models: ["keygate/echo"],
      active: true,
    });
    expect(res.json.data.blocks.every((b: { capacity: number; remaining: number }) => b.capacity === 7 && b.remaining === 7)).toBe(true);

    const off = await admin("PUT", `/api/admin/pools/${pool.id}`, { active: false });
    expect(off.status, off.text).toBe(200);
    expect(off.json.data.active).toBe(false);
    const listed = await call("GET", "/api/pools", { token: user.token });
    expect(listed.json.data.map((p: { id: string }) => p.id)).not.toContain(pool.id);
    expectError(await call("GET", `/api/pools/${pool.id}`, { token: user.token }), 404, "not_found");
    expectError(await call("POST", `/api/pools/${pool.id}/subscribe`, { token: user.token, body: { blocks: [0] } }), 404, "not_found");
    expect(await balance(user)).toBe(5);
    const all = await admin("GET", "/api/admin/pools");
    expectDocumented("GET", "/api/admin/pools", all);
    expect(all.json.data.find((p: { id: string }) => p.id === pool.id)).toMatchObject({ active: false, name: "After" });

    expectError(await admin("PUT", "/api/admin/pools/no-such-pool", { capacity: 1 }), 404);
  });

  it("tells the gateway at once: a pool change reaches its cached subscriptions", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool();
    const sub = await subscribe(user, pool.id, [0]);
    expect((await subscriptionFor(sub.id))?.poolActive).toBe(true);
    await admin("PUT", `/api/admin/pools/${pool.id}`, { active: false, models: ["keygate/echo"] });
    expect((await subscriptionFor(sub.id))?.poolActive).toBe(false);
  });

  it("refuses a new block length (409 pool_in_use) while a subscription is active, and cancels ended ones when it changes", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ blockHours: 6 });
    const sub = await subscribe(user, pool.id, [3]);
    const refused = await admin("PUT", `/api/admin/pools/${pool.id}`, { blockHours: 4 });
    expectError(refused, 409, "pool_in_use");
    expect(refused.json.error.message).toMatch(/6 to 4 hours/);
    expectDocumented("PUT", "/api/admin/pools/{id}", refused);
    // The same length is not a change.
    expect((await admin("PUT", `/api/admin/pools/${pool.id}`, { blockHours: 6 })).status).toBe(200);

    await (await prisma()).subscription.update({ where: { id: sub.id }, data: { status: "expired", periodEnd: new Date(Date.now() - 1000) } });
    const changed = await admin("PUT", `/api/admin/pools/${pool.id}`, { blockHours: 4 });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json.data.blocks).toHaveLength(6);
    const after = await call("GET", `/api/subscriptions/${sub.id}`, { token: user.token });
    expect(after.json.data).toMatchObject({ status: "cancelled" });
    expect(after.json.data.endedReason).toMatch(/blocks changed/);
    expectError(await call("POST", `/api/subscriptions/${sub.id}/renew`, { token: user.token }), 409, "subscription_cancelled");
  });

  it("lets capacity drop below the seats taken: nobody loses a seat, new sales stop", async () => {
    const [a, b] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool({ capacity: 2 });
    await subscribe(a, pool.id, [1]);
    await subscribe(a, pool.id, [1]);
    const lowered = await admin("PUT", `/api/admin/pools/${pool.id}`, { capacity: 1 });
    expect(lowered.status, lowered.text).toBe(200);
    expect(lowered.json.data.blocks[1]).toMatchObject({ capacity: 1, remaining: 0 });
    expect((await call("GET", "/api/subscriptions", { token: a.token })).json.data.filter((s: { status: string }) => s.status === "active")).toHaveLength(2);
    expectError(await call("POST", `/api/pools/${pool.id}/subscribe`, { token: b.token, body: { blocks: [1] } }), 409, "block_full");
  });
});

describe("pools on sale (GET /api/pools, GET /api/pools/:id)", () => {
  it("lists active pools with their blocks and the seats left, for a session or a management key", async () => {
    const user = await createUser({ creditUsd: 10 });
    const mk = await createManagementKey(user);
    const pool = await createPool({ capacity: 3 });
    await subscribe(user, pool.id, [0, 2]);
    for (const token of [user.token, mk.apiKey]) {
      const list = await call("GET", "/api/pools", { token });
      expectDocumented("GET", "/api/pools", list);
      const listed = list.json.data.find((p: { id: string }) => p.id === pool.id);
      expect(listed.blocks.map((b: { remaining: number }) => b.remaining)).toEqual([2, 3, 2, 3]);
      const one = await call("GET", `/api/pools/${pool.id}`, { token });
      expectDocumented("GET", "/api/pools/{id}", one);
      expect(one.json.data).toEqual(listed);
    }
    expectError(await call("GET", "/api/pools/no-such-pool", { token: user.token }), 404);
    expectError(await call("GET", "/api/pools"), 401);
  });

  it("counts a seat as held while its period runs or while it will renew itself, and frees it otherwise", async () => {
    const user = await createUser({ creditUsd: 10 });
    const pool = await createPool({ capacity: 3 });
    const lapsed = await subscribe(user, pool.id, [0]);
    const renewing = await subscribe(user, pool.id, [0]);
    const expired = await subscribe(user, pool.id, [0]);
    const db = await prisma();
    const past = new Date(Date.now() - 1000);
    await db.subscription.update({ where: { id: lapsed.id }, data: { periodEnd: past } });
    await db.subscription.update({ where: { id: renewing.id }, data: { periodEnd: past, autoRenew: true } });
    await db.subscription.update({ where: { id: expired.id }, data: { status: "expired", periodEnd: past } });
    const res = await call("GET", `/api/pools/${pool.id}`, { token: user.token });
    expect(res.json.data.blocks[0].remaining).toBe(2);
  });
});

describe("subscribing (POST /api/pools/:id/subscribe)", () => {
  it("charges blocks × price and takes the seats in one go: 201 with the subscription, a ledger entry, the balance down", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ pricePerBlockUsd: 1.5, capacity: 2 });
    const before = Date.now();
    const res = await call("POST", `/api/pools/${pool.id}/subscribe`, { token: user.token, body: { blocks: [3, 0] } });
    expectDocumented("POST", "/api/pools/{id}/subscribe", res);
    expect(res.status, res.text).toBe(201);
    const sub = res.json.data;
    expect(sub).toMatchObject({ poolId: pool.id, poolName: "Test pool", blocks: [0, 3], status: "active", autoRenew: false, keyCount: 0, endedReason: null });
    const start = Date.parse(sub.periodStart);
    expect(start).toBeGreaterThanOrEqual(before - 1);
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(sub.periodEnd) - start).toBe(30 * 24 * 3600_000);

    expect(await balance(user)).toBe(2);
    const charges = await subscriptionCharges([user.id]);
    expect(charges.map((c) => c.amountMicros)).toEqual([BigInt(-3_000_000)]);
    expect(charges[0].note).toContain("Test pool");
    const seats = (await call("GET", `/api/pools/${pool.id}`, { token: user.token })).json.data.blocks.map((b: { remaining: number }) => b.remaining);
    expect(seats).toEqual([1, 2, 2, 1]);
  });

  it("lets one user hold several subscriptions, with a management key too", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const pool = await createPool();
    const first = await subscribe(user, pool.id, [0]);
    const second = await subscribe(user, pool.id, [0, 1], mk.apiKey);
    expect(first.id).not.toBe(second.id);
    const list = await call("GET", "/api/subscriptions", { token: user.token });
    expect(list.json.data.map((s: { id: string }) => s.id)).toEqual([second.id, first.id]);
    expect(await balance(user)).toBe(2);
  });

  it("answers 409 block_full naming every full block, in the message and in details, and charges nothing", async () => {
    const [a, b] = await Promise.all([createUser({ creditUsd: 5 }), createUser({ creditUsd: 5 })]);
    const pool = await createPool({ capacity: 1, name: "Tiny" });
    await subscribe(a, pool.id, [1, 3]);
    const res = await call("POST", `/api/pools/${pool.id}/subscribe`, { token: b.token, body: { blocks: [0, 1, 3] } });
    expectError(res, 409, "block_full");
    expectDocumented("POST", "/api/pools/{id}/subscribe", res);
    expect(res.json.error.message).toContain("Blocks 1 (06:00–12:00 UTC) and 3 (18:00–24:00 UTC)");
    expect(res.json.error.message).toContain("Tiny");
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toEqual(["blocks.1", "blocks.2"]);
    expect(await balance(b)).toBe(5);
    expect(await subscriptionCharges([b.id])).toEqual([]);
    expect((await call("GET", "/api/subscriptions", { token: b.token })).json.data).toEqual([]);
    // A block with a seat left is still for sale.
    await subscribe(b, pool.id, [0]);
  });

  it("answers 402 insufficient_balance saying the price and the balance, and takes no seat", async () => {
    const user = await createUser({ creditUsd: 1.2 });
    const pool = await createPool({ pricePerBlockUsd: 1, capacity: 1 });
    const res = await call("POST", `/api/pools/${pool.id}/subscribe`, { token: user.token, body: { blocks: [0, 1] } });
    expectError(res, 402, "insufficient_balance");
    expectDocumented("POST", "/api/pools/{id}/subscribe", res);
    expect(res.json.error.message).toContain("$2.00");
    expect(res.json.error.message).toContain("$1.20");
    expect(await balance(user)).toBe(1.2);
    expect((await call("GET", `/api/pools/${pool.id}`, { token: user.token })).json.data.blocks[0].remaining).toBe(1);
    const poor = await createUser();
    expectError(await call("POST", `/api/pools/${pool.id}/subscribe`, { token: poor.token, body: { blocks: [0] } }), 402, "insufficient_balance");
    // Exactly enough is enough.
    await subscribe(user, pool.id, [0]);
    expect(await balance(user)).toBe(0.2);
  });

  it("refuses an empty, duplicated, out-of-range or malformed block list with 400, and charges nothing", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await createPool({ blockHours: 6 });
    for (const body of [
      { blocks: [] },
      { blocks: [1, 1] },
      { blocks: [4] },
      { blocks: [0, 7] },
      { blocks: [-1] },
      { blocks: [0.5] },
      { blocks: "0" },
      {},
      { blocks: [0], extra: 1 },
    ]) {
      const res = await call("POST", `/api/pools/${pool.id}/subscribe`, { token: user.token, body });
      expectError(res, 400, "validation_error");
      expectDocumented("POST", "/api/pools/{id}/subscribe", res);
    }
    const outOfRange = await call("POST", `/api/pools/${pool.id}/subscribe`, { token: user.token, body: { blocks: [0, 7] } });
    expect(outOfRange.json.error.message).toMatch(/blocks 0 to 3/);
    expect(outOfRange.json.error.details[0].path).toBe("blocks.1");
    expect(await balance(user)).toBe(5);
    expect(await subscriptionCharges([user.id])).toEqual([]);
  });

  it("sells the last seat exactly once when several users race for it, and never charges a loser (20 rounds)", async () => {
    const racers = await Promise.all(Array.from({ length: 5 }, () => createUser({ creditUsd: 100 })));
    for (let round = 0; round < 20; round++) {
      const pool = await createPool({ capacity: 1, pricePerBlockUsd: 1, name: `Race ${round}` });
      const contenders = racers.slice(0, 2 + (round % 4));
      const before = await Promise.all(contenders.map((u) => balance(u)));
      const chargesBefore = (await subscriptionCharges(contenders.map((u) => u.id))).length;
      const results = await Promise.all(contenders.map((u) => call("POST", `/api/pools/${pool.id}/subscribe`, { token: u.token, body: { blocks: [2] } })));
      const winners = results.flatMap((r, i) => (r.status === 201 ? [i] : []));
      expect(winners, results.map((r) => r.text).join("\n")).toHaveLength(1);
      for (const [i, r] of results.entries()) if (i !== winners[0]) expectError(r, 409, "block_full");
      const after = await Promise.all(contenders.map((u) => balance(u)));
      for (const [i] of contenders.entries()) expect(after[i]).toBe(i === winners[0] ? before[i] - 1 : before[i]);
      expect((await subscriptionCharges(contenders.map((u) => u.id))).length).toBe(chargesBefore + 1);
      expect(await (await prisma()).subscription.count({ where: { poolId: pool.id } })).toBe(1);
    }
  }, 120_000);

  it("never lets one balance pay twice: the same user buying in two pools at once with credit for one gets one 201 and one 402", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await createUser({ creditUsd: 1 });
      const pools = await Promise.all([createPool(), createPool()]);
      const results = await Promise.all(pools.map((p) => call("POST", `/api/pools/${p.id}/subscribe`, { token: user.token, body: { blocks: [0] } })));
      expect(results.map((r) => r.status).sort(), results.map((r) => r.text).join("\n")).toEqual([201, 402]);
      expect(await balance(user)).toBe(0);
      expect((await subscriptionCharges([user.id])).length).toBe(1);
    }
  });
});
