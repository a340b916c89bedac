import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET as getOpenApiJson } from "@/app/api/openapi.json/route";
import { openApiDocument, operations, responseSchema, type HttpMethod } from "@/lib/openapi";
import { ADMIN_TOKEN, call, type ApiResponse } from "@/test/api";

const API_DIR = path.join(import.meta.dirname, "..", "app", "api");
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** Every route file under app/api with the HTTP methods it exports, as OpenAPI paths. */
function routeFiles(): Array<{ path: string; methods: string[] }> {
  const out: Array<{ path: string; methods: string[] }> = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        // The catch-all 404 and NextAuth's internals are not part of the API.
        if (!entry.name.startsWith("[...")) walk(full);
      } else if (entry.name === "route.ts") {
        const rel = path.relative(API_DIR, dir).split(path.sep).filter(Boolean);
        const apiPath = "/" + ["api", ...rel].map((s) => s.replace(/^\[(\w+)\]$/, "{$1}")).join("/");
        out.push({ path: apiPath, methods: exportedMethods(fs.readFileSync(full, "utf8")) });
      }
    }
  };
  walk(API_DIR);
  return out;
}

function exportedMethods(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/export\s+(?:const|let|(?:async\s+)?function)\s+([A-Z]+)\b/g)) found.add(m[1]);
  for (const m of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const spec of m[1].split(",")) {
      const name = spec.trim().split(/\s+as\s+/).pop();
      if (name) found.add(name);
    }
  }
  return [...found].filter((n) => (HTTP_METHODS as readonly string[]).includes(n)).sort();
}

