import { beforeAll, describe, expect, it } from "vitest";
import { operations } from "@/lib/api/operations";
import { prisma } from "@/lib/db";
import { SCOPES, type Scope } from "@/lib/keys/scopes";
import { invalidateKey } from "@/lib/keys/verify";
import { call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createCreditKey, createManagementKey, expectFieldError, type CreatedKey } from "./fixtures";

/**
 * Scoped management keys: every operation a management key can call names
 * the one scope it needs, and the route wrapper refuses a key without it
 * with 403 insufficient_scope before looking at the request's input.
 * Sessions are not scoped. Scopes are set when a key is created, only by a
 * session, and never change.
 */

const scoped = operations.filter((o) => o.auth === "session-or-mk");

/** The request each operation gets here: an ID that is not the caller's, and an empty body where one is read. */
function request(op: (typeof operations)[number]): [string, string, unknown] {
  const url = op.path.replace(/\{\w+\}/g, "scopes-test-missing-id");
  return [op.method, url, op.method === "GET" || op.method === "DELETE" ? undefined : {}];
}

function expectInsufficientScope(res: ApiResponse, scope: Scope, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(403);
  expect(res.json.error.code, what).toBe("insufficient_scope");
  expect(res.json.error.message, what).toContain(`'${scope}'`);
}

let user: TestUser;
/** Per scope: a key with every scope but that one, and a key with only that one. */
const allBut = new Map<Scope, CreatedKey>();
const only = new Map<Scope, CreatedKey>();

beforeAll(async () => {
  user = await createUser({ creditUsd: 5 });
  for (const scope of SCOPES) {
    allBut.set(scope, await createManagementKey(user, { name: `all-but-${scope}`, scopes: SCOPES.filter((s) => s !== scope) }));
    only.set(scope, await createManagementKey(user, { name: `only-${scope}`, scopes: [scope] }));
  }
});

describe("every operation a management key can call", () => {
  it("declares one of the scopes (the type requires it; this walks the list again)", () => {
    expect(scoped.length).toBeGreaterThan(20);
    for (const op of scoped) expect(SCOPES, `${op.method} ${op.path}`).toContain(op.scope);
    // Every scope but audit:read (whose GET /api/audit comes with the audit log) guards something.
    const used = new Set(scoped.map((o) => o.scope));
    for (const scope of SCOPES.filter((s) => s !== "audit:read")) expect(used, scope).toContain(scope);
  });

  it("refuses a key holding every scope but the one it needs with 403 insufficient_scope naming that scope, the method and the path", async () => {
    for (const op of scoped) {
      const [method, url, body] = request(op);
      const res = await call(method, url, { token: allBut.get(op.scope!)!.apiKey, body });
      expectInsufficientScope(res, op.scope!, `${op.method} ${op.path}`);
      expect(res.json.error.message).toBe(
        `This management key lacks the '${op.scope}' scope, which ${op.method} ${op.path} needs. Create a management key with it in the dashboard.`,
      );
    }
  });

  it("lets a key holding only the scope it needs through: a 2xx, or a 4xx about the input, never a 401 or 403", async () => {
    for (const op of scoped) {
      const [method, url, body] = request(op);
      const res = await call(method, url, { token: only.get(op.scope!)!.apiKey, body });
      const what = `${op.method} ${op.path} with only '${op.scope}': ${res.text}`;
      expect([401, 403], what).not.toContain(res.status);
      expect(res.status, what).toBeLessThan(500);
      // A read of the whole collection needs no input: it must simply work.
      if (op.method === "GET" && !op.path.includes("{")) expect(res.status, what).toBe(200);
    }
  });

  it("lets a session do everything: sessions are not scoped", async () => {
    for (const op of scoped) {
      const [method, url, body] = request(op);
      const res = await call(method, url, { token: user.token, body });
      expect([401, 403], `${op.method} ${op.path} with a session: ${res.text}`).not.toContain(res.status);
    }
  });

  it("checks the scope before the input: a key without the scope gets 403 even for a malformed body or a foreign ID", async () => {
    const res = await call("POST", "/api/keys/credit", { token: only.get("keys:read")!.apiKey, body: { name: "", rpm: -1, bogus: true } });
    expectInsufficientScope(res, "keys:write", "bad body");
    const theirs = await createCreditKey(await createUser({ creditUsd: 1 }));
    const foreign = await call("DELETE", `/api/keys/${theirs.id}`, { token: only.get("keys:read")!.apiKey });
    expectInsufficientScope(foreign, "keys:write", "foreign ID");
  });
});

