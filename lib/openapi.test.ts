import crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { operations, TAGS } from "@/lib/api/operations";
import { handle, OPERATION } from "@/lib/http/route";
import { defineOperation, pathParamNames, successBodySchema } from "@/lib/http/operation";
import { openApiDocument, responseSchema } from "@/lib/openapi";
import { ADMIN_TOKEN, call, ROUTE_FILES, routeFileFor, type ApiResponse } from "@/test/api";
import { z } from "zod";
import { logger } from "@/lib/ops/logger";

/** Fails unless the response's status is documented for the operation and its body matches the documented schema. */
function expectDocumented(method: string, template: string, res: ApiResponse) {
  const schema = responseSchema(method, template, res.status);
  expect(schema, `${method.toUpperCase()} ${template} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  const parsed = schema!.safeParse(res.json);
  expect(parsed.success, `${method.toUpperCase()} ${template} ${res.status} does not match its documented schema: ${parsed.error?.message}\n${res.text}`).toBe(
    true,
  );
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const byNext = operations.filter((o) => (o.servedBy ?? "next") === "next");

describe("operation declarations", () => {
  it("declare each operation once: unique ids, unique method and path, and a tag the reference lists", () => {
    const ids = operations.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    const routes = operations.map((o) => `${o.method} ${o.path}`);
    expect(new Set(routes).size).toBe(routes.length);
    const tags: string[] = TAGS.map((t) => t.name);
    for (const op of operations) expect(tags, op.id).toContain(op.tag);
  });

  it("carry examples that their own schemas accept, for the request body, the path and the response", () => {
    for (const op of operations) {
      if (op.body) {
        expect(op.examples.body, `${op.id} has a body but no request example`).toBeDefined();
        const body = op.body.safeParse(op.examples.body);
        expect(body.success, `${op.id}'s request example: ${body.error?.message}`).toBe(true);
      }
      for (const name of pathParamNames(op.path)) expect(op.examples.params?.[name], `${op.id} has no example for {${name}}`).toBeTruthy();
      if (op.query && op.examples.query) {
        const query = op.query.safeParse(op.examples.query);
        expect(query.success, `${op.id}'s query example: ${query.error?.message}`).toBe(true);
      }
      const response = op.response.schema.safeParse(op.examples.response);
      expect(response.success, `${op.id}'s response example: ${response.error?.message}`).toBe(true);
    }
  });

  it("are served: each Next-served operation by the route file at its path, which answers every other method with 405 and Allow", async () => {
    for (const path of new Set(byNext.map((o) => o.path))) {
      const load = ROUTE_FILES[routeFileFor(path)];
      expect(load, `${routeFileFor(path)} is missing`).toBeDefined();
      const mod = await load!();
      const declared = byNext.filter((o) => o.path === path);
      for (const method of METHODS) {
        const handler = mod[method] as ((...args: never[]) => unknown) & { [OPERATION]?: string };
        expect(handler, `${path} exports no ${method}`).toBeTypeOf("function");
        expect(handler[OPERATION], `${method} ${path}`).toBe(declared.find((o) => o.method === method)?.id);
      }
      const unsupported = METHODS.find((m) => !declared.some((o) => o.method === m))!;
      const res = await call(unsupported, path.replace(/\{\w+\}/g, "some-id"));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")?.split(", ").sort()).toEqual(declared.map((o) => o.method).sort());
      expect(res.json.error.code).toBe("method_not_allowed");
    }
  });

  it("cover every route file under app/api: no route file serves an undeclared operation", () => {
    const declaredFiles = new Set(byNext.map((o) => routeFileFor(o.path)));
    const files = Object.keys(ROUTE_FILES).filter((f) => !f.includes("[..."));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(declaredFiles, file).toContain(file);
  });

  it("a handler whose answer drifts from its declaration fails loudly outside production instead of sending it", async () => {
    const op = defineOperation({
      id: "driftCheck",
      method: "GET",
      path: "/api/drift-check",
      tag: "Meta",
      summary: "test",
      auth: "none",
      response: { status: 200, description: "test", schema: z.strictObject({ n: z.number() }), shape: "envelope" },
      examples: { response: { n: 1 } },
    });
    const drifting = handle(op, async () => ({ n: "one" }) as unknown as { n: number });
    const log = vi.spyOn(logger(), "error").mockImplementation(() => {});
    const res = await drifting.run(new Request("http://localhost:3000/api/drift-check"), {});
    expect(log.mock.calls.join(" ")).toContain("answered a body its declaration does not describe");
    log.mockRestore();
    expect(res.status).toBe(500);
    expect((await res.json()).error.code).toBe("internal_error");
    const honest = handle(op, async () => ({ n: 1 }));
    expect(await (await honest.run(new Request("http://localhost:3000/api/drift-check"), {})).json()).toEqual({ success: true, data: { n: 1 } });
  });
});

