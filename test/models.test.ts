import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { resetEnvCache } from "@/lib/env";
import { activeModels, findModel } from "@/lib/models/catalogue";
import { responseSchema } from "@/lib/openapi";
import { ADMIN_TOKEN, call, createUser, expectError, type ApiResponse } from "./api";

/** A model name no other test uses, so the suite can share a database. */
function uniqueName(prefix = "test-model"): string {
  return `${prefix}-${crypto.randomBytes(6).toString("hex")}`;
}

function newModel(model = uniqueName()) {
  return { model, provider: "openai", inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6, maxOutputTokens: 16384 };
}

// `null` sends no Authorization header at all.
type Token = string | null;
const upsert = (body: unknown, token: Token = ADMIN_TOKEN) => call("POST", "/api/admin/models", { token: token ?? undefined, body });
const list = (token: Token = ADMIN_TOKEN) => call("GET", "/api/admin/models", { token: token ?? undefined });
const remove = (model: string, token: Token = ADMIN_TOKEN) =>
  call("DELETE", `/api/admin/models?model=${encodeURIComponent(model)}`, { token: token ?? undefined });

/** Fails unless the status is one the OpenAPI document lists for the operation, with a body of the documented shape. */
function expectDocumented(method: string, res: ApiResponse) {
  const schema = responseSchema(method, "/api/admin/models", res.status);
  expect(schema, `${method} answered ${res.status}, which the document does not list: ${res.text}`).toBeDefined();
  expect(schema!.safeParse(res.json).success, res.text).toBe(true);
}

async function row(model: string) {
  return (await prisma()).model.findUnique({ where: { model } });
}

