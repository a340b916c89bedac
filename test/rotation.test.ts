import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { hashKey, KEY_MATERIAL_RE } from "@/lib/keys/format";
import { verifyKey } from "@/lib/keys/verify";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { resetLogger } from "@/lib/ops/logger";
import { flushUsage } from "@/lib/usage/writer";
import { IDEMPOTENCY_WINDOW_MS, sweepIdempotencyRecords } from "@/lib/writes/idempotency";
import { call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createCreditKey, createManagementKey, dumpAllTables, FUTURE, insertSubscriptionKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";
import { redisServerAvailable, startRedis, type TestRedis } from "./redis-server";
import { startInstance, type Instance } from "./spawn-instance";

/**
 * Key rotation with a grace period (PRODUCT.md, "Audit, rotation, scopes,
 * allowlists"): a new secret under the same key ID, the old one valid until
 * its grace ends and refused (401 key_rotated) after, at most two secrets at
 * once, on every instance; and Idempotency-Key, so a retried rotation answers
 * the same new secret and never makes a third.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;
const logged: string[] = [];

const MODEL = {
  model: "rotate-gpt",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1_000_000),
  outputMicrosPerMTok: BigInt(2_000_000),
  maxOutputTokens: 50,
};

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
    KEYGATE_DEMO_UPSTREAM: "on",
    LOG_LEVEL: "trace",
  });
  // Every line the JSON logger writes, at every level, is scanned for key material at the end.
  resetLogger({ write: (line: string) => void logged.push(line) });
  const db = await prisma();
  await db.model.upsert({ where: { model: MODEL.model }, create: MODEL, update: MODEL });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  resetLogger();
  restoreEnv?.();
});

afterEach(async () => {
  up.reset();
  await resetRouting();
});

const hello = [{ role: "user" as const, content: "Say hello" }];

/** The HTTP status an SDK call ended with (200 for success). */
async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) return err.status ?? -1;
    throw err;
  }
}

const chat = (apiKey: string, model = MODEL.model) => status(gw.openai(apiKey).chat.completions.create({ model, messages: hello, max_tokens: 5 }));

function rotate(user: TestUser, id: string, body: unknown = {}, headers: Record<string, string> = {}, token = user.token): Promise<ApiResponse> {
  return call("POST", `/api/keys/${id}/rotate`, { token, body, headers });
}

function rotateManagement(user: TestUser, id: string, body: unknown = {}, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return call("POST", `/api/keys/management/${id}/rotate`, { token: user.token, body, headers });
}

