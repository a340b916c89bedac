import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { call, createUser, expectError, type TestUser } from "./api";
import { createCreditKey, createManagementKey, insertSubscriptionKey, listKeys } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Model allowlists on credit keys (PRODUCT.md, "Audit, rotation, scopes,
 * allowlists"): what the API accepts, and that the gateway refuses any other
 * model with 403 model_not_allowed in each protocol's shape, before anything
 * is reserved or charged, lists only the allowed models, and follows a change
 * from the next request on.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

const price = { inputMicrosPerMTok: BigInt(1_000_000), outputMicrosPerMTok: BigInt(2_000_000), maxOutputTokens: 50 };
const GPT = { model: "allow-gpt", provider: "openai" as const, ...price };
const CLAUDE = { model: "allow-claude", provider: "anthropic" as const, ...price };
const EMBED = { model: "allow-embed", provider: "openai" as const, kind: "embedding" as const, ...price, maxOutputTokens: 1 };
const RETIRED = { model: "allow-retired", provider: "openai" as const, ...price, active: false };

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
    KEYGATE_DEMO_UPSTREAM: "on",
  });
  const db = await prisma();
  for (const m of [GPT, CLAUDE, EMBED, RETIRED]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  restoreEnv?.();
});

afterEach(async () => {
  up.reset();
  await resetRouting();
});

const hello = [{ role: "user" as const, content: "Say hello" }];

async function keyFor(user: TestUser, allowedModels: string[] | null, rpm = 1000) {
  const key = await createCreditKey(user, { rpm, allowedModels });
  return { key, openai: gw.openai(key.apiKey), anthropic: gw.anthropic(key.apiKey) };
}

/** The refusal an SDK call ended with (it must not succeed). */
async function refusal(p: Promise<unknown>): Promise<{ status: number; error: unknown; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) return { status: err.status ?? -1, error: err.error, message: err.message };
    throw err;
  }
  throw new Error("the request succeeded");
}

async function modelIds(openai: OpenAI): Promise<string[]> {
  const ids: string[] = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  return ids.sort();
}

async function put(user: TestUser, id: string, body: unknown) {
  return call("PUT", `/api/keys/${id}`, { token: user.token, body });
}

