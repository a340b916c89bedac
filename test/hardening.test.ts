import crypto from "node:crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { resetEnvCache } from "@/lib/env";
import { ADMIN_TOKEN, call, createUser, expectError, ORIGIN, readResponse, type ApiResponse, type TestUser } from "./api";
import { accountSnapshot, cookieOnly, createCreditKey, expectFieldError, type CreatedKey } from "./fixtures";

/**
 * Reading requests defensively: text that PostgreSQL cannot store, bodies
 * that are not JSON by their media type, credentials sent twice, and
 * cookie-authenticated writes from an origin that only looks like ours.
 * Every refusal is a 4xx in the envelope and writes nothing.
 */

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

/**
 * For what test/api.ts's call() cannot send: raw bytes, a body with no
 * Content-Type at all, or a header repeated with Headers.append.
 */
async function send(
  handler: Handler | undefined,
  method: string,
  path: string,
  init: { headers?: Headers; body?: BodyInit; params?: Record<string, string> } = {},
): Promise<ApiResponse> {
  if (!handler) throw new Error(`no ${method} handler for ${path}`);
  const headers = init.headers ?? new Headers();
  headers.set("host", "localhost:3000");
  headers.set("x-forwarded-for", `10.9.${crypto.randomInt(256)}.${crypto.randomInt(256)}`);
  const res = await handler(new Request(new URL(path, ORIGIN), { method, headers, body: init.body }), { params: Promise.resolve(init.params ?? {}) });
  return readResponse(res);
}

const bearer = (token: string, extra: Record<string, string> = {}) => new Headers({ authorization: `Bearer ${token}`, ...extra });
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

let user: TestUser;
let key: CreatedKey;
let creditRoute: { POST?: Handler };
let managementRoute: { POST?: Handler };
let signupRoute: { POST?: Handler };

beforeAll(async () => {
  user = await createUser({ creditUsd: 20 });
  key = await createCreditKey(user, { name: "existing" });
  creditRoute = await import("@/app/api/keys/credit/route");
  managementRoute = await import("@/app/api/keys/management/route");
  signupRoute = await import("@/app/api/auth/signup/route");
});

async function expectNothingWritten(attempts: () => Promise<void>) {
  const before = await accountSnapshot(user);
  await attempts();
  expect(await accountSnapshot(user)).toEqual(before);
}

async function expectNoUser(email: string) {
  expect(await (await prisma()).user.findUnique({ where: { email } })).toBeNull();
}