/** Fails unless the response's status is documented for the operation and its body matches the documented schema. */
function expectDocumented(method: HttpMethod, template: string, res: ApiResponse) {
  const schema = responseSchema(method, template, res.status);
  expect(schema, `${method.toUpperCase()} ${template} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  const parsed = schema!.safeParse(res.json);
  expect(parsed.success, `${method.toUpperCase()} ${template} ${res.status} does not match its documented schema: ${parsed.error?.message}\n${res.text}`).toBe(true);
}

describe("OpenAPI document", () => {
  it("is an OpenAPI 3.1.0 document", () => {
    const doc = openApiDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "managementKey", "sessionCookie", "sessionToken"]);
  });

  it("documents every method of every route file under app/api, and nothing that does not exist", () => {
    const doc = openApiDocument();
    const files = routeFiles();
    expect(files.length).toBeGreaterThan(10);
    const inRoutes = files.flatMap((f) => f.methods.map((m) => `${m} ${f.path}`)).sort();
    const inDoc = Object.entries(doc.paths)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    for (const f of files) expect(f.methods.length, `${f.path} exports no HTTP method`).toBeGreaterThan(0);
    expect(inDoc).toEqual(inRoutes);
    expect(inDoc).toContain("PUT /api/keys/{id}");
    expect(inDoc).not.toContain("GET /api/auth/{nextauth}");
  });

  it("describes POST /api/keys/credit's body from the handler's schema: name required, unknown fields refused", () => {
    const op = openApiDocument().paths["/api/keys/credit"]?.post;
    const schema = op?.requestBody?.content["application/json"].schema;
    expect(schema?.required).toContain("name");
    expect(schema?.additionalProperties).toBe(false);
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(["name", "maxBudget", "rpm", "tpm", "expiresAt", "expires_at"]));
    expect(op?.security).toContainEqual({ managementKey: [] });
  });

  it("keeps management-key endpoints session-only, as PRODUCT.md decision 5 says", () => {
    const doc = openApiDocument();
    for (const p of ["/api/keys/management", "/api/keys/management/{id}", "/api/billing-keys", "/api/billing-keys/{id}"]) {
      for (const op of Object.values(doc.paths[p] ?? {})) {
        expect(op.security).not.toContainEqual({ managementKey: [] });
        expect(op.responses["403"]?.description).toContain("management_key_not_allowed");
      }
    }
  });

  it("is served at GET /api/openapi.json as JSON", async () => {
    const res = await getOpenApiJson(new Request("http://localhost:3000/api/openapi.json"), { params: Promise.resolve({}) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.json();
    expect(body.openapi).toBe("3.1.0");
    expect(body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});

describe("the document matches what the API does", () => {
  it("enforces the documented auth on every operation", async () => {
    const email = `docs-${crypto.randomUUID()}@example.com`;
    const password = `pw-${crypto.randomBytes(8).toString("hex")}`;
    expect((await call("POST", "/api/auth/signup", { body: { email, password } })).status).toBe(201);
    const session = (await call("POST", "/api/auth/token", { body: { email, password } })).json.data.token as string;
    const mk = (await call("POST", "/api/keys/management", { token: session, body: { name: "docs" } })).json.data.apiKey as string;

    for (const op of operations) {
      if (op.auth === "none") continue;
      const url = op.path.replace("{id}", "doc-test-missing-id");
      const method = op.method.toUpperCase();
      const body = op.method === "get" || op.method === "delete" ? undefined : {};

      const anonymous = await call(method, url, { body });
      expect(anonymous.status, `${method} ${op.path} without credentials`).toBe(401);
      expectDocumented(op.method, op.path, anonymous);
      if (op.auth === "admin") continue;

      const withMk = await call(method, url, { token: mk, body });
      if (op.auth === "session") {
        expect(withMk.status, `${method} ${op.path} with a management key`).toBe(403);
        expect(withMk.json.error.code).toBe("management_key_not_allowed");
      } else {
        expect([401, 403], `${method} ${op.path} with a management key: ${withMk.text}`).not.toContain(withMk.status);
      }
      expectDocumented(op.method, op.path, withMk);
    }
  });

  it("answers with the documented statuses and shapes", async () => {
    const email = `docs-${crypto.randomUUID()}@example.com`;
    const password = `pw-${crypto.randomBytes(8).toString("hex")}`;

    const signup = await call("POST", "/api/auth/signup", { body: { email, password, name: "Ada" } });
    expectDocumented("post", "/api/auth/signup", signup);
    expectDocumented("post", "/api/auth/signup", await call("POST", "/api/auth/signup", { body: { email, password } }));
    expectDocumented("post", "/api/auth/token", await call("POST", "/api/auth/token", { body: { email, password: "wrong-password" } }));
    const login = await call("POST", "/api/auth/token", { body: { email, password } });
    expectDocumented("post", "/api/auth/token", login);
    const token: string = login.json.data.token;

    expectDocumented("post", "/api/keys/credit", await call("POST", "/api/keys/credit", { token, body: { name: "broke" } }));
    expectDocumented("post", "/api/admin/credits", await call("POST", "/api/admin/credits", { token: "wrong", body: { email, amountUsd: 5 } }));
    expectDocumented("post", "/api/admin/credits", await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email, amountUsd: 5 } }));

    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const credit = await call("POST", "/api/keys/credit", { token, body: { name: "ci", rpm: 10, maxBudget: 2.5, expiresAt } });
    expect(credit.status).toBe(201);
    expectDocumented("post", "/api/keys/credit", credit);
    expectDocumented("post", "/api/keys/credit", await call("POST", "/api/keys/credit", { token, body: { name: "x", apiKey: "mine" } }));
    const proxy = await call("POST", "/api/keys", { token, body: { name: "proxy", expires_at: expiresAt } });
    expect(proxy.status).toBe(201);
    expectDocumented("post", "/api/keys", proxy);

    const page = await call("GET", "/api/keys?limit=1", { token });
    expect(page.json.nextCursor).toEqual(expect.any(String));
    expectDocumented("get", "/api/keys", page);
    expectDocumented("get", "/api/keys", await call("GET", "/api/keys?limit=0", { token }));
    expectDocumented("get", "/api/keys", await call("GET", "/api/keys", { token: credit.json.data.apiKey }));

    const id: string = credit.json.data.id;
    expectDocumented("put", "/api/keys/{id}", await call("PUT", `/api/keys/${id}`, { token, body: { active: false, tpm: null } }));
    expectDocumented("put", "/api/keys/{id}", await call("PUT", `/api/keys/${id}`, { token, body: {} }));
    expectDocumented("delete", "/api/keys/{id}", await call("DELETE", `/api/keys/${id}`, { token }));
    expectDocumented("delete", "/api/keys/{id}", await call("DELETE", `/api/keys/${id}`, { token }));
    expectDocumented("post", "/api/keys/subscription", await call("POST", "/api/keys/subscription", { token, body: {} }));

    const mk = await call("POST", "/api/keys/management", { token, body: { name: "deploy", expiresAt } });
    expectDocumented("post", "/api/keys/management", mk);
    expectDocumented("get", "/api/keys/management", await call("GET", "/api/keys/management", { token }));
    expectDocumented("get", "/api/billing/status", await call("GET", "/api/billing/status", { token: mk.json.data.apiKey }));
    expectDocumented("delete", "/api/keys/management/{id}", await call("DELETE", `/api/keys/management/${mk.json.data.id}`, { token }));

    const billingKey = await call("POST", "/api/billing-keys", { token, body: { name: "billing", expires_at: expiresAt } });
    expectDocumented("post", "/api/billing-keys", billingKey);
    const billingKeys = await call("GET", "/api/billing-keys", { token });
    expect(billingKeys.json.keys).toHaveLength(1);
    expectDocumented("get", "/api/billing-keys", billingKeys);
    expectDocumented("delete", "/api/billing-keys/{id}", await call("DELETE", `/api/billing-keys/${billingKey.json.id}`, { token }));
    expectDocumented("delete", "/api/billing-keys/{id}", await call("DELETE", `/api/billing-keys/${billingKey.json.id}`, { token }));

    const status = await call("GET", "/api/billing/status", { token });
    expect(status.json.data.balance).toBe(5);
    expectDocumented("get", "/api/billing/status", status);
  });
});