/** Polls `probe` until it answers `want` (a grace period ending in real time), failing after `withinMs`; never a fixed sleep. */
async function eventually<T>(probe: () => Promise<T>, want: T, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last: T;
  do {
    last = await probe();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  throw new Error(`still ${String(last)} after ${withinMs} ms, expected ${String(want)}`);
}

async function keyRow(id: string) {
  return (await prisma()).apiKey.findUniqueOrThrow({ where: { id } });
}

async function verify(key: string) {
  const res = await fetch(`${gw.url}/api/keys/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key }) });
  return (await res.json()).data as { valid: boolean; code: string; keyId: string | null };
}

describe("rotating a consumption key (POST /api/keys/:id/rotate)", () => {
  it("answers 200 {id, apiKey, keyPrefix, previousKeyExpiresAt} with a new secret under the same id, name, limits and allowlist", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, {
      name: "prod",
      maxBudget: 3,
      budgetPeriod: "month",
      rpm: 77,
      tpm: 5000,
      allowedModels: [MODEL.model],
      expiresAt: FUTURE,
    });
    const before = (await call("GET", "/api/keys", { token: user.token })).json.data[0];

    const res = await rotate(user, key.id, { gracePeriodSeconds: 3600 });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.json.data).sort()).toEqual(["apiKey", "id", "keyPrefix", "previousKeyExpiresAt"]);
    const { id, apiKey, keyPrefix, previousKeyExpiresAt } = res.json.data;
    expect(id).toBe(key.id);
    expect(apiKey).toMatch(/^sk_live_[0-9A-Za-z]{20,}$/);
    expect(apiKey).not.toBe(key.apiKey);
    expect(keyPrefix).toBe(apiKey.slice(0, keyPrefix.length));
    const grace = Date.parse(previousKeyExpiresAt) - Date.now();
    expect(grace).toBeGreaterThan(3590_000);
    expect(grace).toBeLessThanOrEqual(3600_000);

    const after = (await call("GET", "/api/keys", { token: user.token })).json.data[0];
    expect(after).toEqual({ ...before, keyPrefix, prefix: keyPrefix });
    const row = await keyRow(key.id);
    expect(row.keyHash).toBe(hashKey(apiKey));
    expect(row.previousKeyHash).toBe(hashKey(key.apiKey));
  });

  it("serves the old and the new secret side by side during the grace, then refuses the old one (401) once it ends", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 1000 });
    expect(await chat(key.apiKey)).toBe(200);
    const rotated = (await rotate(user, key.id, { gracePeriodSeconds: 1 })).json.data;
    const both = await Promise.all(Array.from({ length: 8 }, (_, i) => chat(i % 2 ? rotated.apiKey : key.apiKey)));
    expect(both).toEqual(Array(8).fill(200));

    // Judged at the instant asked, not when a cache entry expires.
    const graceEnds = Date.parse(rotated.previousKeyExpiresAt);
    expect((await verifyKey(key.apiKey, graceEnds - 1)).code).toBe("valid");
    expect((await verifyKey(key.apiKey, graceEnds)).code).toBe("key_rotated");
    expect((await verifyKey(rotated.apiKey, graceEnds + 86_400_000)).code).toBe("valid");

    await eventually(() => chat(key.apiKey), 401);
    expect(await chat(rotated.apiKey)).toBe(200);
  });

  it("refuses the old secret at once with grace 0, naming the rotation in both protocols' shapes and in POST /api/keys/verify", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    expect(await chat(key.apiKey)).toBe(200);
    const res = await rotate(user, key.id);
    expect(res.json.data.previousKeyExpiresAt).toBeNull();
    const refusals = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const count = (reason: string) =>
        Number(/ (\S+)$/.exec(text.split("\n").find((l) => l.startsWith(`keygate_limit_rejections_total{reason="${reason}"}`)) ?? " 0")?.[1]);
      return { rotated: count("rotated_key"), expired: count("expired_key") };
    };
    const before = await refusals();

    const openai = await gw
      .openai(key.apiKey)
      .chat.completions.create({ model: MODEL.model, messages: hello, max_tokens: 5 })
      .catch((e: unknown) => e);
    expect(openai).toBeInstanceOf(OpenAI.APIError);
    expect((openai as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((openai as InstanceType<typeof OpenAI.APIError>).code).toBe("invalid_api_key");
    expect((openai as Error).message).toMatch(/This key was rotated; use the new secret\./);
    // Counted as what it is in the metrics: a rotated secret, not an expired key.
    expect(await refusals()).toEqual({ rotated: before.rotated + 1, expired: before.expired });

    const anthropic = await gw
      .anthropic(key.apiKey)
      .messages.create({ model: MODEL.model, messages: hello, max_tokens: 5 })
      .catch((e: unknown) => e);
    expect(anthropic).toBeInstanceOf(Anthropic.APIError);
    expect((anthropic as InstanceType<typeof Anthropic.APIError>).status).toBe(401);
    expect(JSON.stringify((anthropic as InstanceType<typeof Anthropic.APIError>).error)).toMatch(/authentication_error.*rotated/);

    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key.apiKey}` } });
    expect(models.status).toBe(401);
    expect(await verify(key.apiKey)).toMatchObject({ valid: false, code: "key_rotated", keyId: key.id });
    expect(await verify(res.json.data.apiKey)).toMatchObject({ valid: true, code: "valid", keyId: key.id });
    expect(await chat(res.json.data.apiKey)).toBe(200);
  });

  it("ends the previous secret's grace at once on a second rotation: at most two secrets are ever valid", async () => {
    const user = await createUser({ creditUsd: 5 });
    const first = await createCreditKey(user, { rpm: 1000 });
    const second = (await rotate(user, first.id, { gracePeriodSeconds: 3600 })).json.data.apiKey;
    expect([await chat(first.apiKey), await chat(second)]).toEqual([200, 200]);
    const third = (await rotate(user, first.id, { gracePeriodSeconds: 3600 })).json.data.apiKey;
    expect([await chat(first.apiKey), await chat(second), await chat(third)]).toEqual([401, 200, 200]);
    const row = await keyRow(first.id);
    expect([row.keyHash, row.previousKeyHash]).toEqual([hashKey(third), hashKey(second)]);
    const fourth = (await rotate(user, first.id)).json.data.apiKey;
    expect([await chat(first.apiKey), await chat(second), await chat(third), await chat(fourth)]).toEqual([401, 401, 401, 200]);
  });

  it("keeps the key's spend and rate limit across the rotation: both secrets count against the same key", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 3 });
    expect(await chat(key.apiKey)).toBe(200);
    const next = (await rotate(user, key.id, { gracePeriodSeconds: 600 })).json.data.apiKey;
    expect(await chat(next)).toBe(200);
    expect(await chat(key.apiKey)).toBe(200);
    // rpm 3 is the key's, whichever secret is used.
    expect([await chat(next), await chat(key.apiKey)]).toEqual([429, 429]);

    await flushUsage();
    const db = await prisma();
    const records = await db.usageRecord.findMany({ where: { apiKeyId: key.id } });
    expect(records).toHaveLength(3);
    const spent = records.reduce((sum, r) => sum + r.costMicros, BigInt(0));
    expect(spent).toBeGreaterThan(BigInt(0));
    expect((await keyRow(key.id)).spendMicros).toBe(spent);
  });

  it("keeps counting the key's budget across the rotation: what the old secret spent is spent for the new one", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 1000, maxBudget: 1 });
    expect(await chat(key.apiKey)).toBe(200);
    await flushUsage();
    const spent = (await keyRow(key.id)).spendMicros;
    expect(spent).toBeGreaterThan(BigInt(0));
    const next = (await rotate(user, key.id)).json.data.apiKey;
    const [view] = (await call("GET", "/api/keys", { token: user.token })).json.data;
    expect(view.spend).toBe(Number(spent) / 1e6);
    // A budget of exactly what the old secret spent leaves nothing for the new one.
    expect((await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { maxBudget: Number(spent) / 1e6 } })).status).toBe(200);
    expect(await chat(next)).toBe(402);
  });

  it("rotates a subscription key under the same id and subscription, and lets a management key rotate consumption keys", async () => {
    const user = await createUser({ creditUsd: 5 });
    const pool = await insertSubscriptionKey(user);
    const mk = await createManagementKey(user);
    const res = await rotate(user, pool.id, {}, {}, mk.apiKey);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.apiKey).toMatch(/^sk_pool_/);
    const row = await keyRow(pool.id);
    expect(row.keyHash).toBe(hashKey(res.json.data.apiKey));
    expect(row.subscriptionId).not.toBeNull();
    expect((await verifyKey(res.json.data.apiKey)).code).toBe("valid");
  });

  it("refuses bad bodies with 400, another user's or a deleted key with 404, and an expired key with 409, changing nothing", async () => {
    const alice = await createUser({ creditUsd: 5 });
    const bob = await createUser();
    const key = await createCreditKey(alice);
    for (const body of [
      { gracePeriodSeconds: -1 },
      { gracePeriodSeconds: 604_801 },
      { gracePeriodSeconds: 1.5 },
      { gracePeriodSeconds: "60" },
      { grace: 60 },
      [],
    ]) {
      expectError(await rotate(alice, key.id, body), 400, "validation_error");
    }
    expect((await rotate(alice, key.id, { gracePeriodSeconds: 604_800 })).status).toBe(200);
    const hash = (await keyRow(key.id)).keyHash;
    expectError(await rotate(bob, key.id), 404, "not_found");
    expectError(await rotate(alice, "no-such-key"), 404, "not_found");
    expect((await keyRow(key.id)).keyHash).toBe(hash);

    const gone = await createCreditKey(alice);
    await call("DELETE", `/api/keys/${gone.id}`, { token: alice.token });
    expectError(await rotate(alice, gone.id), 404, "not_found");

    const expiring = await createCreditKey(alice, { expiresAt: FUTURE });
    await (await prisma()).apiKey.update({ where: { id: expiring.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await rotate(alice, expiring.id);
    expectError(expired, 409, "key_expired");
    expect(expired.json.error.message).toMatch(/PUT \/api\/keys\/:id/);
    expect((await keyRow(expiring.id)).previousKeyHash).toBeNull();
  });

  it("rotates a paused key: the new secret is paused too until the key is resumed", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: false } });
    const next = (await rotate(user, key.id, { gracePeriodSeconds: 3600 })).json.data.apiKey;
    expect([await chat(key.apiKey), await chat(next)]).toEqual([401, 401]);
    expect((await verifyKey(next)).code).toBe("key_inactive");
    await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { isActive: true } });
    expect([await chat(key.apiKey), await chat(next)]).toEqual([200, 200]);
    await call("DELETE", `/api/keys/${key.id}`, { token: user.token });
    expect([await chat(key.apiKey), await chat(next)]).toEqual([401, 401]);
  });
});

