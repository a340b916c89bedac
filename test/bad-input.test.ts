import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { ADMIN_TOKEN, call, createUser, type ApiResponse, type TestUser } from "./api";
import { accountSnapshot, createCreditKey, createManagementKey, expectFieldError, FUTURE, type CreatedKey } from "./fixtures";

/**
 * Bad input is the client's mistake: a 4xx in the native envelope, never a
 * 500, and never a partial write.
 */

const PAST = "2025-12-31T00:00:00Z"; // the ModelSwitch documentation's example date, now in the past
const LATER = "2098-06-30T00:00:00Z";

let user: TestUser;
let key: CreatedKey;
let mk: CreatedKey;

beforeAll(async () => {
  user = await createUser({ creditUsd: 20 });
  key = await createCreditKey(user, { name: "existing" });
  mk = await createManagementKey(user, { name: "existing-mk" });
});

/** Every route that takes a JSON body and writes on the caller's account. */
function writeRoutes(): Array<[string, string]> {
  return [
    ["POST", "/api/keys/credit"],
    ["POST", "/api/keys"],
    ["POST", "/api/keys/subscription"],
    ["PUT", `/api/keys/${key.id}`],
    ["POST", "/api/keys/management"],
    ["POST", "/api/billing-keys"],
  ];
}

function expect4xx(res: ApiResponse, status: number, code: string, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(status);
  expect(res.json?.success, what).toBe(false);
  expect(res.json.error.code, what).toBe(code);
  expect(typeof res.json.error.message).toBe("string");
}

/** Runs the attempts and proves the account looks exactly as before. */
async function expectNothingWritten(attempts: () => Promise<void>) {
  const before = await accountSnapshot(user);
  await attempts();
  expect(await accountSnapshot(user)).toEqual(before);
}

describe("malformed bodies", () => {
  it("answers malformed JSON on every write route with 400 invalid_json and writes nothing", async () => {
    await expectNothingWritten(async () => {
      for (const [method, path] of writeRoutes()) {
        for (const body of ['{"name": "x"', "{name: 'x'}", "not json", '{"name":"x",}']) {
          expect4xx(await call(method, path, { token: user.token, body }), 400, "invalid_json", `${method} ${path} ${body}`);
        }
      }
    });
  });

  it("answers malformed JSON on sign-up, token and admin routes with 400 invalid_json", async () => {
    expect4xx(await call("POST", "/api/auth/signup", { body: "{" }), 400, "invalid_json", "signup");
    expect4xx(await call("POST", "/api/auth/token", { body: "{" }), 400, "invalid_json", "token");
    expect4xx(await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: "{" }), 400, "invalid_json", "admin");
  });

  it("refuses a JSON body that is not an object (array, string, number, boolean, null) with 400 validation_error", async () => {
    await expectNothingWritten(async () => {
      for (const [method, path] of writeRoutes()) {
        for (const body of ["[]", '[{"name":"x"}]', '"client_42"', "42", "true", "null"]) {
          const res = await call(method, path, { token: user.token, body });
          expect4xx(res, 400, "validation_error", `${method} ${path} ${body}`);
          expect(res.json.error.message).toMatch(/JSON object/);
        }
      }
    });
  });

  it("refuses a body over 16 KB with 413 payload_too_large on every write route", async () => {
    const body = JSON.stringify({ name: "big", padding: "x".repeat(17 * 1024) });
    await expectNothingWritten(async () => {
      for (const [method, path] of writeRoutes()) {
        expect4xx(await call(method, path, { token: user.token, body }), 413, "payload_too_large", `${method} ${path}`);
      }
    });
    expect4xx(await call("POST", "/api/auth/signup", { body }), 413, "payload_too_large", "signup");
    expect4xx(await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body }), 413, "payload_too_large", "admin");
  });

  it("treats an empty body as no fields: name is required", async () => {
    await expectNothingWritten(async () => {
      expectFieldError(await call("POST", "/api/keys/credit", { token: user.token, body: "" }), "name");
      expectFieldError(await call("POST", "/api/keys/management", { token: user.token }), "name");
    });
  });
});