async function verify(apiKey: string) {
  const res = await fetch(`${gw.url}/api/keys/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: apiKey }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { valid: boolean; code: string; limits: { allowedModels: string[] | null } } }).data;
}

describe("allowedModels through the key API", () => {
  it("defaults to null (every model), stores a chosen list, shows it in key views, and clears it with null", async () => {
    const user = await createUser({ creditUsd: 5 });
    const all = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "all" } });
    expect(all.status, all.text).toBe(201);
    expect(all.json.data.allowedModels).toBeNull();
    const some = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "some", allowedModels: [GPT.model, CLAUDE.model, GPT.model] } });
    expect(some.status, some.text).toBe(201);
    // Repeats are kept once.
    expect(some.json.data.allowedModels).toEqual([GPT.model, CLAUDE.model]);
    expect((await listKeys(user)).map((k) => k.allowedModels)).toEqual([[GPT.model, CLAUDE.model], null]);

    const narrowed = await put(user, some.json.data.id, { allowedModels: [EMBED.model] });
    expect(narrowed.status, narrowed.text).toBe(200);
    expect(narrowed.json.data.allowedModels).toEqual([EMBED.model]);
    const cleared = await put(user, some.json.data.id, { allowedModels: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.json.data.allowedModels).toBeNull();
    // Another field's change leaves the list as it is.
    await put(user, some.json.data.id, { allowedModels: [GPT.model] });
    expect((await put(user, some.json.data.id, { rpm: 7 })).json.data.allowedModels).toEqual([GPT.model]);
  });

  it("accepts an inactive catalogue model (it is served again once active) but refuses a name not in the catalogue with 400 naming it, on create and update", async () => {
    const user = await createUser({ creditUsd: 5 });
    const created = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k", allowedModels: [GPT.model, "no-such-model"] } });
    expectError(created, 400, "validation_error");
    expect(created.json.error.message).toContain("'no-such-model'");
    expect(created.json.error.message).not.toContain(`'${GPT.model}'`);
    expect(created.json.error.details).toEqual([{ path: "allowedModels", message: expect.stringContaining("no-such-model") }]);
    expect(await listKeys(user)).toEqual([]);

    const { key } = await keyFor(user, [RETIRED.model]);
    const updated = await put(user, key.id, { allowedModels: ["gpt-5-imaginary"] });
    expectError(updated, 400, "validation_error");
    expect(updated.json.error.message).toContain("'gpt-5-imaginary'");
    expect((await listKeys(user))[0].allowedModels).toEqual([RETIRED.model]);
  });

  it("refuses an empty list with 400 saying to send null for every model", async () => {
    const user = await createUser({ creditUsd: 5 });
    const created = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k", allowedModels: [] } });
    expectError(created, 400, "validation_error");
    expect(created.json.error.message).toMatch(/send null for every model/);
    const { key } = await keyFor(user, null);
    const updated = await put(user, key.id, { allowedModels: [] });
    expectError(updated, 400, "validation_error");
    expect(updated.json.error.message).toMatch(/send null for every model/);
  });

  it("refuses more than 100 models, and anything but an array of non-empty strings or null, with 400", async () => {
    const user = await createUser({ creditUsd: 5 });
    const tooMany = Array.from({ length: 101 }, (_, i) => `m-${i}`);
    for (const allowedModels of [tooMany, GPT.model, [1], [GPT.model, null], [""], ["  "], { model: GPT.model }, true, 3]) {
      const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k", allowedModels } });
      expectError(res, 400, "validation_error");
      expect(res.json.error.message, JSON.stringify(allowedModels)).toMatch(/allowedModels|model name/);
    }
    const many = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k", allowedModels: tooMany } });
    expect(many.json.error.message).toMatch(/at most 100/);
    expect(await listKeys(user)).toEqual([]);
  });

  it("lists on GET /api/models the active models a key can be allowed, sorted, for a session or an mk_, and not the inactive ones", async () => {
    const user = await createUser();
    const res = await call("GET", "/api/models", { token: user.token });
    expect(res.status, res.text).toBe(200);
    const names = (res.json.data as Array<{ model: string }>).map((m) => m.model);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(res.json.data).toEqual(
      expect.arrayContaining([
        { model: GPT.model, provider: "openai", kind: "chat" },
        { model: CLAUDE.model, provider: "anthropic", kind: "chat" },
        { model: EMBED.model, provider: "openai", kind: "embedding" },
      ]),
    );
    expect(names).not.toContain(RETIRED.model);
    const mk = await createManagementKey(user);
    expect((await call("GET", "/api/models", { token: mk.apiKey })).status).toBe(200);
    expect((await call("GET", "/api/models")).status).toBe(401);
  });

  it("is not accepted by the ModelSwitch create (POST /api/keys), which takes no limits", async () => {
    const user = await createUser({ creditUsd: 5 });
    const res = await call("POST", "/api/keys", { token: user.token, body: { name: "k", allowedModels: [GPT.model] } });
    expectError(res, 400);
    expect(await listKeys(user)).toEqual([]);
  });

  it("is refused on a subscription key with 422 not_applicable, like its other credit-only fields, and shows null there", async () => {
    const user = await createUser();
    const pool = await insertSubscriptionKey(user, "pool");
    const res = await put(user, pool.id, { allowedModels: [GPT.model] });
    expectError(res, 422, "not_applicable");
    expect(res.json.error.message).toContain("allowedModels");
    expect((await listKeys(user))[0]).toMatchObject({ keyType: "subscription", allowedModels: null });
  });
});

describe("allowedModels on the gateway", () => {
  it("refuses another model with 403 model_not_allowed on /v1/chat/completions, /v1/messages, /v1/responses and /v1/embeddings, each in its own shape, naming the allowed models, and charges or reserves nothing", async () => {
    const user = await createUser({ creditUsd: 5 });
    // rpm 1: a refusal that took a request slot would make the allowed request below a 429.
    const { key, openai, anthropic } = await keyFor(user, [GPT.model], 1);

    const chat = await refusal(openai.chat.completions.create({ model: CLAUDE.model, messages: hello }));
    expect(chat).toMatchObject({ status: 403, error: { code: "model_not_allowed", type: "permission_error" } });
    expect(chat.message).toMatch(new RegExp(`may not use '${CLAUDE.model}'.*It may use: ${GPT.model}`));

    const messages = await refusal(anthropic.messages.create({ model: CLAUDE.model, max_tokens: 5, messages: hello }));
    expect(messages).toMatchObject({ status: 403, error: { type: "error", error: { type: "permission_error" } } });
    expect(messages.message).toContain(`It may use: ${GPT.model}`);

    const responses = await refusal(openai.responses.create({ model: "keygate/echo", input: "Say hello" }));
    expect(responses).toMatchObject({ status: 403, error: { code: "model_not_allowed" } });
    expect(responses.message).toContain(`It may use: ${GPT.model}`);

    const embeddings = await refusal(openai.embeddings.create({ model: EMBED.model, input: "hello" }));
    expect(embeddings).toMatchObject({ status: 403, error: { code: "model_not_allowed" } });

    expect(up.requests).toHaveLength(0);
    await flushUsage();
    const db = await prisma();
    expect(await db.usageRecord.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.ledgerEntry.count({ where: { userId: user.id, kind: "usage" } })).toBe(0);
    // The refusals are counted as 403s, and none of them took the key's one request of this minute.
    const usage = await call("GET", "/api/usage", { token: user.token });
    expect(usage.json.data.totals.refused).toMatchObject({ "403": 4 });
    expect((await openai.chat.completions.create({ model: GPT.model, messages: hello })).choices).toHaveLength(1);
    expect(key.id).toBeTruthy();
  });

  it("serves the allowed models, in both protocols, and a key without an allowlist serves every model", async () => {
    const user = await createUser({ creditUsd: 5 });
    const { openai, anthropic } = await keyFor(user, [GPT.model, CLAUDE.model, EMBED.model]);
    await openai.chat.completions.create({ model: GPT.model, messages: hello });
    await anthropic.messages.create({ model: CLAUDE.model, max_tokens: 5, messages: hello });
    await openai.responses.create({ model: GPT.model, input: "Say hello" });
    await openai.embeddings.create({ model: EMBED.model, input: "hello" });
    const open = await keyFor(user, null);
    await open.openai.chat.completions.create({ model: "keygate/echo", messages: hello });
    await open.anthropic.messages.create({ model: CLAUDE.model, max_tokens: 5, messages: hello });
  });

  it("refuses an unknown model with 404 model_not_found whatever the allowlist, as for any key", async () => {
    const user = await createUser({ creditUsd: 5 });
    const { openai } = await keyFor(user, [GPT.model]);
    expect(await refusal(openai.chat.completions.create({ model: "no-such-model", messages: hello }))).toMatchObject({ status: 404 });
  });

  it("lists on GET /v1/models only the allowed models that are active", async () => {
    const user = await createUser({ creditUsd: 5 });
    const { openai } = await keyFor(user, [CLAUDE.model, RETIRED.model, EMBED.model]);
    expect(await modelIds(openai)).toEqual([CLAUDE.model, EMBED.model].sort());
    const open = await keyFor(user, null);
    const every = await modelIds(open.openai);
    expect(every).toEqual(expect.arrayContaining([GPT.model, CLAUDE.model, EMBED.model, "keygate/echo"]));
    expect(every).not.toContain(RETIRED.model);
  });

  it("reports the allowlist on POST /api/keys/verify, in limits", async () => {
    const user = await createUser({ creditUsd: 5 });
    const { key } = await keyFor(user, [GPT.model, CLAUDE.model]);
    expect(await verify(key.apiKey)).toMatchObject({ valid: true, code: "valid", limits: { allowedModels: [GPT.model, CLAUDE.model] } });
    const open = await keyFor(user, null);
    expect(await verify(open.key.apiKey)).toMatchObject({ valid: true, limits: { allowedModels: null } });
  });

  it("follows a change of the allowlist from the very next request: refused, then served, then refused again, and the list and verify follow too", async () => {
    const user = await createUser({ creditUsd: 5 });
    const { key, openai } = await keyFor(user, [GPT.model]);
    // Cached by a first request: the change below must replace the cached key, not wait for it to expire.
    await openai.chat.completions.create({ model: GPT.model, messages: hello });
    expect((await refusal(openai.chat.completions.create({ model: "keygate/echo", messages: hello }))).status).toBe(403);
    expect(await modelIds(openai)).toEqual([GPT.model]);

    expect((await put(user, key.id, { allowedModels: ["keygate/echo"] })).status).toBe(200);
    await openai.chat.completions.create({ model: "keygate/echo", messages: hello });
    expect((await refusal(openai.chat.completions.create({ model: GPT.model, messages: hello }))).status).toBe(403);
    expect(await modelIds(openai)).toEqual(["keygate/echo"]);
    expect((await verify(key.apiKey)).limits.allowedModels).toEqual(["keygate/echo"]);

    expect((await put(user, key.id, { allowedModels: null })).status).toBe(200);
    await openai.chat.completions.create({ model: GPT.model, messages: hello });
    expect((await verify(key.apiKey)).limits.allowedModels).toBeNull();
  });
});
