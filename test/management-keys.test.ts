import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateKey } from "@/lib/keys/verify";
import { call, createUser, expectError } from "./api";
import { createManagementKey, FUTURE, FUTURE_ISO } from "./fixtures";

const MANAGEMENT_VIEW_FIELDS = ["createdAt", "expiresAt", "id", "isActive", "keyPrefix", "lastUsedAt", "name", "scopes"];

describe("management keys (/api/keys/management)", () => {
  it("creates a management key with 201 {id,name,keyPrefix,apiKey}, where apiKey is a well-formed mk_ shown once", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/keys/management", { token: user.token, body: { name: "mgmt_key_01" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    const { id, name, keyPrefix, apiKey } = res.json.data;
    expect(typeof id).toBe("string");
    expect(name).toBe("mgmt_key_01");
    expect(apiKey).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    expect(keyPrefix).toBe(apiKey.slice(0, 11));

    const list = await call("GET", "/api/keys/management", { token: user.token });
    expect(list.text).not.toContain(apiKey.slice(keyPrefix.length));
  });

  it("lists management keys newest first with exactly {id,name,keyPrefix,isActive,scopes,expiresAt,lastUsedAt,createdAt}", async () => {
    const user = await createUser();
    const first = await createManagementKey(user, { name: "first" });
    const second = await createManagementKey(user, { name: "second", expiresAt: FUTURE });
    const res = await call("GET", "/api/keys/management", { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.data.map((k: { id: string }) => k.id)).toEqual([second.id, first.id]);
    for (const item of res.json.data) expect(Object.keys(item).sort()).toEqual(MANAGEMENT_VIEW_FIELDS);
    expect(res.json.data[0]).toMatchObject({ name: "second", keyPrefix: second.keyPrefix, isActive: true, expiresAt: FUTURE_ISO, lastUsedAt: null });
    expect(res.json.data[1]).toMatchObject({ name: "first", expiresAt: null });
  });

  it("lets a management key act for its owner on session-or-mk routes and records lastUsedAt", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const created = await call("POST", "/api/keys/credit", { token: mk.apiKey, body: { name: "auto-created" } });
    expect(created.status, created.text).toBe(201);
    const list = await call("GET", "/api/keys", { token: user.token });
    expect(list.json.data.map((k: { id: string }) => k.id)).toEqual([created.json.data.id]);

    const mgmt = await call("GET", "/api/keys/management", { token: user.token });
    const lastUsedAt = Date.parse(mgmt.json.data[0].lastUsedAt);
    expect(lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it("deletes a management key with {deleted:true}, and the very next request with it gets 401", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);

    const res = await call("DELETE", `/api/keys/management/${mk.id}`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, data: { deleted: true } });

    const after = await call("GET", "/api/keys", { token: mk.apiKey });
    expectError(after, 401, "invalid_key");
    expect(after.headers.get("www-authenticate")).toBe("Bearer");
    expect((await call("GET", "/api/keys/management", { token: user.token })).json.data).toEqual([]);
    expect(await (await prisma()).managementKey.findUnique({ where: { id: mk.id } })).toBeNull();
    expectError(await call("DELETE", `/api/keys/management/${mk.id}`, { token: user.token }), 404, "not_found");
  });

  it("refuses a deactivated management key on the very next request with 401 key_inactive", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    expect((await call("GET", "/api/billing/status", { token: mk.apiKey })).status).toBe(200);
    const paused = await call("PUT", `/api/keys/management/${mk.id}`, { token: user.token, body: { isActive: false } });
    expect(paused.status, paused.text).toBe(200);
    expectError(await call("GET", "/api/billing/status", { token: mk.apiKey }), 401, "key_inactive");
    const list = await call("GET", "/api/keys/management", { token: user.token });
    expect(list.json.data[0]).toMatchObject({ id: mk.id, isActive: false });
  });

  it("refuses an expired management key with 401 key_expired", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user, { expiresAt: FUTURE });
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
    // The API only accepts future dates: move it into the past in the database, and tell the key cache, as an operator's SQL would have to.
    await (await prisma()).managementKey.update({ where: { id: mk.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    invalidateKey(mk.id);
    const res = await call("GET", "/api/keys", { token: mk.apiKey });
    expectError(res, 401, "key_expired");
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("refuses to let a management key list, create or delete management keys (403), and changes nothing", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    const other = await createManagementKey(user, { name: "other" });
    const before = await call("GET", "/api/keys/management", { token: user.token });

    const attempts = [
      await call("GET", "/api/keys/management", { token: mk.apiKey }),
      await call("POST", "/api/keys/management", { token: mk.apiKey, body: { name: "successor" } }),
      await call("DELETE", `/api/keys/management/${other.id}`, { token: mk.apiKey }),
      await call("DELETE", `/api/keys/management/${mk.id}`, { token: mk.apiKey }),
      await call("PUT", `/api/keys/management/${other.id}`, { token: mk.apiKey, body: { isActive: false } }),
      await call("GET", "/api/billing-keys", { token: mk.apiKey }),
      await call("POST", "/api/billing-keys", { token: mk.apiKey, body: { name: "successor" } }),
      await call("DELETE", `/api/billing-keys/${other.id}`, { token: mk.apiKey }),
    ];
    for (const res of attempts) expectError(res, 403, "management_key_not_allowed");

    // lastUsedAt moves (the key was used to ask); nothing else may.
    const state = (res: { json: { data: Array<Record<string, unknown>> } }) => res.json.data.map(({ lastUsedAt, ...rest }) => (void lastUsedAt, rest));
    const after = await call("GET", "/api/keys/management", { token: user.token });
    expect(state(after)).toEqual(state(before));
  });
});