describe("OpenAPI document", () => {
  it("is an OpenAPI 3.1.0 document whose security schemes are named for people", () => {
    const doc = openApiDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["AdminToken", "ManagementKey", "SessionCookie", "SessionToken"]);
    for (const [name, scheme] of Object.entries(doc.components.securitySchemes)) {
      expect(name).toMatch(/^[a-zA-Z0-9.\-_]+$/);
      expect(scheme.description.toLowerCase()).toMatch(new RegExp(`^${name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}:`));
    }
  });

  it("documents exactly the declared operations, with a request example for every body and a response example for every operation", () => {
    const doc = openApiDocument();
    const inDoc = Object.entries(doc.paths)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(inDoc).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());
    expect(inDoc).toContain("PUT /api/keys/{id}");
    expect(inDoc).toContain("GET /api/account");
    for (const op of operations) {
      const documented = doc.paths[op.path]![op.method.toLowerCase() as "get"]!;
      const success = documented.responses[String(op.response.status)]!.content!["application/json"];
      expect(successBodySchema(op).safeParse(success.example).success, op.id).toBe(true);
      if (op.body) expect(documented.requestBody?.content["application/json"].example, op.id).toEqual(op.examples.body);
    }
  });

  it("describes every request field and query parameter, from the schemas' own metadata", () => {
    const doc = openApiDocument();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const body = op.requestBody?.content["application/json"].schema;
        for (const [name, field] of Object.entries((body?.properties ?? {}) as Record<string, { description?: string }>)) {
          expect(field.description, `${method.toUpperCase()} ${path} body field '${name}'`).toBeTruthy();
        }
        for (const param of op.parameters ?? []) expect(param.description, `${method.toUpperCase()} ${path} parameter '${param.name}'`).toBeTruthy();
      }
    }
  });

  it("describes POST /api/keys/credit's body from the handler's schema: name required, unknown fields refused", () => {
    const op = openApiDocument().paths["/api/keys/credit"]?.post;
    const schema = op?.requestBody?.content["application/json"].schema;
    expect(schema?.required).toContain("name");
    expect(schema?.additionalProperties).toBe(false);
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(["name", "maxBudget", "rpm", "tpm", "expiresAt", "expires_at"]));
    expect((schema?.properties as Record<string, { default?: number }>).rpm.default).toBe(60);
    expect(op?.security).toContainEqual({ ManagementKey: [] });
  });

  it("keeps management-key endpoints session-only, so a leaked mk_ cannot mint successors", () => {
    const doc = openApiDocument();
    for (const p of ["/api/keys/management", "/api/keys/management/{id}", "/api/billing-keys", "/api/billing-keys/{id}"]) {
      for (const op of Object.values(doc.paths[p] ?? {})) {
        expect(op.security).not.toContainEqual({ ManagementKey: [] });
        expect(op.responses["403"]?.description).toContain("management_key_not_allowed");
      }
    }
  });

  it("is served at GET /api/openapi.json as JSON", async () => {
    const res = await call("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.json.openapi).toBe("3.1.0");
    expect(res.json).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
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
      const method = op.method;
      const body = op.method === "GET" || op.method === "DELETE" ? undefined : {};

      const anonymous = await call(method, url, { body });
      expect(anonymous.status, `${method} ${op.path} without credentials`).toBe(401);
      expectDocumented(method, op.path, anonymous);
      if (op.auth === "admin") continue;

      const withMk = await call(method, url, { token: mk, body });
      if (op.auth === "session") {
        expect(withMk.status, `${method} ${op.path} with a management key`).toBe(403);
        expect(withMk.json.error.code).toBe("management_key_not_allowed");
      } else {
        expect([401, 403], `${method} ${op.path} with a management key: ${withMk.text}`).not.toContain(withMk.status);
      }
      expectDocumented(method, op.path, withMk);
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