describe("what a scoped key does in practice", () => {
  it("a keys:read key lists keys but cannot create, change or delete one, and changes nothing trying", async () => {
    const reader = only.get("keys:read")!.apiKey;
    const key = await createCreditKey(user, { name: "scoped-target" });
    const list = await call("GET", "/api/keys", { token: reader });
    expect(list.status, list.text).toBe(200);
    expect(list.json.data.map((k: { id: string }) => k.id)).toContain(key.id);

    expectInsufficientScope(await call("POST", "/api/keys/credit", { token: reader, body: { name: "nope" } }), "keys:write", "create");
    expectInsufficientScope(await call("POST", "/api/keys", { token: reader, body: { name: "nope" } }), "keys:write", "ModelSwitch create");
    expectInsufficientScope(await call("PUT", `/api/keys/${key.id}`, { token: reader, body: { isActive: false } }), "keys:write", "pause");
    expectInsufficientScope(await call("DELETE", `/api/keys/${key.id}`, { token: reader }), "keys:write", "delete");
    const after = await call("GET", "/api/keys", { token: user.token });
    expect(after.json.data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ isActive: true });
    expect(after.json.data.some((k: { name: string }) => k.name === "nope")).toBe(false);
  });

  it("a keys:write key creates a credit key (201), and a usage:read key reads usage but not the balance", async () => {
    const created = await call("POST", "/api/keys/credit", { token: only.get("keys:write")!.apiKey, body: { name: "by-writer" } });
    expect(created.status, created.text).toBe(201);
    const usage = only.get("usage:read")!.apiKey;
    expect((await call("GET", "/api/usage", { token: usage })).status).toBe(200);
    expectInsufficientScope(await call("GET", "/api/billing/status", { token: usage }), "billing:read", "balance");
  });
});

describe("choosing scopes when a key is created", () => {
  it("gives a key every scope when none are sent, on both create endpoints, and shows them in the create answer and both lists", async () => {
    const u = await createUser();
    const native = await call("POST", "/api/keys/management", { token: u.token, body: { name: "default" } });
    expect(native.status, native.text).toBe(201);
    expect(native.json.data.scopes).toEqual([...SCOPES]);
    const billing = await call("POST", "/api/billing-keys", { token: u.token, body: { name: "Automation" } });
    expect(billing.status, billing.text).toBe(201);
    expect(billing.json.scopes).toEqual([...SCOPES]);

    const list = await call("GET", "/api/keys/management", { token: u.token });
    for (const k of list.json.data) expect(k.scopes).toEqual([...SCOPES]);
    const keys = (await call("GET", "/api/billing-keys", { token: u.token })).json.keys;
    for (const k of keys) expect(k.scopes).toEqual([...SCOPES]);
  });

  it("keeps the scopes sent, once each and in the reference's order, on both endpoints, and lists them", async () => {
    const u = await createUser();
    const native = await call("POST", "/api/keys/management", { token: u.token, body: { name: "ci", scopes: ["usage:read", "keys:read", "usage:read"] } });
    expect(native.status, native.text).toBe(201);
    expect(native.json.data.scopes).toEqual(["keys:read", "usage:read"]);
    const billing = await call("POST", "/api/billing-keys", { token: u.token, body: { name: "Automation", scopes: ["billing:read"] } });
    expect(billing.status, billing.text).toBe(201);
    expect(billing.json).toMatchObject({ id: expect.any(String), key: expect.stringMatching(/^mk_/), prefix: expect.any(String), scopes: ["billing:read"] });

    const list = await call("GET", "/api/keys/management", { token: u.token });
    expect(list.json.data.map((k: { scopes: string[] }) => k.scopes)).toEqual([["billing:read"], ["keys:read", "usage:read"]]);
    const keys = (await call("GET", "/api/billing-keys", { token: u.token })).json.keys;
    expect(keys.map((k: { scopes: string[] }) => k.scopes)).toEqual([["billing:read"], ["keys:read", "usage:read"]]);
    // The billing key works within its scope, and only there.
    expect((await call("GET", "/api/billing/status", { token: billing.json.key })).status).toBe(200);
    expectInsufficientScope(await call("GET", "/api/keys", { token: billing.json.key }), "keys:read", "billing key listing keys");
  });

  it("refuses an unknown scope with 400 naming it and listing the valid ones, and creates nothing", async () => {
    const u = await createUser();
    for (const path of ["/api/keys/management", "/api/billing-keys"]) {
      const res = await call("POST", path, { token: u.token, body: { name: "bad", scopes: ["keys:read", "keys:admin"] } });
      expectFieldError(res, "scopes");
      expect(res.text).toContain("keys:admin");
      for (const scope of SCOPES) expect(res.text, path).toContain(scope);
    }
    expect((await call("GET", "/api/keys/management", { token: u.token })).json.data).toEqual([]);
  });

  it("refuses an empty list with 400 saying a key needs at least one scope, and a non-list with 400", async () => {
    const u = await createUser();
    for (const path of ["/api/keys/management", "/api/billing-keys"]) {
      const empty = await call("POST", path, { token: u.token, body: { name: "bad", scopes: [] } });
      expectFieldError(empty, "scopes");
      expect(empty.text).toContain("needs at least one scope");
      expectFieldError(await call("POST", path, { token: u.token, body: { name: "bad", scopes: "keys:read" } }), "scopes");
    }
    expect((await call("GET", "/api/keys/management", { token: u.token })).json.data).toEqual([]);
  });
});