describe("text that is not well-formed Unicode", () => {
  // JSON text with a \uXXXX escape for half of a surrogate pair: valid JSON,
  // but no UTF-8 (and so no PostgreSQL text) can hold the string it decodes to.
  const lone = ["\\ud800", "\\udfff", "x\\udc00\\ud800y", "\\ud83d"];

  it("a lone UTF-16 surrogate in any text field is a 400 naming the field, and nothing is written", async () => {
    await expectNothingWritten(async () => {
      for (const s of lone) {
        const name = `{"name":"${s}"}`;
        expectFieldError(await call("POST", "/api/keys/credit", { token: user.token, body: name }), "name");
        expectFieldError(await call("POST", "/api/keys", { token: user.token, body: name }), "name");
        expectFieldError(await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: name }), "name");
        expectFieldError(await call("POST", "/api/keys/management", { token: user.token, body: name }), "name");
        expectFieldError(await call("POST", "/api/billing-keys", { token: user.token, body: name }), "name");
        const note = `{"email":${JSON.stringify(user.email)},"amountUsd":1,"note":"${s}"}`;
        const admin = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: note });
        expectFieldError(admin, "note");
        expect(admin.json.error.details[0].path).toBe("note");
        expect(admin.json.error.message).toMatch(/Unicode/);
      }
    });
    const email = `surrogate-${crypto.randomUUID()}@example.com`;
    const signup = await call("POST", "/api/auth/signup", { body: `{"email":"${email}","password":"long enough pw","name":"Ada \\ud800"}` });
    expectFieldError(signup, "name");
    expect(signup.json.error.details[0].path).toBe("name");
    await expectNoUser(email);
  });

  it("a password with a lone surrogate is refused with 400 naming the field, at sign-up and at sign-in, before any comparison", async () => {
    const email = `pw-${crypto.randomUUID()}@example.com`;
    expectFieldError(await call("POST", "/api/auth/signup", { body: `{"email":"${email}","password":"long enough \\ud800 pw"}` }), "password");
    await expectNoUser(email);
    const signIn = await call("POST", "/api/auth/token", { body: `{"email":${JSON.stringify(user.email)},"password":"\\udfff${user.password}"}` });
    expectFieldError(signIn, "password");
    expect(signIn.text).not.toContain(user.password);
  });

  it("a lone surrogate in a field name is a 400 validation_error, and nothing is written", async () => {
    await expectNothingWritten(async () => {
      const res = await call("POST", "/api/keys/credit", { token: user.token, body: '{"name":"ok","\\ud800":1}' });
      expect(res.status, res.text).toBe(400);
      expect(res.json.error.code).toBe("validation_error");
      expect(res.json.error.message).toMatch(/field name/);
    });
  });

  it("invalid UTF-8 bytes inside a text field are a 400 naming the field, and nothing is written", async () => {
    const json = new Headers({ "content-type": "application/json" });
    await expectNothingWritten(async () => {
      for (const bad of [[0xff], [0xed, 0xa0, 0x80] /* a surrogate encoded as UTF-8 */, [0xc3] /* truncated é */, [0xc0, 0xaf] /* overlong "/" */]) {
        const body = bytes('{"name":"key ', bad, ' name"}');
        const res = await send(creditRoute.POST, "POST", "/api/keys/credit", { headers: bearer(user.token, { "content-type": "application/json" }), body });
        expectFieldError(res, "name");
        expect(res.json.error.details[0].path).toBe("name");
        expect(res.json.error.message).toMatch(/UTF-8/);
      }
    });
    const email = `utf8-${crypto.randomUUID()}@example.com`;
    const signup = await send(signupRoute.POST, "POST", "/api/auth/signup", {
      headers: json,
      body: bytes(`{"email":"${email}","password":"long enough pw","name":"A`, [0xff], '"}'),
    });
    expectFieldError(signup, "name");
    await expectNoUser(email);
  });

  it("invalid UTF-8 outside any string is a 400 saying the body is not valid UTF-8", async () => {
    await expectNothingWritten(async () => {
      const res = await send(creditRoute.POST, "POST", "/api/keys/credit", {
        headers: bearer(user.token, { "content-type": "application/json" }),
        body: bytes('{"name":"x"', [0xff], "}"),
      });
      expect(res.status, res.text).toBe(400);
      expect(res.json.error.code).toBe("invalid_json");
      expect(res.json.error.message).toMatch(/not valid UTF-8/);
    });
  });

  it("well-formed text outside ASCII (accents, CJK, emoji as a surrogate pair) is stored and returned unchanged", async () => {
    for (const name of ["Café ☕", "鍵 🔑", "\u{1F600}"]) {
      const res = await call("POST", "/api/keys/credit", { token: user.token, body: `{"name":${JSON.stringify(name)}}` });
      expect(res.status, res.text).toBe(201);
      expect(res.json.data.name).toBe(name);
      expect((await call("DELETE", `/api/keys/${res.json.data.id}`, { token: user.token })).status).toBe(200);
    }
    // The same emoji written as a JSON escape pair is well-formed too.
    const escaped = await call("POST", "/api/keys/credit", { token: user.token, body: '{"name":"\\ud83d\\ude00"}' });
    expect(escaped.status, escaped.text).toBe(201);
    expect(escaped.json.data.name).toBe("\u{1F600}");
    await call("DELETE", `/api/keys/${escaped.json.data.id}`, { token: user.token });
  });
});

