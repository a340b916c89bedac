import crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { encode } from "next-auth/jwt";
import { EncryptJWT } from "jose";
import { prisma } from "@/lib/db";
import { authSecret } from "@/lib/env";
import { newKey } from "@/lib/keys/format";
import { call, createUser, expectError, ORIGIN, type ApiResponse } from "./api";
import { accountSnapshot, cookieOnly, createCreditKey, createManagementKey, listKeys, sameOriginCookie } from "./fixtures";

/** Every authenticated route and method, with an ID where the route takes one. */
function protectedRoutes(keyId: string, mkId: string): Array<[string, string, unknown?]> {
  return [
    ["GET", "/api/keys"],
    ["POST", "/api/keys", { name: "x" }],
    ["POST", "/api/keys/credit", { name: "x" }],
    ["POST", "/api/keys/subscription", {}],
    ["PUT", `/api/keys/${keyId}`, { name: "x" }],
    ["DELETE", `/api/keys/${keyId}`],
    ["GET", "/api/keys/management"],
    ["POST", "/api/keys/management", { name: "x" }],
    ["DELETE", `/api/keys/management/${mkId}`],
    ["GET", "/api/billing-keys"],
    ["POST", "/api/billing-keys", { name: "x" }],
    ["DELETE", `/api/billing-keys/${mkId}`],
    ["GET", "/api/billing/status"],
  ];
}

function expect401(res: ApiResponse, code?: string) {
  expectError(res, 401, code);
  expect(res.headers.get("www-authenticate")).toBe("Bearer");
}

describe("sign-up and tokens", () => {
  it("signs up with 201 and the public user only, lower-casing the email and storing an argon2id hash", async () => {
    const email = `Ada-${crypto.randomUUID()}@Example.COM`;
    const password = "correct horse battery staple";
    const res = await call("POST", "/api/auth/signup", { body: { email, password, name: "Ada" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.success).toBe(true);
    expect(Object.keys(res.json.data).sort()).toEqual(["createdAt", "email", "id", "name"]);
    expect(res.json.data).toMatchObject({ email: email.toLowerCase(), name: "Ada" });
    expect(res.text).not.toContain(password);

    const row = await (await prisma()).user.findUniqueOrThrow({ where: { id: res.json.data.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain(password);
  });

  it("refuses a second account for the same email, whatever its case, with 409 email_taken", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/auth/signup", { body: { email: user.email.toUpperCase(), password: "another password 123" } });
    expectError(res, 409, "email_taken");
  });

  it("refuses sign-up with a short password, a bad email or an unknown field with 400 naming the field", async () => {
    const email = `u-${crypto.randomUUID()}@example.com`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ email, password: "short" }, "password"],
      [{ email: "not-an-email", password: "long enough password" }, "email"],
      [{ email, password: "long enough password", role: "admin" }, "role"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/auth/signup", { body });
      expectError(res, 400, "validation_error");
      expect(res.text).toContain(field);
    }
    expect(await (await prisma()).user.findUnique({ where: { email } })).toBeNull();
  });

  it("issues {token, expiresAt} for the right password, valid for about 30 days", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/auth/token", { body: { email: user.email, password: user.password } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect(Object.keys(res.json.data).sort()).toEqual(["expiresAt", "token"]);
    const days = (Date.parse(res.json.data.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    expect((await call("GET", "/api/keys/management", { token: res.json.data.token })).status).toBe(200);
  });

  it("answers a wrong password and an unknown email with the same 401 invalid_credentials", async () => {
    const user = await createUser();
    const wrong = await call("POST", "/api/auth/token", { body: { email: user.email, password: "wrong password!" } });
    const unknown = await call("POST", "/api/auth/token", { body: { email: `nobody-${crypto.randomUUID()}@example.com`, password: "whatever123" } });
    expect401(wrong, "invalid_credentials");
    expect401(unknown, "invalid_credentials");
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
    expect(wrong.text).not.toContain("wrong password!");
  });

  it("rate-limits password guessing on one account: ten failures, then 429 with Retry-After even for the right password", async () => {
    const user = await createUser();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await call("POST", "/api/auth/token", { body: { email: user.email, password: `guess-${i}` } })).status);
    }
    expect(statuses).toEqual(Array(10).fill(401));
    const blocked = await call("POST", "/api/auth/token", { body: { email: user.email, password: "guess-10" } });
    expectError(blocked, 429, "rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expectError(await call("POST", "/api/auth/token", { body: { email: user.email, password: user.password } }), 429, "rate_limited");
  });

  it("never limits successful sign-ins, and a success clears the account's earlier failures", async () => {
    const user = await createUser();
    for (let i = 0; i < 9; i++) await call("POST", "/api/auth/token", { body: { email: user.email, password: `guess-${i}` } });
    for (let i = 0; i < 15; i++) {
      const ok = await call("POST", "/api/auth/token", { body: { email: user.email, password: user.password } });
      expect(ok.status, ok.text).toBe(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await call("POST", "/api/auth/token", { body: { email: user.email, password: `again-${i}` } })).status);
    }
    expect(statuses).toEqual(Array(10).fill(401));
  });

  it("evaluates at most ten passwords when forty wrong guesses for one account arrive in parallel; the rest get 429", async () => {
    const user = await createUser();
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call("POST", "/api/auth/token", { body: { email: user.email, password: `parallel-${i}` } })),
    );
    const statuses = burst.map((r) => r.status);
    expect(
      statuses.filter((s) => s !== 401 && s !== 429),
      statuses.join(","),
    ).toEqual([]);
    expect(statuses.filter((s) => s === 401).length, statuses.join(",")).toBeLessThanOrEqual(10);
    for (const res of burst.filter((r) => r.status === 429)) expectError(res, 429, "rate_limited");
  });

  it("gives no token for the right password hidden last in a parallel burst of 29 wrong guesses: at most ten attempts are evaluated", async () => {
    const user = await createUser();
    const passwords = [...Array.from({ length: 29 }, (_, i) => `burst-${i}`), user.password];
    const burst = await Promise.all(passwords.map((password) => call("POST", "/api/auth/token", { body: { email: user.email, password } })));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s !== 429).length, statuses.join(",")).toBeLessThanOrEqual(10);
    expect(statuses.at(-1), statuses.join(",")).toBe(429);
    expect(
      burst.some((r) => r.json?.data?.token),
      statuses.join(","),
    ).toBe(false);
  });

  it("clears the account's failures after a success, even when nine failures came right before it", async () => {
    const user = await createUser();
    for (let i = 0; i < 9; i++) {
      expect((await call("POST", "/api/auth/token", { body: { email: user.email, password: `before-${i}` } })).status).toBe(401);
    }
    expect((await call("POST", "/api/auth/token", { body: { email: user.email, password: user.password } })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await call("POST", "/api/auth/token", { body: { email: user.email, password: `after-${i}` } })).status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
  });
});

