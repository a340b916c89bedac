import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "@/lib/auth/actor";
import { resetLogger } from "@/lib/ops/logger";
import { onCommitted } from "@/lib/writes/unit";
import { ADMIN_TOKEN, call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { cookieOnly, createManagementKey, sameOriginCookie } from "./fixtures";
import { setEnv } from "./gateway";

/**
 * Operators: users listed in KEYGATE_ADMIN_EMAILS use /api/admin/* with
 * their session (cookie or session token) as the admin token would, and are
 * recorded as themselves; anyone else signed in is told those endpoints do
 * not exist; a management key never gets in.
 */

let operator: TestUser;
let someone: TestUser;
let operatorMk: string;
let restore: () => void;

beforeAll(async () => {
  operator = await createUser();
  someone = await createUser();
  operatorMk = (await createManagementKey(operator)).apiKey;
});

// Listed in another case, with spaces, among others: the match is case-insensitive.
const asOperators = (...emails: string[]) => setEnv({ KEYGATE_ADMIN_EMAILS: ` ${emails.map((e) => e.toUpperCase()).join(" , ")} ,ops@example.com` });

afterEach(() => restore?.());

type Credential = { token?: string; headers?: Record<string, string> };

/** One call to each of three admin endpoints, a write among them. */
async function adminCalls(cred: Credential): Promise<Array<[string, ApiResponse]>> {
  return [
    ["POST /api/admin/credits", await call("POST", "/api/admin/credits", { ...cred, body: { email: someone.email, amountUsd: 1 } })],
    ["GET /api/admin/models", await call("GET", "/api/admin/models", cred)],
    ["GET /api/admin/upstreams", await call("GET", "/api/admin/upstreams", cred)],
  ];
}

describe("operators (KEYGATE_ADMIN_EMAILS)", () => {
  it("accepts an operator's session token and session cookie on every admin endpoint, as the admin token is", async () => {
    restore = asOperators(operator.email);
    for (const cred of [{ token: operator.token }, { headers: sameOriginCookie(operator) }, { token: ADMIN_TOKEN }]) {
      for (const [what, res] of await adminCalls(cred)) {
        expect(res.status, `${what} with ${JSON.stringify(cred).slice(0, 40)}: ${res.text}`).toBe(what.startsWith("POST") ? 201 : 200);
        expect(res.json.success).toBe(true);
      }
    }
  });

  it("answers a signed-in non-operator 404 on admin endpoints, exactly as an unknown path, writing nothing", async () => {
    restore = asOperators(operator.email);
    const before = (await call("GET", "/api/billing/status", { token: someone.token })).json.data;
    for (const cred of [{ token: someone.token }, { headers: sameOriginCookie(someone) }]) {
      for (const [what, res] of await adminCalls(cred)) {
        expectError(res, 404, "not_found");
        const path = what.split(" ")[1];
        const unknown = await call(what.split(" ")[0], `${path}-nothing-here`, cred);
        expect(res.json.error.message.replace(path, "…")).toBe(unknown.json.error.message.replace(`${path}-nothing-here`, "…"));
      }
    }
    expect(typeof before.balance).toBe("number");
    expect((await call("GET", "/api/billing/status", { token: someone.token })).json.data.balance).toBe(before.balance);
  });

  it("answers 404 to a signed-in user when only ADMIN_API_TOKEN is set (nobody is an operator)", async () => {
    restore = setEnv({ KEYGATE_ADMIN_EMAILS: undefined });
    for (const [, res] of await adminCalls({ token: operator.token })) expectError(res, 404, "not_found");
  });

  it("refuses with 401 a request without credentials, an operator's management key, and a bad session token", async () => {
    restore = asOperators(operator.email);
    for (const cred of [{}, { token: operatorMk }, { token: operator.token.slice(0, -2) + "xx" }, { headers: { cookie: "next-auth.session-token=nope" } }]) {
      for (const [what, res] of await adminCalls(cred)) {
        expect(res.status, `${what}: ${res.text}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
  });

  it("refuses an operator's cookie-authenticated change from another site with 403 cross_site_request", async () => {
    restore = asOperators(operator.email);
    const res = await call("POST", "/api/admin/credits", { headers: cookieOnly(operator), body: { email: someone.email, amountUsd: 1 } });
    expectError(res, 403, "cross_site_request");
  });

  it("works with KEYGATE_ADMIN_EMAILS alone (no ADMIN_API_TOKEN), and is off (404 admin_disabled) with neither", async () => {
    restore = setEnv({ ADMIN_API_TOKEN: undefined, KEYGATE_ADMIN_EMAILS: operator.email });
    expect((await call("GET", "/api/admin/upstreams", { token: operator.token })).status).toBe(200);
    expect((await call("GET", "/api/admin/upstreams")).status).toBe(401);
    restore();
    restore = setEnv({ ADMIN_API_TOKEN: undefined, KEYGATE_ADMIN_EMAILS: undefined });
    expectError(await call("GET", "/api/admin/upstreams", { token: operator.token }), 404, "admin_disabled");
  });

  it("records the operator's own account and credential as the actor of an admin write; the admin token has no user", async () => {
    restore = asOperators(operator.email);
    const actors: Actor[] = [];
    const stop = onCommitted(({ actor }) => void actors.push(actor));
    try {
      for (const cred of [{ token: operator.token }, { headers: sameOriginCookie(operator) }, { token: ADMIN_TOKEN }]) {
        const res = await call("POST", "/api/admin/credits", { ...cred, body: { email: someone.email, amountUsd: 1 } });
        expect(res.status, res.text).toBe(201);
      }
    } finally {
      stop();
    }
    expect(actors.map(({ userId, via, session }) => ({ userId, via, session }))).toEqual([
      { userId: operator.id, via: "admin", session: "session-token" },
      { userId: operator.id, via: "admin", session: "cookie" },
      { userId: null, via: "admin", session: undefined },
    ]);
  });

  it("tells the dashboard whether the session is an operator's in GET /api/account (never for a management key)", async () => {
    restore = asOperators(operator.email);
    const isOperator = async (cred: Credential) => {
      const res = await call("GET", "/api/account", cred);
      expect(res.status, res.text).toBe(200);
      return res.json.data.isOperator;
    };
    expect(await isOperator({ token: operator.token })).toBe(true);
    expect(await isOperator({ headers: sameOriginCookie(operator) })).toBe(true);
    expect(await isOperator({ token: operatorMk })).toBe(false);
    expect(await isOperator({ token: someone.token })).toBe(false);
    restore();
    restore = setEnv({ KEYGATE_ADMIN_EMAILS: undefined });
    expect(await isOperator({ token: operator.token })).toBe(false);
  });

  it("refuses a KEYGATE_ADMIN_EMAILS entry that is not an email address at start-up", async () => {
    restore = setEnv({ KEYGATE_ADMIN_EMAILS: "ops@example.com, not-an-email" });
    const logged: string[] = [];
    resetLogger({ write: (line: string) => void logged.push(line) });
    try {
      const res = await call("GET", "/api/admin/upstreams", { token: ADMIN_TOKEN });
      expect(res.status).toBe(500);
      expect(res.text).not.toContain("not-an-email");
    } finally {
      resetLogger();
    }
    expect(logged.join("\n")).toContain('KEYGATE_ADMIN_EMAILS entry \\"not-an-email\\" is not an email address');
  });
});