describe("unknown fields (mass assignment)", () => {
  it("refuses unknown fields on create with 400 validation_error naming the field", async () => {
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ["POST", "/api/keys/credit", { name: "x", userId: "someone-else" }, "userId"],
      ["POST", "/api/keys/credit", { name: "x", isActive: false }, "isActive"],
      ["POST", "/api/keys/credit", { name: "x", apiKey: "sk_live_chosen" }, "apiKey"],
      ["POST", "/api/keys/credit", { name: "x", keyHash: "0".repeat(64) }, "keyHash"],
      ["POST", "/api/keys/credit", { name: "x", spend: -100 }, "spend"],
      ["POST", "/api/keys/credit", { name: "x", keyType: "subscription" }, "keyType"],
      ["POST", "/api/keys", { name: "x", maxBudget: 5 }, "maxBudget"],
      ["POST", "/api/keys", { name: "x", active: true }, "active"],
      ["POST", "/api/keys/subscription", { subscriptionId: "s", userId: "x" }, "userId"],
      ["POST", "/api/keys/management", { name: "x", isActive: true }, "isActive"],
      ["POST", "/api/billing-keys", { name: "x", scopes: ["all"] }, "scopes"],
    ];
    await expectNothingWritten(async () => {
      for (const [method, path, body, field] of cases) {
        expectFieldError(await call(method, path, { token: user.token, body }), field);
      }
    });
  });

  it("refuses unknown fields on update, even beside valid ones, and changes nothing", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "renamed", userId: "someone-else" }, "userId"],
      [{ keyType: "subscription" }, "keyType"],
      [{ spend: 0 }, "spend"],
      [{ rpmLimit: 5 }, "rpmLimit"],
      [{ isActive: false, keyHash: "x" }, "keyHash"],
    ];
    await expectNothingWritten(async () => {
      for (const [body, field] of cases) {
        expectFieldError(await call("PUT", `/api/keys/${key.id}`, { token: user.token, body }), field);
      }
      const proto = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: '{"name":"renamed","__proto__":{"isActive":false}}' });
      expectFieldError(proto, "__proto__");
    });
  });

  it("refuses unknown fields on sign-up and admin grants", async () => {
    const email = `u-${crypto.randomUUID()}@example.com`;
    expectFieldError(await call("POST", "/api/auth/signup", { body: { email, password: "long enough pw", isAdmin: true } }), "isAdmin");
    expect(await (await prisma()).user.findUnique({ where: { email } })).toBeNull();
    const before = await accountSnapshot(user);
    const admin = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: user.email, amountUsd: 1, kind: "topup" } });
    expectFieldError(admin, "kind");
    expect(await accountSnapshot(user)).toEqual(before);
  });
});

