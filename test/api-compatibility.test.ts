import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { SCOPES } from "@/lib/keys/scopes";
import { call, createUser, expectError } from "./api";
import { createCreditKey, createManagementKey, FUTURE, FUTURE_ISO, insertSubscriptionKey } from "./fixtures";

/**
 * Every curl example of the CheapestInference API Keys documentation and the
 * ModelSwitch key management documentation, translated to in-process calls
 * with our key formats (sk_live_, mk_). Where an example's date has passed, a
 * future one stands in. Shapes follow the API compatibility table in docs/api.md:
 * the native envelope everywhere, except the ModelSwitch-only endpoints.
 */

const iso = (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v));
/** Either API's spelling of a field, whichever the response uses (null is a value, not a miss). */
const isActiveOf = (k: Record<string, unknown>) => ("isActive" in k ? k.isActive : k.active);
const expiresAtOf = (k: Record<string, unknown>) => ("expiresAt" in k ? k.expiresAt : k.expires_at);

describe("CheapestInference API compatibility: API Keys", () => {
  it("GET /api/keys with an auth token lists subscription and credit keys with the documented fields, minus apiKey", async () => {
    const user = await createUser({ creditUsd: 30 });
    await createCreditKey(user, { name: "client_42", maxBudget: 25 });
    const subscriptionKey = await insertSubscriptionKey(user);

    const res = await call("GET", "/api/keys", { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    const [pool, credit] = res.json.data;
    expect(pool).toMatchObject({
      name: "prod-key",
      keyPlan: "pool",
      keyType: "subscription",
      isActive: true,
      subscriptionId: subscriptionKey.subscriptionId,
      subscriptionStatus: "active",
    });
    for (const f of ["subscriptionStatus", "subscriptionExpiresAt", "lastUsedAt"]) expect(pool).toHaveProperty(f);
    expect(credit).toMatchObject({
      name: "client_42",
      keyPlan: "credits",
      keyType: "credit",
      isActive: true,
      maxBudget: 25,
      rpmLimit: 60,
      tpmLimit: null,
      lastUsedAt: null,
    });
    for (const k of [pool, credit]) {
      expect(typeof k.id).toBe("string");
      expect(iso(k.createdAt)).toBe(true);
      expect(k).not.toHaveProperty("apiKey");
    }
  });

  it("POST /api/keys/subscription with an mk_ (no body, or a subscriptionId) answers 409 while there is no active subscription", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    expectError(await call("POST", "/api/keys/subscription", { token: mk.apiKey }), 409, "no_active_subscription");
    expectError(
      await call("POST", "/api/keys/subscription", { token: mk.apiKey, body: { subscriptionId: "subscription_uuid" } }),
      409,
      "no_active_subscription",
    );
    expect((await call("GET", "/api/keys", { token: user.token })).json.data).toEqual([]);
  });

  it('POST /api/keys/credit {"name":"client_42"} answers 201 with id, name, keyType, apiKey (sk_live_), isActive, createdAt', async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "client_42" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toMatchObject({ name: "client_42", keyType: "credit", isActive: true });
    expect(typeof res.json.data.id).toBe("string");
    expect(res.json.data.apiKey).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(iso(res.json.data.createdAt)).toBe(true);
  });

  it('PUT /api/keys/:id {"isActive": false} deactivates the key', async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toMatchObject({ id: key.id, isActive: false });
    expect((await call("GET", "/api/keys", { token: user.token })).json.data[0].isActive).toBe(false);
  });

  it("DELETE /api/keys/:id answers exactly {success:true, data:{deleted:true}}", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const res = await call("DELETE", `/api/keys/${key.id}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ success: true, data: { deleted: true } });
    expect((await call("GET", "/api/keys", { token: user.token })).json.data).toEqual([]);
  });

  it("GET /api/keys/management lists {id,name,keyPrefix,isActive,lastUsedAt,createdAt}", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user, { name: "mgmt_key_01" });
    await call("GET", "/api/keys", { token: mk.apiKey });
    const res = await call("GET", "/api/keys/management", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toHaveLength(1);
    const [item] = res.json.data;
    expect(item).toMatchObject({ id: mk.id, name: "mgmt_key_01", keyPrefix: mk.keyPrefix, isActive: true });
    expect(item.keyPrefix).toMatch(/^mk_[0-9A-Za-z]{8}$/);
    expect(iso(item.lastUsedAt)).toBe(true);
    expect(iso(item.createdAt)).toBe(true);
  });

  it('POST /api/keys/management {"name":"mgmt_key_01"} answers 201 with id, name, keyPrefix and the full apiKey once', async () => {
    const user = await createUser();
    const res = await call("POST", "/api/keys/management", { token: user.token, body: { name: "mgmt_key_01" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toMatchObject({ name: "mgmt_key_01" });
    expect(res.json.data.apiKey.startsWith(res.json.data.keyPrefix)).toBe(true);
    expect(res.json.data.apiKey).toMatch(/^mk_[0-9A-Za-z]{38}$/);
  });

  it("DELETE /api/keys/management/:id removes the management key", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    const res = await call("DELETE", `/api/keys/management/${mk.id}`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect((await call("GET", "/api/keys/management", { token: user.token })).json.data).toEqual([]);
  });

  it("uses an mk_ as a Bearer to list keys, check billing status and create a credit key ('auto-created')", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);

    const list = await call("GET", "/api/keys", { token: mk.apiKey });
    expect(list.status, list.text).toBe(200);
    expect(list.json).toMatchObject({ success: true, data: [] });

    const status = await call("GET", "/api/billing/status", { token: mk.apiKey });
    expect(status.status, status.text).toBe(200);
    expect(status.json.success).toBe(true);
    expect(status.json.data.balance).toBe(5);

    const created = await call("POST", "/api/keys/credit", { token: mk.apiKey, body: { name: "auto-created" } });
    expect(created.status, created.text).toBe(201);
    expect(created.json.data).toMatchObject({ name: "auto-created", keyType: "credit", isActive: true });
    expect(created.json.data.apiKey).toMatch(/^sk_live_/);
    expect((await call("GET", "/api/keys", { token: user.token })).json.data.map((k: { id: string }) => k.id)).toEqual([created.json.data.id]);
  });
});

describe("ModelSwitch API compatibility: key management", () => {
  it("GET /api/keys with a billing key lists proxy keys with id, name, prefix, active, createdAt", async () => {
    const user = await createUser({ creditUsd: 5 });
    const billing = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    const created = await call("POST", "/api/keys", { token: billing.json.key, body: { name: "Production" } });
    const res = await call("GET", "/api/keys", { token: billing.json.key });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true); // GET /api/keys is shared with the CheapestInference API: native envelope
    expect(res.json.data).toHaveLength(1);
    const [item] = res.json.data;
    expect(item).toMatchObject({ id: created.json.id, name: "Production" });
    expect(item.prefix).toBe(created.json.key.slice(0, 16));
    expect(isActiveOf(item)).toBe(true);
    expect(iso(item.createdAt)).toBe(true);
  });

  it('POST /api/keys {"name":"Production","expires_at":…} answers exactly 201 {id,key} and stores the expiry', async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const res = await call("POST", "/api/keys", { token: mk.apiKey, body: { name: "Production", expires_at: FUTURE } });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.json).sort()).toEqual(["id", "key"]);
    expect(res.json.key).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    const [item] = (await call("GET", "/api/keys", { token: user.token })).json.data;
    expect(item).toMatchObject({ id: res.json.id, name: "Production", keyType: "credit" });
    expect(expiresAtOf(item)).toBe(FUTURE_ISO);
  });

  it("POST /api/keys with the ModelSwitch documentation's own expires_at (2025-12-31, now past) is refused with 400", async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys", { token: user.token, body: { name: "Production", expires_at: "2025-12-31T00:00:00Z" } });
    expectError(res, 400, "validation_error");
    expect(res.text).toContain("expires_at");
    expect((await call("GET", "/api/keys", { token: user.token })).json.data).toEqual([]);
  });

  it("POST /api/keys without expires_at creates a key that does not expire", async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys", { token: user.token, body: { name: "Production" } });
    expect(res.status, res.text).toBe(201);
    expect(expiresAtOf((await call("GET", "/api/keys", { token: user.token })).json.data[0])).toBeNull();
  });

  it('PUT /api/keys/{id} {"name":"New Name","active":false} renames and deactivates', async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const created = await call("POST", "/api/keys", { token: mk.apiKey, body: { name: "Production" } });
    const res = await call("PUT", `/api/keys/${created.json.id}`, { token: mk.apiKey, body: { name: "New Name", active: false } });
    expect(res.status, res.text).toBe(200);
    const [item] = (await call("GET", "/api/keys", { token: user.token })).json.data;
    expect(item).toMatchObject({ id: created.json.id, name: "New Name" });
    expect(isActiveOf(item)).toBe(false);
  });

  it("DELETE /api/keys/{id} with a billing key deletes the key permanently", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const created = await call("POST", "/api/keys", { token: mk.apiKey, body: { name: "Production" } });
    const res = await call("DELETE", `/api/keys/${created.json.id}`, { token: mk.apiKey });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, data: { deleted: true } });
    expect(await (await prisma()).apiKey.findUnique({ where: { id: created.json.id } })).toBeNull();
    expectError(await call("DELETE", `/api/keys/${created.json.id}`, { token: mk.apiKey }), 404, "not_found");
  });

  it("GET /api/billing-keys with the session JWT answers exactly {keys:[{id,name,prefix,active,createdAt,…}]}", async () => {
    const user = await createUser();
    const created = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    const res = await call("GET", "/api/billing-keys", { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json).not.toHaveProperty("success");
    expect(res.json.keys).toHaveLength(1);
    const [item] = res.json.keys;
    expect(item).toMatchObject({ id: created.json.id, name: "Automation", prefix: created.json.prefix, active: true });
    expect(iso(item.createdAt)).toBe(true);
  });

  it('POST /api/billing-keys {"name":"Automation"} with the session JWT answers exactly 201 {id,key,prefix}, plus the added scopes (all by default)', async () => {
    const user = await createUser();
    const res = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.json).sort()).toEqual(["id", "key", "prefix", "scopes"]);
    expect(res.json.scopes).toEqual([...SCOPES]);
    expect(res.json.key).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    expect(res.json.prefix).toMatch(/^mk_[0-9A-Za-z]{8}$/);
    expect(res.json.key.startsWith(res.json.prefix)).toBe(true);
  });

  it("POST /api/billing-keys with expires_at stores the expiry", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation", expires_at: FUTURE } });
    expect(res.status, res.text).toBe(201);
    expect(expiresAtOf((await call("GET", "/api/billing-keys", { token: user.token })).json.keys[0])).toBe(FUTURE_ISO);
  });

  it("refuses to create a billing key with another billing key (403), as the ModelSwitch API requires", async () => {
    const user = await createUser();
    const first = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    const res = await call("POST", "/api/billing-keys", { token: first.json.key, body: { name: "Successor" } });
    expectError(res, 403, "management_key_not_allowed");
    expect((await call("GET", "/api/billing-keys", { token: user.token })).json.keys).toHaveLength(1);
  });

  it('DELETE /api/billing-keys/{id} answers exactly {"status":"deleted"} and the deleted key gets 401 immediately', async () => {
    const user = await createUser();
    const created = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    const res = await call("DELETE", `/api/billing-keys/${created.json.id}`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ status: "deleted" });
    const after = await call("GET", "/api/keys", { token: created.json.key });
    expectError(after, 401);
    expect(after.headers.get("www-authenticate")).toBe("Bearer");
  });
});