describe("model catalogue upsert (POST /api/admin/models)", () => {
  it("creates a model with 200 and the row, storing prices as integer micro-dollars per million tokens", async () => {
    const body = newModel();
    const res = await upsert(body);
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.data).toEqual({
      model: body.model,
      provider: "openai",
      kind: "chat",
      upstreamModel: null,
      inputUsdPerMTok: 0.15,
      outputUsdPerMTok: 0.6,
      maxOutputTokens: 16384,
      active: true,
      routes: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await row(body.model)).toMatchObject({
      provider: "openai",
      upstreamModel: null,
      inputMicrosPerMTok: BigInt(150_000),
      outputMicrosPerMTok: BigInt(600_000),
      maxOutputTokens: 16384,
      active: true,
    });
  });

  it("updates an existing model: the fields sent change, the others and createdAt are kept", async () => {
    const body = { ...newModel(), upstreamModel: "gpt-4o-mini-2024-07-18" };
    const created = (await upsert(body)).json.data;
    await new Promise((r) => setTimeout(r, 5));

    const res = await upsert({ model: body.model, inputUsdPerMTok: 0.2, outputUsdPerMTok: 0.000001 });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({
      model: body.model,
      provider: "openai",
      upstreamModel: "gpt-4o-mini-2024-07-18",
      inputUsdPerMTok: 0.2,
      outputUsdPerMTok: 0.000001,
      maxOutputTokens: 16384,
      active: true,
      createdAt: created.createdAt,
    });
    expect(Date.parse(res.json.data.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(await row(body.model)).toMatchObject({ inputMicrosPerMTok: BigInt(200_000), outputMicrosPerMTok: BigInt(1) });

    // A full body on an existing row is an update too; null resets upstreamModel to "same as model".
    const again = await upsert({ ...newModel(body.model), provider: "anthropic", upstreamModel: null, active: false, maxOutputTokens: 1 });
    expect(again.status, again.text).toBe(200);
    expect(again.json.data).toMatchObject({ provider: "anthropic", upstreamModel: null, active: false, maxOutputTokens: 1, createdAt: created.createdAt });

    // The name alone changes nothing and answers the row.
    const same = await upsert({ model: body.model });
    expect(same.status, same.text).toBe(200);
    expect(same.json.data).toMatchObject({ ...again.json.data, updatedAt: expect.any(String) });
  });

  it("accepts free models (price 0) and prices with exactly 6 decimals", async () => {
    const body = { ...newModel(), inputUsdPerMTok: 0, outputUsdPerMTok: 123.456789 };
    const res = await upsert(body);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ inputUsdPerMTok: 0, outputUsdPerMTok: 123.456789 });
    expect(await row(body.model)).toMatchObject({ inputMicrosPerMTok: BigInt(0), outputMicrosPerMTok: BigInt(123_456_789) });
  });

  it("refuses a new model without provider, prices or maxOutputTokens with 400 naming each missing field, creating nothing", async () => {
    const model = uniqueName();
    const res = await upsert({ model, provider: "openai", inputUsdPerMTok: 1 });
    expectError(res, 400, "validation_error");
    expect(res.json.error.message).toContain("outputUsdPerMTok, maxOutputTokens");
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toEqual(["outputUsdPerMTok", "maxOutputTokens"]);

    const bare = await upsert({ model });
    expectError(bare, 400, "validation_error");
    expect(bare.json.error.details.map((d: { path: string }) => d.path)).toEqual(["provider", "inputUsdPerMTok", "outputUsdPerMTok", "maxOutputTokens"]);
    expect(await row(model)).toBeNull();
  });

  it("refuses malformed bodies with 400 validation_error naming the field, writing nothing", async () => {
    const model = uniqueName();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...newModel(model), inputUsdPerMTok: -0.01 }, "inputUsdPerMTok"],
      [{ ...newModel(model), outputUsdPerMTok: 0.0000001 }, "outputUsdPerMTok"],
      [{ ...newModel(model), inputUsdPerMTok: 1.1234567 }, "inputUsdPerMTok"],
      [{ ...newModel(model), inputUsdPerMTok: "0.15" }, "inputUsdPerMTok"],
      [{ ...newModel(model), maxOutputTokens: 0 }, "maxOutputTokens"],
      [{ ...newModel(model), maxOutputTokens: 1_000_001 }, "maxOutputTokens"],
      [{ ...newModel(model), maxOutputTokens: 1.5 }, "maxOutputTokens"],
      [{ ...newModel(model), provider: "google" }, "provider"],
      [{ ...newModel(model), kind: "vector" }, "kind"],
      [{ ...newModel(model), kind: null }, "kind"],
      [{ ...newModel(model), active: "yes" }, "active"],
      [{ ...newModel(model), upstreamModel: "" }, "upstreamModel"],
      [{ ...newModel(model), apiKey: "sk-upstream" }, "apiKey"],
      [{ ...newModel(model), createdAt: "2020-01-01T00:00:00Z" }, "createdAt"],
      [newModel("has space"), "model"],
      [newModel(""), "model"],
      [newModel("m".repeat(201)), "model"],
    ];
    for (const [body, field] of cases) {
      const res = await upsert(body);
      expectError(res, 400, "validation_error");
      expect(res.text, JSON.stringify(body)).toContain(field);
    }
    expect(await row(model)).toBeNull();
  });

  it("takes kind: embedding (the default is chat), returns it in the row and the list, and lets the gateway's catalogue see it", async () => {
    const body = { ...newModel(), kind: "embedding", outputUsdPerMTok: 0 };
    const res = await upsert(body);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ model: body.model, kind: "embedding" });
    expect(await row(body.model)).toMatchObject({ kind: "embedding" });
    expect((await list()).json.data.find((m: { model: string }) => m.model === body.model)).toMatchObject({ kind: "embedding" });
    expect(await findModel(body.model)).toMatchObject({ kind: "embedding" });
    // An update that omits kind keeps it; one that sends it changes it.
    expect((await upsert({ model: body.model, inputUsdPerMTok: 0.1 })).json.data.kind).toBe("embedding");
    expect((await upsert({ model: body.model, kind: "chat" })).json.data.kind).toBe("chat");
  });

  it("refuses an embedding model an Anthropic upstream would serve with 400 naming the cause, writing nothing", async () => {
    const message = "embeddings exist only on OpenAI-protocol upstreams";
    // Provider anthropic without routes: its environment upstream speaks Anthropic.
    const bare = { ...newModel(), provider: "anthropic", kind: "embedding" };
    const refused = await upsert(bare);
    expectError(refused, 400, "validation_error");
    expect(refused.json.error.message).toContain(message);
    expect(refused.json.error.details).toEqual([expect.objectContaining({ path: "kind" })]);
    expect(await row(bare.model)).toBeNull();
    // A route to an Anthropic upstream.
    const upstream = await call("POST", "/api/admin/upstreams", {
      token: ADMIN_TOKEN,
      body: { name: uniqueName("anthropic-up"), protocol: "anthropic", baseUrl: "https://llm.example.com", apiKey: "sk-ant-test-0123456789abcdef" },
    });
    expect(upstream.status, upstream.text).toBe(201);
    const routed = { ...newModel(), kind: "embedding", routes: [{ upstream: upstream.json.data.name }] };
    const viaRoute = await upsert(routed);
    expectError(viaRoute, 400, "validation_error");
    expect(viaRoute.json.error.message).toContain(message);
    expect(viaRoute.json.error.details).toEqual([expect.objectContaining({ path: "routes.0.upstream" })]);
    expect(await row(routed.model)).toBeNull();
    // Turning an existing Anthropic chat model into an embedding model is refused the same way, and changes nothing.
    const chat = { ...newModel(), provider: "anthropic" };
    expect((await upsert(chat)).status).toBe(200);
    expectError(await upsert({ model: chat.model, kind: "embedding" }), 400, "validation_error");
    expect(await row(chat.model)).toMatchObject({ kind: "chat" });
    // An OpenAI-protocol embedding model is fine.
    expect((await upsert({ ...newModel(), kind: "embedding" })).status).toBe(200);
  });

  it("reserves keygate/echo for the built-in demo model: 409 reserved_model on upsert and delete", async () => {
    const res = await upsert(newModel("keygate/echo"));
    expectError(res, 409, "reserved_model");
    expect(res.json.error.message).toContain("built-in demo model");
    expectError(await remove("keygate/echo"), 409, "reserved_model");
    expect(await row("keygate/echo")).toBeNull();
    const embedding = await upsert({ ...newModel("keygate/echo-embedding"), kind: "embedding" });
    expectError(embedding, 409, "reserved_model");
    expect(embedding.json.error.message).toContain("built-in demo embedding model");
  });
});