describe("wrong types and out-of-range values", () => {
  it("refuses wrong types on credit-key create with 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 123 }, "name"],
      [{ name: null }, "name"],
      [{ name: ["a"] }, "name"],
      [{ name: "x", maxBudget: "25" }, "maxBudget"],
      [{ name: "x", maxBudget: 0 }, "maxBudget"],
      [{ name: "x", maxBudget: -5 }, "maxBudget"],
      [{ name: "x", maxBudget: 1.0000001 }, "maxBudget"],
      [{ name: "x", rpm: "60" }, "rpm"],
      [{ name: "x", rpm: 1.5 }, "rpm"],
      [{ name: "x", rpm: 0 }, "rpm"],
      [{ name: "x", tpm: -1 }, "tpm"],
      [{ name: "x", tpm: {} }, "tpm"],
      [{ name: "x", expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "x", expiresAt: 1893456000 }, "expiresAt"],
      [{ name: "x", expiresAt: "2099-13-45T00:00:00Z" }, "expiresAt"],
      [{ name: "x", expires_at: true }, "expires_at"],
    ];
    await expectNothingWritten(async () => {
      for (const [body, field] of cases) {
        expectFieldError(await call("POST", "/api/keys/credit", { token: user.token, body }), field);
      }
    });
  });

  it("refuses wrong types on update with 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ isActive: "false" }, "isActive"],
      [{ active: 0 }, "active"],
      [{ name: 42 }, "name"],
      [{ maxBudget: "10" }, "maxBudget"],
      [{ rpm: null }, "rpm"],
      [{ tpm: 2.5 }, "tpm"],
      [{ expiresAt: "soon" }, "expiresAt"],
    ];
    await expectNothingWritten(async () => {
      for (const [body, field] of cases) {
        expectFieldError(await call("PUT", `/api/keys/${key.id}`, { token: user.token, body }), field);
      }
    });
  });

  it("refuses an empty, blank or 101-character name on every create and on update", async () => {
    await expectNothingWritten(async () => {
      for (const name of ["", "   ", "n".repeat(101)]) {
        for (const [method, path] of [
          ["POST", "/api/keys/credit"],
          ["POST", "/api/keys"],
          ["POST", "/api/keys/management"],
          ["POST", "/api/billing-keys"],
          ["PUT", `/api/keys/${key.id}`],
        ]) {
          expectFieldError(await call(method, path, { token: user.token, body: { name } }), "name");
        }
      }
    });
  });

  it("accepts a 100-character name (the limit is inclusive)", async () => {
    const name = "n".repeat(100);
    const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { name } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.name).toBe(name);
    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { name: "existing" } });
  });

  it("refuses an expiry in the past with 400, in either spelling, on every route that takes one", async () => {
    await expectNothingWritten(async () => {
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ["POST", "/api/keys/credit", { name: "x", expiresAt: PAST }, "expiresAt"],
        ["POST", "/api/keys/credit", { name: "x", expires_at: PAST }, "expires_at"],
        ["POST", "/api/keys", { name: "Production", expires_at: PAST }, "expires_at"],
        ["PUT", `/api/keys/${key.id}`, { expiresAt: PAST }, "expiresAt"],
        ["PUT", `/api/keys/${key.id}`, { expires_at: new Date(Date.now() - 1000).toISOString() }, "expires_at"],
        ["POST", "/api/keys/management", { name: "x", expiresAt: PAST }, "expiresAt"],
        ["POST", "/api/billing-keys", { name: "x", expires_at: PAST }, "expires_at"],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await call(method, path, { token: user.token, body });
        expectFieldError(res, field);
        expect(res.text).toContain("future");
      }
    });
  });

  it("refuses both spellings of one field with conflicting values, naming them", async () => {
    await expectNothingWritten(async () => {
      const cases: Array<[string, string, Record<string, unknown>]> = [
        ["PUT", `/api/keys/${key.id}`, { isActive: true, active: false }],
        ["PUT", `/api/keys/${key.id}`, { isActive: false, active: true }],
        ["PUT", `/api/keys/${key.id}`, { expiresAt: FUTURE, expires_at: LATER }],
        ["PUT", `/api/keys/${key.id}`, { expiresAt: null, expires_at: LATER }],
        ["POST", "/api/keys/credit", { name: "x", expiresAt: FUTURE, expires_at: LATER }],
        ["POST", "/api/keys", { name: "x", expiresAt: FUTURE, expires_at: LATER }],
        ["POST", "/api/keys/management", { name: "x", expiresAt: FUTURE, expires_at: LATER }],
        ["POST", "/api/billing-keys", { name: "x", expiresAt: FUTURE, expires_at: LATER }],
      ];
      for (const [method, path, body] of cases) {
        const res = await call(method, path, { token: user.token, body });
        const [a, b] = "isActive" in body ? ["isActive", "active"] : ["expiresAt", "expires_at"];
        expectFieldError(res, b);
        expect(res.json.error.message).toContain(a);
      }
    });
  });

  it("refuses PUT with an empty object (nothing to update) with 400", async () => {
    await expectNothingWritten(async () => {
      const res = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: {} });
      expect4xx(res, 400, "validation_error", "empty PUT");
      expect(res.json.error.message).toMatch(/Nothing to update/);
      expect4xx(await call("PUT", `/api/keys/${key.id}`, { token: user.token }), 400, "validation_error", "PUT without body");
    });
  });

  it("refuses text containing a NUL character with 400 instead of failing in the database", async () => {
    await expectNothingWritten(async () => {
      expectFieldError(await call("POST", "/api/keys/credit", { token: user.token, body: { name: "a\u0000b" } }), "name");
      expectFieldError(await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { name: "\u0000" } }), "name");
      expectFieldError(await call("POST", "/api/keys/management", { token: user.token, body: { name: "m\u0000" } }), "name");
      expectFieldError(await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email: user.email, amountUsd: 1, note: "a\u0000" } }), "note");
      expectFieldError(await call("GET", "/api/keys?cursor=%00", { token: user.token }), "cursor");
    });
    const email = `nul-${crypto.randomUUID()}@example.com`;
    expectFieldError(await call("POST", "/api/auth/signup", { body: { email, password: "long enough pw", name: "Ada\u0000" } }), "name");
    expect(await (await prisma()).user.findUnique({ where: { email } })).toBeNull();
  });
});