describe("auth precedence (one auth layer)", () => {
  it("accepts a session token as a Bearer on session routes and session-or-mk routes alike", async () => {
    const user = await createUser();
    expect((await call("GET", "/api/keys/management", { token: user.token })).status).toBe(200);
    expect((await call("GET", "/api/billing-keys", { token: user.token })).status).toBe(200);
    expect((await call("GET", "/api/keys", { token: user.token })).status).toBe(200);
    expect((await call("GET", "/api/billing/status", { token: user.token })).status).toBe(200);
  });

  it("lets a Bearer mk_ use every session-or-mk route for its owner", async () => {
    const user = await createUser({ creditUsd: 5 });
    const mk = await createManagementKey(user);
    const t = mk.apiKey;

    const list = await call("GET", "/api/keys", { token: t });
    expect(list.status, list.text).toBe(200);
    const credit = await call("POST", "/api/keys/credit", { token: t, body: { name: "via mk" } });
    expect(credit.status, credit.text).toBe(201);
    const proxy = await call("POST", "/api/keys", { token: t, body: { name: "via mk, ModelSwitch shape" } });
    expect(proxy.status, proxy.text).toBe(201);
    const put = await call("PUT", `/api/keys/${credit.json.data.id}`, { token: t, body: { name: "renamed via mk" } });
    expect(put.status, put.text).toBe(200);
    const del = await call("DELETE", `/api/keys/${proxy.json.id}`, { token: t });
    expect(del.status, del.text).toBe(200);
    const status = await call("GET", "/api/billing/status", { token: t });
    expect(status.status, status.text).toBe(200);
    expectError(await call("POST", "/api/keys/subscription", { token: t }), 409, "no_active_subscription");

    const keys = await listKeys(user);
    expect(keys.map((k) => [k.id, k.name])).toEqual([[credit.json.data.id, "renamed via mk"]]);
  });

  it("refuses a consumption key (sk_) as a Bearer on every management route with 403 consumption_key_not_allowed", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sk = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const before = await accountSnapshot(user);
    for (const token of [sk.apiKey, newKey("subscription").key, "sk_live_whatever"]) {
      for (const [method, path, body] of protectedRoutes(sk.id, mk.id)) {
        const res = await call(method, path, { token, body });
        expectError(res, 403, "consumption_key_not_allowed");
        expect(res.json.error.message).toMatch(/inference/);
      }
    }
    expect(await accountSnapshot(user)).toEqual(before);
  });

  it("refuses an mk_ with a bad checksum with 401 invalid_key before any database read", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    const last = mk.apiKey.at(-1) === "A" ? "B" : "A";
    const typo = mk.apiKey.slice(0, -1) + last;
    const db = await prisma();
    const lookup = vi.spyOn(db.managementKey, "findFirst");
    try {
      const res = await call("GET", "/api/keys", { token: typo });
      expect401(res, "invalid_key");
      expect(lookup).not.toHaveBeenCalled();
      // The same call with the real key does read the database: the spy works.
      expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
      expect(lookup).toHaveBeenCalledTimes(1);
    } finally {
      lookup.mockRestore();
    }
  });

  it("refuses a well-formed mk_ that was never issued with 401 invalid_key", async () => {
    expect401(await call("GET", "/api/keys", { token: newKey("management").key }), "invalid_key");
  });

  it("refuses garbage, malformed and non-Bearer Authorization headers with 401 and WWW-Authenticate: Bearer", async () => {
    const headers = ["Bearer garbage", "Bearer eyJhbGciOiJkaXIifQ.x.y.z.w", "Basic dXNlcjpwYXNz", "Bearer", "", "Token abc"];
    for (const authorization of headers) {
      expect401(await call("GET", "/api/keys", { headers: { authorization } }));
      expect401(await call("GET", "/api/keys/management", { headers: { authorization } }));
    }
  });

  it("answers requests without credentials with 401 and WWW-Authenticate: Bearer on every route", async () => {
    const user = await createUser({ creditUsd: 5 });
    const sk = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const before = await accountSnapshot(user);
    for (const [method, path, body] of protectedRoutes(sk.id, mk.id)) {
      const res = await call(method, path, { body, headers: { origin: ORIGIN } });
      expect401(res, "unauthorized");
    }
    expect(await accountSnapshot(user)).toEqual(before);
  });

  it("ignores the cookie when an Authorization header is present: a valid cookie with a bad Bearer gets 401", async () => {
    const user = await createUser({ creditUsd: 5 });
    await createCreditKey(user);
    const res = await call("GET", "/api/keys", { token: "not-a-token", headers: sameOriginCookie(user) });
    expect401(res, "invalid_session");
    const post = await call("POST", "/api/keys/credit", { token: "not-a-token", headers: sameOriginCookie(user), body: { name: "x" } });
    expect401(post, "invalid_session");
    expect(await listKeys(user)).toHaveLength(1);
  });

  it("acts as the Bearer's user, not the cookie's, when both are sent", async () => {
    const alice = await createUser({ creditUsd: 5 });
    const bob = await createUser({ creditUsd: 5 });
    const aliceKey = await createCreditKey(alice);
    const bobKey = await createCreditKey(bob);
    const res = await call("GET", "/api/keys", { token: bob.token, headers: cookieOnly(alice) });
    expect(res.json.data.map((k: { id: string }) => k.id)).toEqual([bobKey.id]);
    expect(res.text).not.toContain(aliceKey.id);
  });

  it("authenticates a GET by the NextAuth session cookie alone (both cookie names)", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    for (const cookie of [`next-auth.session-token=${user.token}`, `__Secure-next-auth.session-token=${user.token}`]) {
      const res = await call("GET", "/api/keys", { headers: { cookie: `theme=dark; ${cookie}` } });
      expect(res.status, res.text).toBe(200);
      expect(res.json.data.map((k: { id: string }) => k.id)).toEqual([key.id]);
    }
    expect((await call("GET", "/api/keys/management", { headers: cookieOnly(user) })).status).toBe(200);
  });

  it("accepts cookie-authenticated POST, PUT and DELETE from our own origin", async () => {
    const user = await createUser({ creditUsd: 5 });
    const headers = { cookie: `next-auth.session-token=${user.token}`, origin: ORIGIN };
    const created = await call("POST", "/api/keys/credit", { headers, body: { name: "from dashboard" } });
    expect(created.status, created.text).toBe(201);
    const put = await call("PUT", `/api/keys/${created.json.data.id}`, { headers, body: { isActive: false } });
    expect(put.status, put.text).toBe(200);
    const mk = await call("POST", "/api/keys/management", { headers: { ...cookieOnly(user), "sec-fetch-site": "same-origin" }, body: { name: "m" } });
    expect(mk.status, mk.text).toBe(201);
    const del = await call("DELETE", `/api/keys/${created.json.data.id}`, { headers });
    expect(del.status, del.text).toBe(200);
    expect(await listKeys(user)).toEqual([]);
  });

  it("refuses cookie-authenticated mutations from a foreign origin or a cross-site fetch with 403 cross_site_request, changing nothing", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { name: "target" });
    const mk = await createManagementKey(user);
    const before = await accountSnapshot(user);
    const forged: Array<Record<string, string>> = [
      { origin: "https://evil.example" },
      { origin: "http://localhost:3000.evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site", origin: ORIGIN },
      {}, // neither header: the origin cannot be proven
    ];
    for (const extra of forged) {
      const headers = { ...cookieOnly(user), ...extra };
      const attempts = [
        await call("POST", "/api/keys/credit", { headers, body: { name: "forged" } }),
        await call("POST", "/api/keys", { headers, body: { name: "forged" } }),
        await call("PUT", `/api/keys/${key.id}`, { headers, body: { isActive: false } }),
        await call("DELETE", `/api/keys/${key.id}`, { headers }),
        await call("POST", "/api/keys/management", { headers, body: { name: "forged" } }),
        await call("DELETE", `/api/keys/management/${mk.id}`, { headers }),
        await call("POST", "/api/billing-keys", { headers, body: { name: "forged" } }),
        await call("DELETE", `/api/billing-keys/${mk.id}`, { headers }),
      ];
      for (const res of attempts) expectError(res, 403, "cross_site_request");
    }
    expect(await accountSnapshot(user)).toEqual(before);
  });

  it("refuses the session token of a deleted account with 401, as a Bearer and as a cookie", async () => {
    const user = await createUser();
    expect((await call("GET", "/api/keys", { token: user.token })).status).toBe(200);
    await (await prisma()).user.delete({ where: { id: user.id } });
    expect401(await call("GET", "/api/keys", { token: user.token }), "invalid_session");
    expect401(await call("GET", "/api/keys", { headers: cookieOnly(user) }), "invalid_session");
    expect401(await call("POST", "/api/keys/management", { token: user.token, body: { name: "x" } }), "invalid_session");
  });

  it("refuses an expired, forged or tampered session token with 401", async () => {
    const user = await createUser();
    const claims = { sub: user.id, email: user.email, name: null };
    const expired = await encode({ token: claims, secret: authSecret(), maxAge: -120 });
    const forged = await encode({ token: claims, secret: "another-secret-0123456789abcdefghijklmnop", maxAge: 3600 });
    const i = Math.floor(user.token.length / 2);
    const tampered = user.token.slice(0, i) + (user.token[i] === "A" ? "B" : "A") + user.token.slice(i + 1);
    for (const token of [expired, forged, tampered]) {
      expect401(await call("GET", "/api/keys", { token }), "invalid_session");
      expect401(await call("GET", "/api/keys", { headers: { cookie: `next-auth.session-token=${token}` } }), "invalid_session");
    }
  });

  it("refuses a session token encrypted with the right key but not NextAuth's dir + A256GCM (PBES2 here) with 401 invalid_session", async () => {
    const user = await createUser();
    // The key next-auth derives from the secret, used as a PBES2 password: jose
    // would decrypt this token with that key unless the header is checked first.
    const key = new Uint8Array(crypto.hkdfSync("sha256", authSecret(), "", "NextAuth.js Generated Encryption Key", 32));
    const pbes2 = await new EncryptJWT({ sub: user.id, email: user.email, name: null })
      .setProtectedHeader({ alg: "PBES2-HS256+A128KW", enc: "A256GCM" })
      .setKeyManagementParameters({ p2c: 1000 })
      .setIssuedAt()
      .setExpirationTime("1h")
      .encrypt(key);
    expect401(await call("GET", "/api/keys", { token: pbes2 }), "invalid_session");
    expect401(await call("GET", "/api/keys", { headers: { cookie: `next-auth.session-token=${pbes2}` } }), "invalid_session");
  });

  it("refuses session tokens with a non-JSON header, alg none or the wrong number of segments, and still accepts a token from POST /api/auth/token", async () => {
    const user = await createUser();
    const [, ...rest] = user.token.split(".");
    const header = (h: string) => Buffer.from(h).toString("base64url");
    const refused = [
      [header("not json"), ...rest].join("."),
      [header(JSON.stringify({ alg: "none", enc: "A256GCM" })), ...rest].join("."),
      [header(JSON.stringify({ alg: "none" })), rest[0], ""].join("."),
      user.token.split(".").slice(0, 4).join("."),
      `${user.token}.extra`,
    ];
    for (const token of refused) expect401(await call("GET", "/api/keys", { token }), "invalid_session");

    const login = await call("POST", "/api/auth/token", { body: { email: user.email, password: user.password } });
    expect(login.status, login.text).toBe(200);
    expect((await call("GET", "/api/keys", { token: login.json.data.token })).status).toBe(200);
  });
});