describe("rotating a management key (POST /api/keys/management/:id/rotate)", () => {
  it("refuses the old mk_ at once with grace 0 (401 key_rotated) and accepts the new one", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user, { name: "deploy" });
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
    const res = await rotateManagement(user, mk.id);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ id: mk.id, previousKeyExpiresAt: null });
    expect(res.json.data.apiKey).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    const refused = await call("GET", "/api/keys", { token: mk.apiKey });
    expectError(refused, 401, "key_rotated");
    expect(refused.json.error.message).toMatch(/use the new secret/);
    expect((await call("GET", "/api/keys", { token: res.json.data.apiKey })).status).toBe(200);
    const [listed] = (await call("GET", "/api/keys/management", { token: user.token })).json.data;
    expect(listed).toMatchObject({ id: mk.id, name: "deploy", keyPrefix: res.json.data.keyPrefix });
  });

  it("honours the grace period for the old mk_, then refuses it", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    const next = (await rotateManagement(user, mk.id, { gracePeriodSeconds: 1 })).json.data;
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
    expect((await call("GET", "/api/keys", { token: next.apiKey })).status).toBe(200);
    await eventually(async () => (await call("GET", "/api/keys", { token: mk.apiKey })).status, 401);
    expect((await call("GET", "/api/keys", { token: next.apiKey })).status).toBe(200);
  });

  it("lets only a signed-in session rotate a management key: a management key gets 403, another user 404", async () => {
    const user = await createUser();
    const other = await createUser();
    const mk = await createManagementKey(user);
    expectError(await call("POST", `/api/keys/management/${mk.id}/rotate`, { token: mk.apiKey, body: {} }), 403, "management_key_not_allowed");
    expectError(await rotateManagement(other, mk.id), 404, "not_found");
    expect((await call("GET", "/api/keys", { token: mk.apiKey })).status).toBe(200);
  });
});