describe("model catalogue list and delete", () => {
  it("lists every row, active or not, sorted by model name", async () => {
    const prefix = uniqueName("list");
    const names = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`];
    for (const name of names) expect((await upsert(newModel(name))).status).toBe(200);
    await upsert({ model: `${prefix}-b`, active: false });

    const res = await list();
    expect(res.status, res.text).toBe(200);
    expect(res.json.success).toBe(true);
    const all: Array<{ model: string; active: boolean }> = res.json.data;
    const ours = all.filter((m) => m.model.startsWith(prefix));
    expect(ours.map((m) => m.model)).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    expect(ours.map((m) => m.active)).toEqual([true, false, true]);
    expect(all.map((m) => m.model)).not.toContain("keygate/echo");
  });

  it("deletes a model with {deleted:true}; deleting it again, or a name never added, is 404 not_found", async () => {
    const body = newModel();
    await upsert(body);
    const res = await remove(body.model);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, data: { deleted: true } });
    expect(await row(body.model)).toBeNull();
    expect((await list()).json.data.map((m: { model: string }) => m.model)).not.toContain(body.model);
    expectError(await remove(body.model), 404, "not_found");
    expectError(await remove(uniqueName()), 404, "not_found");
  });

  it("takes names with slashes and colons in the query, and refuses a missing or malformed name with 400", async () => {
    const body = newModel(`org/${uniqueName()}:ft-1`);
    expect((await upsert(body)).status).toBe(200);
    expect((await remove(body.model)).status).toBe(200);
    expectError(await call("DELETE", "/api/admin/models", { token: ADMIN_TOKEN }), 400, "validation_error");
    expectError(await call("DELETE", "/api/admin/models?model=", { token: ADMIN_TOKEN }), 400, "validation_error");
  });
});

describe("model catalogue auth", () => {
  it("refuses a missing or wrong admin token with 401, and a non-operator's session with 404, on every method, writing nothing", async () => {
    const user = await createUser();
    const body = newModel();
    await upsert(body);
    for (const token of [null, "wrong-admin-token-0123456789abcdef", ADMIN_TOKEN + "x"]) {
      for (const res of [await list(token), await upsert({ ...body, inputUsdPerMTok: 99 }, token), await remove(body.model, token)]) {
        expectError(res, 401, "unauthorized");
        expect(res.headers.get("www-authenticate")).toBe("Bearer");
      }
    }
    for (const res of [await list(user.token), await upsert({ ...body, inputUsdPerMTok: 99 }, user.token), await remove(body.model, user.token)]) {
      expectError(res, 404, "not_found");
    }
    expect(await row(body.model)).toMatchObject({ inputMicrosPerMTok: BigInt(150_000) });
  });

  it("is switched off (404 admin_disabled) when ADMIN_API_TOKEN is unset", async () => {
    const saved = process.env.ADMIN_API_TOKEN;
    process.env.ADMIN_API_TOKEN = "";
    resetEnvCache();
    try {
      expectError(await list(), 404, "admin_disabled");
      expectError(await upsert(newModel()), 404, "admin_disabled");
    } finally {
      process.env.ADMIN_API_TOKEN = saved;
      resetEnvCache();
    }
  });
});

describe("the OpenAPI document describes what the catalogue endpoints answer", () => {
  it("lists every status they answer, with bodies of the documented shapes", async () => {
    const body = newModel();
    expectDocumented("post", await upsert(body));
    expectDocumented("post", await upsert({ model: body.model, active: false }));
    expectDocumented("post", await upsert({ model: uniqueName() }));
    expectDocumented("post", await upsert({ ...body, extra: 1 }));
    expectDocumented("post", await upsert(newModel("keygate/echo")));
    expectDocumented("post", await upsert(body, "wrong"));
    expectDocumented("get", await list());
    expectDocumented("get", await list(null));
    expectDocumented("delete", await remove(body.model));
    expectDocumented("delete", await remove(body.model));
    expectDocumented("delete", await remove("keygate/echo"));
    expectDocumented("delete", await call("DELETE", "/api/admin/models", { token: ADMIN_TOKEN }));
  });
});

describe("the gateway's catalogue follows every write at once", () => {
  it("sees a new model, a new price, deactivation and deletion from the very next lookup", async () => {
    const body = newModel();
    // Warm the cache first, so a stale copy would be what the lookups below see.
    await activeModels();
    expect(await findModel(body.model)).toBeUndefined();

    await upsert(body);
    expect(await findModel(body.model)).toMatchObject({
      model: body.model,
      provider: "openai",
      upstreamModel: body.model,
      inputMicrosPerMTok: 150_000,
      outputMicrosPerMTok: 600_000,
      maxOutputTokens: 16384,
      active: true,
    });
    expect((await activeModels()).map((m) => m.model)).toContain(body.model);

    await upsert({ model: body.model, inputUsdPerMTok: 3, upstreamModel: "upstream-name" });
    expect(await findModel(body.model)).toMatchObject({ inputMicrosPerMTok: 3_000_000, upstreamModel: "upstream-name" });

    await upsert({ model: body.model, active: false });
    expect(await findModel(body.model)).toMatchObject({ active: false });
    expect((await activeModels()).map((m) => m.model)).not.toContain(body.model);

    await upsert({ model: body.model, active: true });
    expect((await activeModels()).map((m) => m.model)).toContain(body.model);

    await remove(body.model);
    expect(await findModel(body.model)).toBeUndefined();
    expect((await activeModels()).map((m) => m.model)).not.toContain(body.model);
  });

  it("keeps the built-in demo model in the gateway's catalogue while no upstream is configured", async () => {
    expect(await findModel("keygate/echo")).toMatchObject({ provider: "keygate", active: true });
  });
});