describe("scopes never change, and never through a management key", () => {
  it("refuses a management key that tries to create a key (any scopes) or to change one's scopes, whatever its own scopes", async () => {
    const u = await createUser();
    const narrow = await createManagementKey(u, { name: "narrow", scopes: ["keys:read"] });
    const full = await createManagementKey(u, { name: "full" });
    for (const token of [narrow.apiKey, full.apiKey]) {
      for (const path of ["/api/keys/management", "/api/billing-keys"]) {
        expectError(await call("POST", path, { token, body: { name: "wider", scopes: [...SCOPES] } }), 403, "management_key_not_allowed");
      }
      expectError(await call("PUT", `/api/keys/management/${narrow.id}`, { token, body: { scopes: [...SCOPES] } }), 403, "management_key_not_allowed");
    }
    const list = await call("GET", "/api/keys/management", { token: u.token });
    expect(list.json.data.map((k: { name: string; scopes: string[] }) => [k.name, k.scopes])).toEqual([
      ["full", [...SCOPES]],
      ["narrow", ["keys:read"]],
    ]);
    expectInsufficientScope(await call("POST", "/api/keys/credit", { token: narrow.apiKey, body: { name: "x" } }), "keys:write", "still narrow");
  });

  it("refuses a session's attempt to change a key's scopes with 400 (they are set at creation), and keeps them", async () => {
    const u = await createUser();
    const narrow = await createManagementKey(u, { name: "narrow", scopes: ["usage:read"] });
    expectFieldError(await call("PUT", `/api/keys/management/${narrow.id}`, { token: u.token, body: { scopes: [...SCOPES] } }), "scopes");
    expectFieldError(await call("PUT", `/api/keys/management/${narrow.id}`, { token: u.token, body: { name: "renamed", scopes: ["keys:write"] } }), "scopes");
    const renamed = await call("PUT", `/api/keys/management/${narrow.id}`, { token: u.token, body: { name: "renamed" } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.data).toMatchObject({ name: "renamed", scopes: ["usage:read"] });
  });

  it("checks the scopes held by the verified key's cached record, which a key write refreshes", async () => {
    const u = await createUser();
    const mk = await createManagementKey(u, { name: "cached", scopes: ["keys:read"] });
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
    // Nothing in Keygate changes scopes; a row edited behind its back shows the check reads the cache, not the database.
    const db = await prisma();
    await db.managementKey.update({ where: { id: mk.id }, data: { scopes: ["usage:read"] } });
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
    await invalidateKey(mk.id);
    expectInsufficientScope(await call("GET", "/api/keys", { token: mk.apiKey }), "keys:read", "after the cache is refreshed");
    expect((await call("GET", "/api/usage", { token: mk.apiKey })).status).toBe(200);
  });

  it("grants nothing for a scope name this version does not know (a row written by a newer version)", async () => {
    const u = await createUser();
    const mk = await createManagementKey(u, { name: "future", scopes: ["usage:read"] });
    const db = await prisma();
    await db.managementKey.update({ where: { id: mk.id }, data: { scopes: ["usage:read", "keys:everything"] } });
    await invalidateKey(mk.id);
    expectInsufficientScope(await call("GET", "/api/keys", { token: mk.apiKey }), "keys:read", "unknown scope in the row");
    const list = await call("GET", "/api/keys/management", { token: u.token });
    expect(list.json.data[0].scopes).toEqual(["usage:read"]);
  });
});