describe("Content-Type of a request body", () => {
  it("a non-empty body that is not declared as application/json is 415 unsupported_media_type, and nothing is written", async () => {
    const body = JSON.stringify({ name: "typed wrong" });
    await expectNothingWritten(async () => {
      for (const type of [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
        "application/jsonx",
        "application/json, text/plain",
      ]) {
        const res = await call("POST", "/api/keys/credit", { token: user.token, body, headers: { "content-type": type } });
        expectError(res, 415, "unsupported_media_type");
        expect(res.json.error.message).toContain("Content-Type: application/json");
      }
      // No Content-Type at all (a byte body gets none from fetch).
      const untyped = await send(creditRoute.POST, "POST", "/api/keys/credit", { headers: bearer(user.token), body: Buffer.from(body) });
      expectError(untyped, 415, "unsupported_media_type");
      expect(untyped.json.error.message).toContain("Content-Type: application/json");
    });
    const email = `type-${crypto.randomUUID()}@example.com`;
    const signup = await call("POST", "/api/auth/signup", { body: { email, password: "long enough pw" }, headers: { "content-type": "text/plain" } });
    expectError(signup, 415, "unsupported_media_type");
    await expectNoUser(email);
  });

  it("application/json with or without charset=utf-8, in any case, is accepted", async () => {
    for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8", 'application/json; charset="utf-8"']) {
      const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "typed right" }, headers: { "content-type": type } });
      expect(res.status, `${type}: ${res.text}`).toBe(201);
      await call("DELETE", `/api/keys/${res.json.data.id}`, { token: user.token });
    }
  });

  it("a request with no body at all needs no Content-Type", async () => {
    expectError(await call("POST", "/api/keys/subscription", { token: user.token }), 409, "no_active_subscription");
    expectError(
      await send((await import("@/app/api/keys/subscription/route")).POST, "POST", "/api/keys/subscription", {
        headers: bearer(user.token, { "content-type": "text/plain" }),
      }),
      409,
      "no_active_subscription",
    );
    expectFieldError(await send(managementRoute.POST, "POST", "/api/keys/management", { headers: bearer(user.token) }), "name");
    expectFieldError(await send(managementRoute.POST, "POST", "/api/keys/management", { headers: bearer(user.token), body: new Uint8Array(0) }), "name");
  });
});

describe("credential headers sent more than once", () => {
  it("two Authorization headers are a 400 duplicate_credentials, whatever else the request carries, and nothing is written", async () => {
    await expectNothingWritten(async () => {
      const twice = new Headers({ "content-type": "application/json" });
      twice.append("authorization", `Bearer ${user.token}`);
      twice.append("authorization", `Bearer ${user.token}`);
      expectError(await send(creditRoute.POST, "POST", "/api/keys/credit", { headers: twice, body: '{"name":"twice"}' }), 400, "duplicate_credentials");

      for (const authorization of ["Bearer a, Bearer b", `Bearer ${user.token}, Bearer ${user.token}`, `Bearer ${user.token},`]) {
        const cases: Array<[string, string, unknown]> = [
          ["POST", "/api/keys/credit", { name: "dup" }],
          ["GET", "/api/keys", undefined],
          ["POST", "/api/keys/management", { name: "dup" }],
          ["POST", "/api/auth/signup", { email: "dup@example.com", password: "long enough pw" }],
          ["POST", "/api/admin/credits", { email: user.email, amountUsd: 1 }],
          ["GET", "/api/does-not-exist", undefined],
        ];
        for (const [method, path, body] of cases) {
          const res = await call(method, path, { body, headers: { authorization } });
          expectError(res, 400, "duplicate_credentials");
          expect(res.text).not.toContain(user.token);
        }
      }
      // Even beside a valid session cookie sent from our own origin.
      const withCookie = await call("POST", "/api/keys/credit", {
        body: { name: "dup" },
        headers: { ...cookieOnly(user), origin: ORIGIN, authorization: "Bearer a, Bearer b" },
      });
      expectError(withCookie, 400, "duplicate_credentials");
    });
    await expectNoUser("dup@example.com");
  });

  it("two x-api-key headers are a 400 duplicate_credentials", async () => {
    const twice = new Headers();
    twice.append("x-api-key", "sk_a");
    twice.append("x-api-key", "sk_b");
    twice.set("authorization", `Bearer ${user.token}`);
    expectError(await send((await import("@/app/api/keys/route")).GET, "GET", "/api/keys", { headers: twice }), 400, "duplicate_credentials");
    expectError(await call("GET", "/api/keys", { token: user.token, headers: { "x-api-key": "sk_a,sk_b" } }), 400, "duplicate_credentials");
  });

  it("one Authorization and one x-api-key are not duplicates", async () => {
    const res = await call("GET", "/api/keys", { token: user.token, headers: { "x-api-key": "sk_whatever" } });
    expect(res.status, res.text).toBe(200);
  });
});

