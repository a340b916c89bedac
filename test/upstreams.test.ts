import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { findModel } from "@/lib/models/catalogue";
import { responseSchema } from "@/lib/openapi";
import { invalidateUpstreams, upstreamByName } from "@/lib/upstreams/registry";
import { ADMIN_TOKEN, call, expectError, type ApiResponse } from "./api";
import { expectFieldError } from "./fixtures";
import { startFakeUpstream } from "./fake-upstream";
import { freePort } from "./free-port";
import { setEnv } from "./gateway";

/**
 * Upstreams are data: operators create, change and delete them through the
 * admin API, the environment's OPENAI_* / ANTHROPIC_* appear as read-only
 * ones, models route to them by name, and the gateway's registry and
 * catalogue follow every write.
 */

const unique = (prefix = "up") => `${prefix}-${crypto.randomBytes(5).toString("hex")}`;

function newUpstream(over: Record<string, unknown> = {}) {
  return { name: unique(), protocol: "openai", baseUrl: "https://llm.example.com/v1", apiKey: `sk-test-${crypto.randomBytes(12).toString("hex")}`, ...over };
}

const create = (body: unknown) => call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body });
const update = (id: string, body: unknown) => call("PUT", `/api/admin/upstreams/${id}`, { token: ADMIN_TOKEN, body });
const remove = (id: string) => call("DELETE", `/api/admin/upstreams/${id}`, { token: ADMIN_TOKEN });
const list = async () => {
  const res = await call("GET", "/api/admin/upstreams", { token: ADMIN_TOKEN });
  expect(res.status, res.text).toBe(200);
  expectDocumented("GET", "/api/admin/upstreams", res);
  return res.json.data as Array<Record<string, unknown>>;
};
const upsertModel = (body: unknown) => call("POST", "/api/admin/models", { token: ADMIN_TOKEN, body });

function newModel(over: Record<string, unknown> = {}) {
  return { model: unique("model"), provider: "openai", inputUsdPerMTok: 1, outputUsdPerMTok: 2, maxOutputTokens: 1000, ...over };
}

async function created(body: Record<string, unknown> = newUpstream()) {
  const res = await create(body);
  expect(res.status, res.text).toBe(201);
  expectDocumented("POST", "/api/admin/upstreams", res);
  return res.json.data as { id: string; name: string };
}

