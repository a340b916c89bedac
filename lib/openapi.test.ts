import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { summaryHtml } from "@/app/docs/summary";
import { GATEWAY_ROUTES } from "@/lib/gateway/router";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { createUser } from "@/test/api";
import { createCreditKey } from "@/test/fixtures";
import { setEnv, startGateway, type TestGateway } from "@/test/gateway";
import { operations, TAGS } from "@/lib/api/operations";
import { handle, OPERATION } from "@/lib/http/route";
import { defineOperation, pathParamNames, successBodySchema } from "@/lib/http/operation";
import { SCOPES } from "@/lib/keys/scopes";
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
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      "AdminToken",
      "ConsumptionKey",
      "ConsumptionKeyHeader",
      "ManagementKey",
      "SessionCookie",
      "SessionToken",
    ]);
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
    expect(op?.security).toContainEqual({ ManagementKey: ["keys:write"] });
  });

  it("documents the scope of every operation a management key can call: security requirement, x-keygate-scope, description and 403", () => {
    const doc = openApiDocument();
    const scoped = operations.filter((o) => o.auth === "session-or-mk");
    expect(scoped.length).toBeGreaterThan(20);
    for (const op of operations) {
      const documented = doc.paths[op.path]![op.method.toLowerCase() as "get"]!;
      const name = `${op.method} ${op.path}`;
      if (op.auth !== "session-or-mk") {
        expect(op.scope, name).toBeUndefined();
        expect(documented["x-keygate-scope"], name).toBeUndefined();
        continue;
      }
      // The type requires it; this walks the list again, for declarations built around the type.
      expect(SCOPES, `${name} declares no scope`).toContain(op.scope);
      expect(documented["x-keygate-scope"], name).toBe(op.scope);
      expect(documented.security, name).toContainEqual({ ManagementKey: [op.scope] });
      expect(documented.security, name).toContainEqual({ SessionToken: [] });
      expect(documented.description, name).toContain(`\`${op.scope}\``);
      expect(documented.responses["403"]?.description, name).toContain("insufficient_scope");
      expect(documented.responses["403"]?.description, name).toContain(op.scope);
    }
    const html = summaryHtml(doc);
    expect(html).toContain(`<code class="path">/api/keys/{id}</code> <span class="op">Update a consumption key</span> <span class="scope"`);
    expect(doc.info.description).toContain("insufficient_scope");
    for (const scope of SCOPES) expect(doc.info.description).toContain(`\`${scope}\``);
  });

  it("keeps management-key endpoints session-only, so a leaked mk_ cannot mint successors", () => {
    const doc = openApiDocument();
    for (const p of ["/api/keys/management", "/api/keys/management/{id}", "/api/billing-keys", "/api/billing-keys/{id}"]) {
      for (const op of Object.values(doc.paths[p] ?? {})) {
        expect(op.security.some((req) => "ManagementKey" in req)).toBe(false);
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

    // The inference endpoints are the gateway's, not Next's: "the inference endpoints" below drives them.
    for (const op of byNext) {
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

describe("the inference endpoints (served by the gateway, not by Next)", () => {
  const inference = operations.filter((o) => o.servedBy === "node" && o.path.startsWith("/v1/"));

  it("documents every method and path the gateway's router serves, so an endpoint added without docs fails here", () => {
    const doc = openApiDocument();
    expect(GATEWAY_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(["POST /v1/chat/completions", "POST /v1/embeddings", "GET /v1/models"]),
    );
    for (const { method, path } of GATEWAY_ROUTES) {
      const op = doc.paths[path]?.[method.toLowerCase() as "get" | "post"];
      expect(op, `${method} ${path} is served by the gateway but not in the OpenAPI document`).toBeDefined();
      expect(operations.find((o) => o.path === path && o.method === method)?.servedBy, `${method} ${path}`).toBe("node");
    }
  });

  it("describes each with a consumption key as Bearer or x-api-key, errors in the protocol's shape, and the x-keygate-* headers", () => {
    const doc = openApiDocument();
    expect(inference.map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      "GET /v1/models",
      "POST /v1/chat/completions",
      "POST /v1/embeddings",
      "POST /v1/messages",
      "POST /v1/responses",
    ]);
    for (const op of inference) {
      const documented = doc.paths[op.path]![op.method.toLowerCase() as "get"]!;
      expect(documented.security, op.id).toEqual([{ ConsumptionKey: [] }, { ConsumptionKeyHeader: [] }]);
      expect(Object.keys(documented.responses), op.id).toEqual(expect.arrayContaining(["200", "401", "500"]));
      const errorSchema = documented.responses["401"].content!["application/json"].schema;
      expect(errorSchema.$ref, op.id).toBe(op.path === "/v1/messages" ? "#/components/schemas/AnthropicError" : "#/components/schemas/OpenAIError");
      if (op.method === "POST") {
        expect(Object.keys(documented.responses), op.id).toEqual(expect.arrayContaining(["400", "402", "403", "404", "413", "429", "502", "503", "504"]));
        expect(Object.keys(documented.responses["200"].headers ?? {}), op.id).toEqual(
          expect.arrayContaining(["x-keygate-usage-id", "x-keygate-upstream", "x-keygate-attempts"]),
        );
        // Unknown fields are passed on: the request schemas do not refuse them.
        expect(documented.requestBody?.content["application/json"].schema, op.id).not.toMatchObject({ additionalProperties: false });
      }
    }
    for (const path of ["/v1/chat/completions", "/v1/messages", "/v1/responses"]) {
      expect(Object.keys(doc.paths[path]!.post!.responses["200"].headers ?? {})).toContain("x-keygate-dropped-params");
      expect(doc.paths[path]!.post!.responses["200"].content?.["text/event-stream"]).toBeDefined();
    }
  });

  it("are listed on /docs from its first response (the summary of the document)", () => {
    const html = summaryHtml(openApiDocument());
    expect(html).toContain("<h2>Inference</h2>");
    for (const op of inference) expect(html, op.path).toContain(`<code class="path">${op.path}</code>`);
  });

  describe("answer with the documented statuses and shapes", () => {
    let gw: TestGateway;
    let restoreEnv: () => void;
    let apiKey: string;

    beforeAll(async () => {
      restoreEnv = setEnv({ KEYGATE_DEMO_UPSTREAM: "on" });
      await invalidateCatalogue();
      gw = await startGateway();
      const user = await createUser({ creditUsd: 5 });
      apiKey = (await createCreditKey(user, { rpm: 1000 })).apiKey;
    });

    afterAll(async () => {
      await gw?.close();
      restoreEnv?.();
    });

    async function send(method: string, path: string, key: string | null, body?: unknown): Promise<ApiResponse> {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
    }

    /** A request the built-in demo models answer, per path. */
    const GOOD: Record<string, unknown> = {
      "/v1/chat/completions": { model: "keygate/echo", messages: [{ role: "user", content: "hello" }], max_tokens: 5 },
      "/v1/messages": { model: "keygate/echo", max_tokens: 5, messages: [{ role: "user", content: "hello" }] },
      "/v1/embeddings": { model: "keygate/echo-embedding", input: ["hello", "world"] },
      "/v1/responses": { model: "keygate/echo", input: "hello", max_output_tokens: 5 },
    };

    it("without a key, with a bad body, for an unknown model, and when served", async () => {
      const served = new Set(GATEWAY_ROUTES.map((r) => `${r.method} ${r.path}`));
      for (const op of inference) {
        // Documented is served: no operation in the document without its handler.
        expect(served.has(`${op.method} ${op.path}`), `${op.method} ${op.path}`).toBe(true);
        const post = op.method === "POST";
        const anonymous = await send(op.method, op.path, null, post ? GOOD[op.path] : undefined);
        expect(anonymous.status, op.path).toBe(401);
        expectDocumented(op.method, op.path, anonymous);
        if (post) {
          const bad = await send("POST", op.path, apiKey, {});
          expect(bad.status, op.path).toBe(400);
          expectDocumented("post", op.path, bad);
          const unknown = await send("POST", op.path, apiKey, { ...(GOOD[op.path] as object), model: "no-such-model" });
          expect(unknown.status, op.path).toBe(404);
          expectDocumented("post", op.path, unknown);
        }
        const good = await send(op.method, op.path, apiKey, post ? GOOD[op.path] : undefined);
        expect(good.status, `${op.path}: ${good.text}`).toBe(200);
        expectDocumented(op.method, op.path, good);
        if (post) expect(good.headers.get("x-keygate-usage-id"), op.path).toBeTruthy();
      }
    });
  });
});