describe("renaming and pausing management keys (PUT /api/keys/management/:id)", () => {
  it("renames a key and answers the updated management key", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user, { name: "old name" });
    const res = await call("PUT", `/api/keys/management/${mk.id}`, { token: user.token, body: { name: "  deploy bot  " } });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.json.data).sort()).toEqual(MANAGEMENT_VIEW_FIELDS);
    expect(res.json.data).toMatchObject({ id: mk.id, name: "deploy bot", isActive: true, keyPrefix: mk.keyPrefix });
    expect((await call("GET", "/api/billing/status", { token: mk.apiKey })).status).toBe(200);
  });

  it("a paused key gets 401 key_inactive on its very next request, and works again once resumed (either spelling)", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);

    const paused = await call("PUT", `/api/keys/management/${mk.id}`, { token: user.token, body: { isActive: false } });
    expect(paused.json.data.isActive).toBe(false);
    const refused = await call("GET", "/api/keys", { token: mk.apiKey });
    expectError(refused, 401, "key_inactive");
    expect(refused.headers.get("www-authenticate")).toBe("Bearer");

    const resumed = await call("PUT", `/api/keys/management/${mk.id}`, { token: user.token, body: { active: true } });
    expect(resumed.json.data.isActive).toBe(true);
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
  });

  it("refuses an empty, unknown or contradictory change with 400 and changes nothing", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user, { name: "steady" });
    for (const body of [{}, { expiresAt: FUTURE_ISO }, { isActive: false, active: true }, { name: "" }, { isActive: "no" }]) {
      expectError(await call("PUT", `/api/keys/management/${mk.id}`, { token: user.token, body }), 400, "validation_error");
    }
    const [row] = (await call("GET", "/api/keys/management", { token: user.token })).json.data;
    expect(row).toMatchObject({ name: "steady", isActive: true });
  });

  it("answers another user's key ID with the same 404 as a missing one, and leaves that key alone", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const alicesKey = await createManagementKey(alice);
    expectError(await call("PUT", `/api/keys/management/${alicesKey.id}`, { token: bob.token, body: { isActive: false } }), 404, "not_found");
    expectError(await call("PUT", "/api/keys/management/no-such-key", { token: bob.token, body: { isActive: false } }), 404, "not_found");
    expect((await call("GET", "/api/keys", { token: alicesKey.apiKey })).status).toBe(200);
  });
});

describe("billing keys (/api/billing-keys, in the ModelSwitch API's shapes)", () => {
  it("creates a billing key with exactly 201 {id,key,prefix,scopes}: ModelSwitch's fields, plus the scopes", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.json).sort()).toEqual(["id", "key", "prefix", "scopes"]);
    expect(res.json.key).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    expect(res.json.prefix).toBe(res.json.key.slice(0, 11));
  });

  it("lists billing keys as {keys:[{id,name,prefix,active,createdAt,expiresAt,scopes}]}, the same keys as the management list", async () => {
    const user = await createUser();
    const native = await createManagementKey(user, { name: "native" });
    const created = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation", expires_at: FUTURE } });
    expect(created.status, created.text).toBe(201);

    const res = await call("GET", "/api/billing-keys", { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.json)).toEqual(["keys"]);
    expect(res.json.keys).toHaveLength(2);
    for (const item of res.json.keys) expect(Object.keys(item).sort()).toEqual(["active", "createdAt", "expiresAt", "id", "name", "prefix", "scopes"]);
    expect(res.json.keys[0]).toMatchObject({ id: created.json.id, name: "Automation", prefix: created.json.prefix, active: true, expiresAt: FUTURE_ISO });
    expect(res.json.keys[1]).toMatchObject({ id: native.id, name: "native", prefix: native.keyPrefix, active: true, expiresAt: null });

    const mgmt = await call("GET", "/api/keys/management", { token: user.token });
    expect(mgmt.json.data.map((k: { id: string }) => k.id)).toEqual([created.json.id, native.id]);
  });

  it("deletes a billing key with exactly {status:'deleted'}, and the deleted key gets 401 at once", async () => {
    const user = await createUser();
    const created = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "Automation" } });
    expect((await call("GET", "/api/billing/status", { token: created.json.key })).status).toBe(200);

    const res = await call("DELETE", `/api/billing-keys/${created.json.id}`, { token: user.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ status: "deleted" });

    expectError(await call("GET", "/api/billing/status", { token: created.json.key }), 401, "invalid_key");
    expect((await call("GET", "/api/billing-keys", { token: user.token })).json).toEqual({ keys: [] });
    expectError(await call("DELETE", `/api/billing-keys/${created.json.id}`, { token: user.token }), 404, "not_found");
  });
});