function expectDocumented(method: string, path: string, res: ApiResponse) {
  const schema = responseSchema(method, path, res.status);
  expect(schema, `${method} ${path} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  expect(schema!.safeParse(res.json).success, res.text).toBe(true);
}

const NO_ENV_UPSTREAMS = { OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, ANTHROPIC_BASE_URL: undefined, ANTHROPIC_API_KEY: undefined };
let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
  invalidateUpstreams();
});

describe("upstreams CRUD (/api/admin/upstreams)", () => {
  it("creates an upstream with 201 and answers it without its key or header values, listed with health", async () => {
    const body = newUpstream({ headers: { "OpenAI-Organization": "org-secret-value" }, timeoutMs: 5000 });
    const res = await create(body);
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toEqual({
      id: expect.any(String),
      name: body.name,
      protocol: "openai",
      baseUrl: "https://llm.example.com/v1",
      apiKeyLast4: body.apiKey.slice(-4),
      headerNames: ["OpenAI-Organization"],
      timeoutMs: 5000,
      active: true,
      readOnly: false,
      health: { state: "ok", coolingDownUntil: null, requests5m: 0, errors5m: 0 },
    });
    expect(res.text).not.toContain(body.apiKey);
    expect(res.text).not.toContain("org-secret-value");
    const listed = (await list()).find((u) => u.name === body.name);
    expect(listed).toEqual(res.json.data);
  });

  it("changes only the fields sent: an omitted apiKey and headers are kept, new ones replace them", async () => {
    const body = newUpstream({ headers: { "x-tenant": "t-1" } });
    const { id, name } = await created(body);
    const res = await update(id, { baseUrl: "https://other.example.com/v1/", active: false, timeoutMs: null });
    expect(res.status, res.text).toBe(200);
    expectDocumented("PUT", "/api/admin/upstreams/{id}", res);
    expect(res.json.data).toMatchObject({
      baseUrl: "https://other.example.com/v1",
      active: false,
      timeoutMs: null,
      apiKeyLast4: body.apiKey.slice(-4),
      headerNames: ["x-tenant"],
    });
    expect(await upstreamByName(name)).toMatchObject({
      apiKey: body.apiKey,
      headers: { "x-tenant": "t-1" },
      baseUrl: "https://other.example.com/v1",
      active: false,
    });

    const rekeyed = await update(id, { apiKey: "sk-new-key-0123456789-WXYZ", headers: {} });
    expect(rekeyed.json.data).toMatchObject({ apiKeyLast4: "WXYZ", headerNames: [] });
    expect(await upstreamByName(name)).toMatchObject({ apiKey: "sk-new-key-0123456789-WXYZ", headers: {} });
  });

  it("refuses a bad baseUrl, a non-slug name, an unknown protocol, unknown fields and bad headers with 400 naming the field, creating nothing", async () => {
    const name = unique();
    const cases: Array<[Record<string, unknown>, string]> = [
      [newUpstream({ name, baseUrl: "ftp://llm.example.com" }), "baseUrl"],
      [newUpstream({ name, baseUrl: "llm.example.com/v1" }), "baseUrl"],
      [newUpstream({ name, baseUrl: "https://user:pass@llm.example.com/v1" }), "baseUrl"],
      [newUpstream({ name, baseUrl: "https://llm.example.com/v1?key=abc" }), "baseUrl"],
      [newUpstream({ name, baseUrl: "https://llm.example.com/v1#x" }), "baseUrl"],
      [newUpstream({ name: "Has Caps" }), "name"],
      [newUpstream({ name: "-leading" }), "name"],
      [newUpstream({ name: "under_score" }), "name"],
      [newUpstream({ name: "x".repeat(65) }), "name"],
      [newUpstream({ name, protocol: "google" }), "protocol"],
      [newUpstream({ name, apiKey: "" }), "apiKey"],
      [newUpstream({ name, apiKey: "has space" }), "apiKey"],
      [newUpstream({ name, timeoutMs: 10 }), "timeoutMs"],
      [newUpstream({ name, active: "yes" }), "active"],
      [newUpstream({ name, headers: { Authorization: "Bearer x" } }), "Authorization"],
      [newUpstream({ name, headers: { "x-bad": "line\r\nInjected: 1" } }), "header values"],
      [newUpstream({ name, headers: { "bad name": "v" } }), "header names"],
      [newUpstream({ name, headers: { "X-A": "1", "x-a": "2" } }), "twice"],
      [newUpstream({ name, id: "chosen-id" }), "id"],
      [newUpstream({ name, apiKeyLast4: "1234" }), "apiKeyLast4"],
    ];
    for (const [body, field] of cases) {
      const res = await create(body);
      expectError(res, 400, "validation_error");
      expect(res.text, JSON.stringify(body)).toContain(field);
    }
    const { apiKey, ...noKey } = newUpstream({ name });
    void apiKey;
    expectFieldError(await create(noKey), "apiKey");
    expectError(await call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body: '{"name": "x", ' }), 400, "invalid_json");
    expect((await list()).some((u) => u.name === name)).toBe(false);
  });

  it("refuses a duplicate name with 409 upstream_exists, on create and on rename", async () => {
    const a = await created();
    const b = await created();
    expectError(await create(newUpstream({ name: a.name })), 409, "upstream_exists");
    expectError(await update(b.id, { name: a.name }), 409, "upstream_exists");
    expect((await list()).filter((u) => u.name === a.name)).toHaveLength(1);
  });

  it("answers 404 for an ID that does not exist, on PUT and DELETE", async () => {
    expectError(await update("no-such-upstream", { active: false }), 404, "not_found");
    expectError(await remove("no-such-upstream"), 404, "not_found");
  });

  it("deletes an unused upstream; one a model route uses is 409 upstream_in_use naming the model", async () => {
    const used = await created();
    const model = newModel({ routes: [{ upstream: used.name }] });
    expect((await upsertModel(model)).status).toBe(200);
    const refused = await remove(used.id);
    expectError(refused, 409, "upstream_in_use");
    expect(refused.json.error.message).toContain(model.model);
    expectDocumented("DELETE", "/api/admin/upstreams/{id}", refused);
    expect(await upstreamByName(used.name)).toBeDefined();

    expect((await upsertModel({ model: model.model, routes: [] })).status).toBe(200);
    const res = await remove(used.id);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toEqual({ deleted: true });
    expect(await upstreamByName(used.name)).toBeUndefined();
    expect((await list()).some((u) => u.name === used.name)).toBe(false);
  });
});

describe("the environment's upstreams", () => {
  it("lists env-openai and env-anthropic read-only, only when their variables are set, without their keys", async () => {
    restore = setEnv(NO_ENV_UPSTREAMS);
    expect((await list()).filter((u) => u.readOnly)).toEqual([]);
    expect(await upstreamByName("env-openai")).toBeUndefined();

    restore();
    restore = setEnv({ ...NO_ENV_UPSTREAMS, OPENAI_API_KEY: "sk-env-openai-0123456789-LAST" });
    const listed = await list();
    expect(listed.filter((u) => u.readOnly).map((u) => u.name)).toEqual(["env-openai"]);
    expect(listed[0]).toMatchObject({ id: "env-openai", protocol: "openai", baseUrl: "https://api.openai.com/v1", apiKeyLast4: "LAST", readOnly: true });
    expect(JSON.stringify(listed)).not.toContain("sk-env-openai");
    expect(await upstreamByName("env-openai")).toMatchObject({ apiKey: "sk-env-openai-0123456789-LAST", readOnly: true });

    restore();
    restore = setEnv({ ...NO_ENV_UPSTREAMS, ANTHROPIC_BASE_URL: "http://127.0.0.1:9/anthropic" });
    expect((await list()).filter((u) => u.readOnly)).toMatchObject([{ id: "env-anthropic", baseUrl: "http://127.0.0.1:9/anthropic", apiKeyLast4: null }]);
    expect(await upstreamByName("env-anthropic")).toMatchObject({ protocol: "anthropic", apiKey: null });
    expect(await upstreamByName("env-openai")).toBeUndefined();
  });

  it("refuses to change or delete env upstreams (409 upstream_read_only) and to create one with an env- name (409)", async () => {
    restore = setEnv({ OPENAI_API_KEY: "sk-env-openai-0123456789" });
    for (const res of [await update("env-openai", { active: false }), await remove("env-openai"), await remove("env-anthropic")]) {
      expectError(res, 409, "upstream_read_only");
      expect(res.json.error.message).toContain("environment");
    }
    for (const name of ["env-openai", "env-anthropic", "env-mine"]) expectError(await create(newUpstream({ name })), 409, "reserved_upstream_name");
    const mine = await created();
    expectError(await update(mine.id, { name: "env-openai" }), 409, "reserved_upstream_name");
  });
});

describe("routes on models", () => {
  it("stores routes with their defaults, lists them, and puts them in the gateway's catalogue by priority", async () => {
    restore = setEnv({ OPENAI_API_KEY: "sk-env-openai-0123456789" });
    const a = await created();
    const b = await created({ ...newUpstream(), protocol: "anthropic", baseUrl: "https://claude.example.com" });
    const body = newModel({
      upstreamModel: "vendor-name",
      routes: [
        { upstream: "env-openai", priority: 5 },
        { upstream: a.name, weight: 3 },
        { upstream: b.name, upstreamModel: "claude-x", priority: 1, weight: 1000 },
      ],
    });
    const res = await upsertModel(body);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.routes).toEqual([
      { upstream: a.name, upstreamModel: null, priority: 0, weight: 3 },
      { upstream: b.name, upstreamModel: "claude-x", priority: 1, weight: 1000 },
      { upstream: "env-openai", upstreamModel: null, priority: 5, weight: 1 },
    ]);
    const listed = (await call("GET", "/api/admin/models", { token: ADMIN_TOKEN })).json.data.find((m: { model: string }) => m.model === body.model);
    expect(listed.routes).toEqual(res.json.data.routes);
    expect((await findModel(body.model))!.routes).toEqual([
      { upstream: a.name, upstreamModel: "vendor-name", priority: 0, weight: 3 },
      { upstream: b.name, upstreamModel: "claude-x", priority: 1, weight: 1000 },
      { upstream: "env-openai", upstreamModel: "vendor-name", priority: 5, weight: 1 },
    ]);
  });

  it("keeps routes when an upsert omits them, clears them with [], and drops them with the model", async () => {
    const a = await created();
    const body = newModel({ routes: [{ upstream: a.name }] });
    await upsertModel(body);
    expect((await upsertModel({ model: body.model, inputUsdPerMTok: 9 })).json.data.routes).toHaveLength(1);
    expect((await upsertModel({ ...body, routes: undefined, maxOutputTokens: 5 })).json.data.routes).toHaveLength(1);
    expect((await findModel(body.model))!.routes).toHaveLength(1);

    const cleared = await upsertModel({ model: body.model, routes: [] });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.json.data.routes).toEqual([]);
    expect((await findModel(body.model))!.routes).toEqual([]);

    await upsertModel({ model: body.model, routes: [{ upstream: a.name }] });
    expect((await call("DELETE", `/api/admin/models?model=${body.model}`, { token: ADMIN_TOKEN })).status).toBe(200);
    expect(await (await prisma()).modelRoute.count({ where: { model: body.model } })).toBe(0);
    expect((await remove(a.id)).status).toBe(200);
  });

  it("refuses bad routes with 400 naming the problem, changing nothing", async () => {
    restore = setEnv(NO_ENV_UPSTREAMS);
    const a = await created();
    const body = newModel({ routes: [{ upstream: a.name }] });
    await upsertModel(body);
    const cases: Array<[unknown, string]> = [
      [[{ upstream: "no-such-upstream" }], "no-such-upstream"],
      [[{ upstream: "env-openai" }], "env-openai"],
      [[{ upstream: a.name, priority: -1 }], "priority"],
      [[{ upstream: a.name, priority: 1.5 }], "priority"],
      [[{ upstream: a.name, weight: 0 }], "weight"],
      [[{ upstream: a.name, weight: 1001 }], "weight"],
      [[{ upstream: a.name, upstreamModel: "" }], "upstreamModel"],
      [[{ upstream: a.name, extra: 1 }], "extra"],
      [[{ upstream: a.name }, { upstream: a.name }], "twice"],
      [
        [
          { upstream: a.name, upstreamModel: "x" },
          { upstream: a.name, upstreamModel: "x" },
        ],
        "twice",
      ],
      // Once defaulted, both send the model's own name to the same upstream.
      [[{ upstream: a.name }, { upstream: a.name, upstreamModel: body.model }], "each (upstream, upstreamModel) pair"],
      [Array.from({ length: 17 }, (_, i) => ({ upstream: a.name, upstreamModel: `m-${i}` })), "at most 16"],
      ["a", "routes"],
    ];
    for (const [routes, text] of cases) {
      const res = await upsertModel({ model: body.model, routes });
      expectError(res, 400, "validation_error");
      expect(res.text, JSON.stringify(routes)).toContain(text);
    }
    const unknown = await upsertModel({ model: body.model, routes: [{ upstream: a.name }, { upstream: "no-such-upstream" }] });
    expect(unknown.json.error.details).toEqual([{ path: "routes.1.upstream", message: expect.stringContaining("no-such-upstream") }]);
    expect((await findModel(body.model))!.routes.map((r) => r.upstream)).toEqual([a.name]);
    // A new model with unknown routes is not created either.
    const fresh = newModel({ routes: [{ upstream: "no-such-upstream" }] });
    expectError(await upsertModel(fresh), 400, "validation_error");
    expect(await findModel(fresh.model)).toBeUndefined();
  });

  it("moves routes with an upstream rename, in the catalogue and the registry at once", async () => {
    const a = await created();
    const body = newModel({ routes: [{ upstream: a.name, weight: 2 }] });
    await upsertModel(body);
    expect((await findModel(body.model))!.routes[0].upstream).toBe(a.name);
    const renamed = unique("renamed");
    const res = await update(a.id, { name: renamed });
    expect(res.status, res.text).toBe(200);
    expect((await findModel(body.model))!.routes).toEqual([{ upstream: renamed, upstreamModel: body.model, priority: 0, weight: 2 }]);
    expect(await upstreamByName(a.name)).toBeUndefined();
    expect(await upstreamByName(renamed)).toMatchObject({ name: renamed, readOnly: false });
    expectError(await remove(a.id), 409, "upstream_in_use");
  });
});

describe("the gateway's registry", () => {
  it("answers from memory after the first load, and follows every committed write", async () => {
    const body = newUpstream({ headers: { "x-region": "eu" }, timeoutMs: 2000 });
    const { id, name } = await created(body);
    expect(await upstreamByName(name)).toEqual({
      name,
      protocol: "openai",
      baseUrl: body.baseUrl,
      apiKey: body.apiKey,
      headers: { "x-region": "eu" },
      timeoutMs: 2000,
      active: true,
      readOnly: false,
    });
    // A change behind Keygate's back (no write unit) is not seen: the registry is not reading the table.
    await (await prisma()).upstream.update({ where: { id }, data: { baseUrl: "https://sneaky.example.com/v1" } });
    expect((await upstreamByName(name))!.baseUrl).toBe(body.baseUrl);
    // A write through the API is seen from the very next lookup.
    await update(id, { timeoutMs: 3000 });
    expect(await upstreamByName(name)).toMatchObject({ baseUrl: "https://sneaky.example.com/v1", timeoutMs: 3000 });
  });

  it("leaves out an upstream whose secret fails its integrity check, logging it, instead of failing every lookup", async () => {
    const a = await created();
    const b = await created();
    const db = await prisma();
    const row = await db.upstream.findUniqueOrThrow({ where: { id: a.id } });
    const parts = row.apiKeyCiphertext.split(".");
    parts[3] = (parts[3][0] === "A" ? "B" : "A") + parts[3].slice(1);
    await db.upstream.update({ where: { id: a.id }, data: { apiKeyCiphertext: parts.join(".") } });
    invalidateUpstreams();
    expect(await upstreamByName(a.name)).toBeUndefined();
    expect(await upstreamByName(b.name)).toBeDefined();
    expect((await list()).some((u) => u.name === a.name)).toBe(true);
    // Entering the key again repairs it.
    expect((await update(a.id, { apiKey: "sk-entered-again-0123456789" })).status).toBe(200);
    expect(await upstreamByName(a.name)).toMatchObject({ apiKey: "sk-entered-again-0123456789" });
  });
});

describe("testing an upstream's connection (POST /api/admin/upstreams/{id}/test)", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });
  /** A local server answering every request with `handler`. */
  async function serve(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const test = async (id: string) => {
    const res = await call("POST", `/api/admin/upstreams/${id}/test`, { token: ADMIN_TOKEN });
    expect(res.status, res.text).toBe(200);
    expectDocumented("POST", "/api/admin/upstreams/{id}/test", res);
    return res;
  };

  it("reaches each protocol's model list with the stored key and headers, says how many models, and never shows the key", async () => {
    const up = await startFakeUpstream();
    try {
      for (const [protocol, baseUrl, url, keyHeader] of [
        ["openai", up.openaiBaseUrl, `${up.openaiBaseUrl}/models`, "authorization"],
        ["anthropic", up.anthropicBaseUrl, `${up.anthropicBaseUrl}/v1/models`, "x-api-key"],
      ] as const) {
        const body = newUpstream({ protocol, baseUrl, headers: { "X-Team": "team-secret-header" } });
        const { id } = await created(body);
        up.reset();
        const res = await test(id);
        expect(res.json.data).toMatchObject({ ok: true, status: 200, url, modelCount: 3 });
        expect(res.json.data.latencyMs).toBeGreaterThanOrEqual(0);
        expect(up.requests.map((r) => r.path)).toEqual(["/v1/models"]);
        const sent = up.requests[0].headers;
        expect(sent[keyHeader]).toBe(keyHeader === "authorization" ? `Bearer ${body.apiKey}` : body.apiKey);
        expect(sent["x-team"]).toBe("team-secret-header");
        expect(res.text).not.toContain(body.apiKey);
        expect(res.text).not.toContain("team-secret-header");
      }
    } finally {
      await up.close();
    }
  });

  it("answers ok:false with the status and a hint when the upstream refuses the key, with the key taken out of what the upstream said", async () => {
    const body = newUpstream({});
    const baseUrl = await serve((req, res) => {
      const key = String(req.headers.authorization).replace("Bearer ", "");
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}.`, type: "invalid_request_error" } }));
    });
    const { id } = await created({ ...body, baseUrl: `${baseUrl}/v1` });
    const res = await test(id);
    expect(res.json.data).toMatchObject({ ok: false, status: 401, modelCount: null });
    expect(res.json.data.message).toContain("check the API key");
    expect(res.json.data.message).toContain("Incorrect API key provided: [redacted].");
    expect(res.text).not.toContain(body.apiKey);
  });

  it("says when nothing answers: a refused connection and a timeout, with status null", async () => {
    const closed = await freePort();
    const refused = await created(newUpstream({ baseUrl: `http://127.0.0.1:${closed}/v1` }));
    const r1 = await test(refused.id);
    expect(r1.json.data).toMatchObject({ ok: false, status: null, url: `http://127.0.0.1:${closed}/v1/models` });
    expect(r1.json.data.message).toMatch(/^Could not connect to 127\.0\.0\.1:\d+/);

    // Headers never come: the test gives up after the upstream's own timeout (1 s here).
    const silent = await serve(() => undefined);
    const slow = await created(newUpstream({ baseUrl: `${silent}/v1`, timeoutMs: 1000 }));
    const r2 = await test(slow.id);
    expect(r2.json.data).toMatchObject({ ok: false, status: null });
    expect(r2.json.data.message).toContain("No answer within 1 s");
  });

  it("tests the environment's upstreams and inactive ones, and leaves the upstream's health untouched", async () => {
    const up = await startFakeUpstream();
    try {
      restore = setEnv({ ...NO_ENV_UPSTREAMS, ANTHROPIC_BASE_URL: up.anthropicBaseUrl, ANTHROPIC_API_KEY: "sk-ant-env-0123456789" });
      const env = await test("env-anthropic");
      expect(env.json.data).toMatchObject({ ok: true, status: 200, url: `${up.anthropicBaseUrl}/v1/models` });
      expect(env.text).not.toContain("sk-ant-env-0123456789");

      const inactive = await created(newUpstream({ baseUrl: up.openaiBaseUrl, active: false }));
      expect((await test(inactive.id)).json.data).toMatchObject({ ok: true });
      const listed = (await list()).find((u) => u.id === inactive.id);
      expect(listed?.health).toEqual({ state: "ok", coolingDownUntil: null, requests5m: 0, errors5m: 0 });
    } finally {
      await up.close();
    }
  });

  it("answers 404 for an upstream that does not exist", async () => {
    expectError(await call("POST", "/api/admin/upstreams/nope-0000/test", { token: ADMIN_TOKEN }), 404, "not_found");
  });
});