describe("CSRF: the origin must match in scheme, host and port", () => {
  afterEach(() => {
    delete process.env.TRUST_PROXY;
    resetEnvCache();
  });

  function trustProxy(value: string | undefined) {
    if (value === undefined) delete process.env.TRUST_PROXY;
    else process.env.TRUST_PROXY = value;
    resetEnvCache();
  }

  const writes = (headers: Record<string, string>) => [
    () => call("POST", "/api/keys/credit", { headers, body: { name: "forged" } }),
    () => call("PUT", `/api/keys/${key.id}`, { headers, body: { isActive: false } }),
    () => call("DELETE", `/api/keys/${key.id}`, { headers }),
    () => call("POST", "/api/keys/management", { headers, body: { name: "forged" } }),
  ];

  it("an https origin on an http server (same host and port) is refused with 403 cross_site_request, and nothing is written", async () => {
    await expectNothingWritten(async () => {
      for (const origin of ["https://localhost:3000", "http://localhost:3001", "http://localhost", "https://localhost"]) {
        for (const attempt of writes({ ...cookieOnly(user), origin })) expectError(await attempt(), 403, "cross_site_request");
      }
    });
  });

  it("X-Forwarded-Host is ignored unless TRUST_PROXY is set: a forged one cannot make a foreign origin look like ours", async () => {
    const forged = { ...cookieOnly(user), origin: "http://evil.example", "x-forwarded-host": "evil.example" };
    for (const setting of [undefined, ""]) {
      trustProxy(setting);
      await expectNothingWritten(async () => {
        for (const attempt of writes(forged)) expectError(await attempt(), 403, "cross_site_request");
      });
    }
  });

  it("with TRUST_PROXY naming the proxy, X-Forwarded-Host and X-Forwarded-Proto name the server's own origin", async () => {
    for (const setting of ["loopback", "127.0.0.1"]) {
      trustProxy(setting);
      const proxied = { ...cookieOnly(user), origin: "http://evil.example", "x-forwarded-host": "evil.example" };
      const created = await call("POST", "/api/keys/credit", { headers: proxied, body: { name: "via proxy" } });
      expect(created.status, created.text).toBe(201);
      expect((await call("DELETE", `/api/keys/${created.json.data.id}`, { headers: proxied })).status).toBe(200);

      const tls = { ...cookieOnly(user), "x-forwarded-host": "keygate.example", "x-forwarded-proto": "https" };
      const viaTls = await call("POST", "/api/keys/credit", { headers: { ...tls, origin: "https://keygate.example" }, body: { name: "via tls proxy" } });
      expect(viaTls.status, viaTls.text).toBe(201);
      await call("DELETE", `/api/keys/${viaTls.json.data.id}`, { token: user.token });
      await expectNothingWritten(async () => {
        expectError(
          await call("POST", "/api/keys/credit", { headers: { ...tls, origin: "http://keygate.example" }, body: { name: "x" } }),
          403,
          "cross_site_request",
        );
      });
    }
  });

  it("same-origin cookie writes are still accepted, by the Host header or by NEXTAUTH_URL", async () => {
    const own = await call("POST", "/api/keys/credit", { headers: { ...cookieOnly(user), origin: ORIGIN }, body: { name: "own origin" } });
    expect(own.status, own.text).toBe(201);
    await call("DELETE", `/api/keys/${own.json.data.id}`, { token: user.token });
    // Reached by another name (Host: 127.0.0.1:3000), from the page at NEXTAUTH_URL.
    const byConfig = await call("POST", "/api/keys/credit", {
      headers: { ...cookieOnly(user), host: "127.0.0.1:3000", origin: "http://localhost:3000" },
      body: { name: "configured origin" },
    });
    expect(byConfig.status, byConfig.text).toBe(201);
    await call("DELETE", `/api/keys/${byConfig.json.data.id}`, { token: user.token });
    const byHost = await call("POST", "/api/keys/credit", {
      headers: { ...cookieOnly(user), host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" },
      body: { name: "host origin" },
    });
    expect(byHost.status, byHost.text).toBe(201);
    await call("DELETE", `/api/keys/${byHost.json.data.id}`, { token: user.token });
  });
});