describe("IDs that are not keys", () => {
  const badIds = ["does-not-exist", "a".repeat(65), "abc$def", "%00", "%E2%9C%93", "1", "clx1abc..."];

  it("answers PUT and DELETE on a consumption-key ID that does not exist with 404 not_found", async () => {
    await expectNothingWritten(async () => {
      for (const id of badIds) {
        expect4xx(await call("PUT", `/api/keys/${id}`, { token: user.token, body: { name: "x" } }), 404, "not_found", `PUT ${id}`);
        expect4xx(await call("DELETE", `/api/keys/${id}`, { token: user.token }), 404, "not_found", `DELETE ${id}`);
      }
    });
  });

  it("answers DELETE on a management-key ID that does not exist with 404 not_found on both routes", async () => {
    await expectNothingWritten(async () => {
      for (const id of badIds) {
        expect4xx(await call("DELETE", `/api/keys/management/${id}`, { token: user.token }), 404, "not_found", `mgmt ${id}`);
        expect4xx(await call("DELETE", `/api/billing-keys/${id}`, { token: user.token }), 404, "not_found", `billing ${id}`);
      }
    });
  });

  it("does not let a management-key ID address a consumption key or the reverse (404)", async () => {
    await expectNothingWritten(async () => {
      expect4xx(await call("PUT", `/api/keys/${mk.id}`, { token: user.token, body: { isActive: false } }), 404, "not_found", "PUT mk id");
      expect4xx(await call("DELETE", `/api/keys/${mk.id}`, { token: user.token }), 404, "not_found", "DELETE mk id");
      expect4xx(await call("DELETE", `/api/keys/management/${key.id}`, { token: user.token }), 404, "not_found", "mgmt sk id");
      expect4xx(await call("DELETE", `/api/billing-keys/${key.id}`, { token: user.token }), 404, "not_found", "billing sk id");
    });
  });

  it("answers an unknown /api path with a 404 in the native envelope", async () => {
    expect4xx(await call("GET", "/api/does-not-exist", { token: user.token }), 404, "not_found", "unknown path");
    expect4xx(await call("POST", "/api/keys/credit/extra", { token: user.token, body: {} }), 404, "not_found", "unknown subpath");
  });

  it("answers a method the path does not support with 405 in the envelope, naming the allowed ones in Allow", async () => {
    const res = await call("GET", "/api/keys/credit", { token: user.token });
    expect4xx(res, 405, "method_not_allowed", "GET on a POST-only route");
    expect(res.headers.get("allow")).toBe("POST");
    const put = await call("PATCH", "/api/keys", { token: user.token, body: {} });
    expect4xx(put, 405, "method_not_allowed", "PATCH on /api/keys");
    expect(put.headers.get("allow")).toBe("GET, POST");
  });
});
