import { beforeAll, describe, expect, it } from "vitest";
import { call, createUser, type ApiResponse, type TestUser } from "./api";
import { accountSnapshot, createCreditKey, createManagementKey, FUTURE, sameOriginCookie, type CreatedKey } from "./fixtures";

/**
 * Two tenants. Bob tries every route that takes an ID or lists data against
 * Alice's keys, with each of his credentials. He must get exactly what a
 * missing ID gets (404, never 403), and Alice's account must not move.
 */

let alice: TestUser;
let bob: TestUser;
let aliceKey: CreatedKey;
let aliceProxyKeyId: string;
let aliceMk: CreatedKey;
let aliceBillingKey: { id: string; key: string; prefix: string };
let bobMk: CreatedKey;
let bobKey: CreatedKey;

beforeAll(async () => {
  [alice, bob] = await Promise.all([createUser({ creditUsd: 10 }), createUser({ creditUsd: 3 })]);
  aliceKey = await createCreditKey(alice, { name: "alice-credit", maxBudget: 5 });
  const proxy = await call("POST", "/api/keys", { token: alice.token, body: { name: "alice-proxy" } });
  aliceProxyKeyId = proxy.json.id;
  aliceMk = await createManagementKey(alice, { name: "alice-mk" });
  aliceBillingKey = (await call("POST", "/api/billing-keys", { token: alice.token, body: { name: "alice-billing" } })).json;
  bobMk = await createManagementKey(bob, { name: "bob-mk" });
  bobKey = await createCreditKey(bob, { name: "bob-credit" });
});

/** Bob's ways in: his session token, his management key, and his dashboard cookie. */
function bobCredentials(): Array<[string, { token?: string; headers?: Record<string, string> }]> {
  return [
    ["session token", { token: bob.token }],
    ["management key", { token: bobMk.apiKey }],
    ["cookie", { headers: sameOriginCookie(bob) }],
  ];
}

function aliceIds() {
  return [aliceKey.id, aliceProxyKeyId, aliceMk.id, aliceBillingKey.id];
}

function aliceSecrets() {
  return [aliceKey.apiKey, aliceMk.apiKey, aliceBillingKey.key, aliceKey.keyPrefix, aliceMk.keyPrefix, aliceBillingKey.prefix];
}

function expectSameAsMissing(res: ApiResponse, missing: ApiResponse, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(404);
  expect(res.json, what).toEqual(missing.json);
}

describe("cross-tenant isolation", () => {
  it("answers Bob's PUT and DELETE on Alice's consumption keys with the same 404 as a missing ID, and Alice's keys do not change", async () => {
    const before = await accountSnapshot(alice);
    for (const [how, auth] of bobCredentials()) {
      const missingPut = await call("PUT", "/api/keys/cl0000000000000000000000", { ...auth, body: { name: "x" } });
      const missingDelete = await call("DELETE", "/api/keys/cl0000000000000000000000", auth);
      expect(missingPut.status).toBe(404);
      for (const id of [aliceKey.id, aliceProxyKeyId]) {
        for (const body of [{ name: "pwned" }, { isActive: false }, { active: false }, { maxBudget: 1000 }, { expires_at: FUTURE }]) {
          expectSameAsMissing(await call("PUT", `/api/keys/${id}`, { ...auth, body }), missingPut, `${how} PUT ${JSON.stringify(body)}`);
        }
        expectSameAsMissing(await call("DELETE", `/api/keys/${id}`, auth), missingDelete, `${how} DELETE`);
      }
    }
    expect(await accountSnapshot(alice)).toEqual(before);
  });

  it("answers Bob's DELETE on Alice's management and billing keys with 404 on both routes, and Alice's keys keep working", async () => {
    const before = await accountSnapshot(alice);
    // Bob's management key may not use these routes at all (403, tested elsewhere); his session may, and still sees 404.
    for (const [how, auth] of bobCredentials().filter(([how]) => how !== "management key")) {
      const missing = await call("DELETE", "/api/keys/management/cl0000000000000000000000", auth);
      const missingBilling = await call("DELETE", "/api/billing-keys/cl0000000000000000000000", auth);
      for (const id of [aliceMk.id, aliceBillingKey.id]) {
        expectSameAsMissing(await call("DELETE", `/api/keys/management/${id}`, auth), missing, `${how} mgmt`);
        expectSameAsMissing(await call("DELETE", `/api/billing-keys/${id}`, auth), missingBilling, `${how} billing`);
      }
    }
    expect(await accountSnapshot(alice)).toEqual(before);
    expect((await call("GET", "/api/keys", { token: aliceMk.apiKey })).status).toBe(200);
    expect((await call("GET", "/api/keys", { token: aliceBillingKey.key })).status).toBe(200);
  });

  it("answers Bob's list with Alice's key ID as the cursor with 404, revealing nothing of hers", async () => {
    for (const [how, auth] of bobCredentials()) {
      const missing = await call("GET", "/api/keys?limit=1&cursor=cl0000000000000000000000", auth);
      for (const id of [aliceKey.id, aliceProxyKeyId]) {
        const res = await call("GET", `/api/keys?limit=1&cursor=${id}`, auth);
        expectSameAsMissing(res, missing, `${how} cursor`);
        for (const secret of aliceSecrets()) expect(res.text).not.toContain(secret);
      }
    }
  });

  it("never lists Alice's keys in any of Bob's lists, whichever credential he uses", async () => {
    for (const [how, auth] of bobCredentials()) {
      const keys = await call("GET", "/api/keys", auth);
      expect(keys.status, how).toBe(200);
      expect(
        keys.json.data.map((k: { id: string }) => k.id),
        how,
      ).toEqual([bobKey.id]);
      const texts = [keys.text];
      if (how !== "management key") {
        const mgmt = await call("GET", "/api/keys/management", auth);
        const billing = await call("GET", "/api/billing-keys", auth);
        expect(
          mgmt.json.data.map((k: { id: string }) => k.id),
          how,
        ).toEqual([bobMk.id]);
        expect(
          billing.json.keys.map((k: { id: string }) => k.id),
          how,
        ).toEqual([bobMk.id]);
        texts.push(mgmt.text, billing.text);
      }
      for (const text of texts) {
        for (const value of [...aliceIds(), ...aliceSecrets(), alice.email, alice.id]) expect(text, how).not.toContain(value);
      }
    }
  });

  it("reports only Bob's balance and key counts in Bob's billing status", async () => {
    for (const [how, auth] of bobCredentials()) {
      const res = await call("GET", "/api/billing/status", auth);
      expect(res.status, how).toBe(200);
      expect(res.json.data.balance, how).toBe(3);
      expect(res.json.data.keys, how).toMatchObject({ credit: { total: 1, active: 1 }, management: { total: 1, active: 1 } });
    }
  });

  it("keeps Alice's own view intact: her keys, and only hers, with her management key too", async () => {
    const viaSession = await call("GET", "/api/keys", { token: alice.token });
    const viaMk = await call("GET", "/api/keys", { token: aliceMk.apiKey });
    const ids = [aliceProxyKeyId, aliceKey.id];
    expect(viaSession.json.data.map((k: { id: string }) => k.id)).toEqual(ids);
    expect(viaMk.json.data).toEqual(viaSession.json.data);
    expect(viaSession.json.data[1]).toMatchObject({ name: "alice-credit", isActive: true, maxBudget: 5 });
    expect(viaSession.text).not.toContain(bobKey.id);
  });
});