describe("Idempotency-Key on rotation", () => {
  it("rotates once for parallel retries with one key: every answer carries the same new secret, and the hash changed exactly once", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const headers = { "idempotency-key": `rotate-${key.id}` };
    const answers = await Promise.all(Array.from({ length: 6 }, () => rotate(user, key.id, { gracePeriodSeconds: 60 }, headers)));
    for (const res of answers) expect(res.status, res.text).toBe(200);
    const secrets = new Set(answers.map((r) => r.json.data.apiKey));
    expect(secrets.size).toBe(1);
    const [secret] = secrets;
    const row = await keyRow(key.id);
    expect(row.keyHash).toBe(hashKey(secret));
    // The previous secret is the original one: no rotation happened in between.
    expect(row.previousKeyHash).toBe(hashKey(key.apiKey));

    const retry = await rotate(user, key.id, { gracePeriodSeconds: 60 }, headers);
    expect(retry.json).toEqual(answers[0].json);
    expect((await keyRow(key.id)).keyHash).toBe(hashKey(secret));
    expect(await chat(secret)).toBe(200);
  });

  it("treats an omitted body and the default grace as the same request", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const headers = { "idempotency-key": "same-request" };
    const first = await rotate(user, key.id, undefined, headers);
    const second = await rotate(user, key.id, { gracePeriodSeconds: 0 }, headers);
    expect(second.json.data.apiKey).toBe(first.json.data.apiKey);
  });

  it("answers 422 idempotency_key_reused for the same key with another body, key or operation, and rotates nothing", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const other = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const headers = { "idempotency-key": "one-key" };
    expect((await rotate(user, key.id, { gracePeriodSeconds: 60 }, headers)).status).toBe(200);
    const hashes = [(await keyRow(key.id)).keyHash, (await keyRow(other.id)).keyHash];
    expectError(await rotate(user, key.id, { gracePeriodSeconds: 120 }, headers), 422, "idempotency_key_reused");
    expectError(await rotate(user, other.id, { gracePeriodSeconds: 60 }, headers), 422, "idempotency_key_reused");
    expectError(await rotateManagement(user, mk.id, { gracePeriodSeconds: 60 }, headers), 422, "idempotency_key_reused");
    expect([(await keyRow(key.id)).keyHash, (await keyRow(other.id)).keyHash]).toEqual(hashes);
    // Keys are per account: another user's identical key is another request.
    const stranger = await createUser({ creditUsd: 5 });
    const theirs = await createCreditKey(stranger);
    expect((await rotate(stranger, theirs.id, { gracePeriodSeconds: 120 }, headers)).status).toBe(200);
  });

  it("answers a retry whose held answer can no longer be opened (the encryption key changed) with 409 idempotency_answer_unreadable, and rotates nothing again", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const headers = { "idempotency-key": "before-the-key-changed" };
    const first = await rotate(user, key.id, { gracePeriodSeconds: 60 }, headers);
    expect(first.status, first.text).toBe(200);
    const restore = setEnv({ KEYGATE_ENCRYPTION_KEY: "a-different-encryption-key-0123456789abcdef" });
    try {
      const retry = await rotate(user, key.id, { gracePeriodSeconds: 60 }, headers);
      expectError(retry, 409, "idempotency_answer_unreadable");
      expect(retry.json.error.message).toContain("new Idempotency-Key");
      expect(retry.text).not.toContain(first.json.data.apiKey);
    } finally {
      restore();
    }
    // The retry did not rotate a second time: the first answer's secret is still the key's.
    expect((await keyRow(key.id)).keyHash).toBe(hashKey(first.json.data.apiKey));
  });

  it("refuses a malformed Idempotency-Key with 400 invalid_idempotency_key", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const hash = (await keyRow(key.id)).keyHash;
    for (const value of ["", "a".repeat(256), "tab\there"]) {
      expectError(await rotate(user, key.id, {}, { "idempotency-key": value }), 400, "invalid_idempotency_key");
    }
    expect((await keyRow(key.id)).keyHash).toBe(hash);
    expect((await rotate(user, key.id, {}, { "idempotency-key": "a".repeat(255) })).status).toBe(200);
  });

  it("holds the answer encrypted (no secret in any table), erases it after 10 minutes, and then the key may rotate again", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const headers = { "idempotency-key": "erase-me" };
    const first = (await rotate(user, key.id, {}, headers)).json.data.apiKey;
    const held = await dumpAllTables();
    expect(held.IdempotencyRecord).toContain("erase-me");
    for (const [table, dump] of Object.entries(held)) expect(dump.match(KEY_MATERIAL_RE), table).toBeNull();

    const db = await prisma();
    const row = await db.idempotencyRecord.findFirstOrThrow({ where: { userId: user.id, key: "erase-me" } });
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeLessThanOrEqual(IDEMPOTENCY_WINDOW_MS + 1000);
    const heldRows = () => db.idempotencyRecord.count({ where: { userId: user.id } });
    await sweepIdempotencyRecords(row.expiresAt.getTime() - 1);
    expect(await heldRows()).toBe(1);
    expect(await sweepIdempotencyRecords(row.expiresAt.getTime())).toBeGreaterThanOrEqual(1);
    expect(await heldRows()).toBe(0);
    for (const [table, dump] of Object.entries(await dumpAllTables())) expect(dump.match(KEY_MATERIAL_RE), table).toBeNull();

    const again = (await rotate(user, key.id, {}, headers)).json.data.apiKey;
    expect(again).not.toBe(first);
  });

  it("writes no key, old or new, to the server log", async () => {
    for (const line of logged) expect(line.match(KEY_MATERIAL_RE), line).toBeNull();
    expect(logged.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------
// Several instances: needs a real PostgreSQL (PGlite is one process) and redis-server.

const clustered = Boolean(process.env.DATABASE_URL) && (redisServerAvailable() || process.env.CI === "true");

describe.skipIf(!clustered)("rotation across two instances on one PostgreSQL and one Redis", () => {
  let redisServer: TestRedis;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    redisServer = await startRedis();
    const env = { DATABASE_URL: process.env.DATABASE_URL!, REDIS_URL: redisServer.url, KEYGATE_DEMO_UPSTREAM: "on" };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redisServer?.close();
  });

  const ask = (instance: Instance, apiKey: string) =>
    status(
      new OpenAI({ baseURL: `${instance.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({ model: "keygate/echo", messages: hello, max_tokens: 1 }),
    );

  it("refuses the old secret on B the moment A has rotated it (grace 0), and B serves the new one, 20 times in a row", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 100_000 });
    let secret = key.apiKey;
    for (let i = 0; i < 20; i++) {
      // B has the current secret cached as valid.
      expect(await ask(b, secret)).toBe(200);
      const res = await a.post(`/api/keys/${key.id}/rotate`, user.token, {});
      expect(res.status).toBe(200);
      const next = ((await res.json()) as { data: { apiKey: string } }).data.apiKey;
      const [old, fresh] = [await ask(b, secret), await ask(b, next)];
      if (old !== 401 || fresh !== 200) throw new Error(`round ${i}: B answered ${old} for the old secret and ${fresh} for the new one`);
      secret = next;
    }
  }, 120_000);

  it("ends the first secret's grace on B at once when A rotates a second time", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 100_000 });
    const second = ((await (await a.post(`/api/keys/${key.id}/rotate`, user.token, { gracePeriodSeconds: 3600 })).json()) as { data: { apiKey: string } }).data
      .apiKey;
    expect([await ask(b, key.apiKey), await ask(b, second)]).toEqual([200, 200]);
    const third = ((await (await a.post(`/api/keys/${key.id}/rotate`, user.token, { gracePeriodSeconds: 3600 })).json()) as { data: { apiKey: string } }).data
      .apiKey;
    expect([await ask(b, key.apiKey), await ask(b, second), await ask(b, third)]).toEqual([401, 200, 200]);
  });

  it("refuses a management key's old secret on B right after A rotated it", async () => {
    const user = await createUser({ creditUsd: 1 });
    const credit = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const put = (instance: Instance, token: string) =>
      fetch(`${instance.url}/api/keys/${credit.id}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "renamed" }),
      });
    expect((await put(b, mk.apiKey)).status).toBe(200);
    const res = await a.post(`/api/keys/management/${mk.id}/rotate`, user.token, {});
    const next = ((await res.json()) as { data: { apiKey: string } }).data.apiKey;
    const refused = await put(b, mk.apiKey);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("key_rotated");
    expect((await put(b, next)).status).toBe(200);
  });
});
