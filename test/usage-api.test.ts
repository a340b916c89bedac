import crypto from "node:crypto";
import fc from "fast-check";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { usdToMicros } from "@/lib/billing/money";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { sweepRequestLog } from "@/lib/usage/retention";
import { encodeUsage, flushUsage, newUsageId, setAfterUsageCommitForTests } from "@/lib/usage/writer";
import { call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createCreditKey, type CreatedKey } from "./fixtures";
import { parseCsv } from "./csv";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Usage you can see (GET /api/usage and GET /api/usage/requests), through
 * the real gateway, the real usage writer and the real route handlers: the
 * rollups agree with the ledger and the request log to the micro-dollar, the
 * log pages each row once while rows arrive, its CSV is the JSON's rows,
 * upstream errors are rows at cost 0, refusals are counted, another
 * account's key is a 404, bad parameters are 400s, and retention deletes
 * old log rows only.
 */

const suffix = crypto.randomBytes(4).toString("hex");
// Two priced models (micro-dollars per million tokens), names unique to this file: the PostgreSQL project shares one database.
const MODELS = [
  {
    model: `usage-a-${suffix}`,
    provider: "openai" as const,
    inputMicrosPerMTok: BigInt(1_370_000),
    outputMicrosPerMTok: BigInt(4_110_000),
    maxOutputTokens: 50,
  },
  { model: `usage-b-${suffix}`, provider: "openai" as const, inputMicrosPerMTok: BigInt(250_000), outputMicrosPerMTok: BigInt(9_990_000), maxOutputTokens: 50 },
];

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({ OPENAI_BASE_URL: up.openaiBaseUrl, OPENAI_API_KEY: "upstream-secret", KEYGATE_DEMO_UPSTREAM: "off" });
  const db = await prisma();
  for (const m of MODELS) await db.model.create({ data: m });
  invalidateCatalogue();
  gw = await startGateway();
  // Each request says what the upstream does with it: "ok <output tokens>" or "fail <status>".
  up.options.respond = (body) => {
    const messages = body.messages as Array<{ content: string }> | undefined;
    const [what, n] = String(messages?.[0]?.content ?? "ok 5").split(" ");
    return what === "fail" ? { status: Number(n) } : { outputTokens: Number(n), status: undefined };
  };
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  await resetRouting();
});

async function get(user: TestUser, path: string): Promise<ApiResponse> {
  const res = await call("GET", path, { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res;
}

/** What one request does: which key and model, and whether the upstream answers (with n output tokens) or fails (with a status). */
interface Step {
  key: number;
  model: number;
  stream: boolean;
  outcome: { ok: number } | { fail: 400 | 404 | 422 };
}

async function send(openai: OpenAI, step: Step): Promise<number> {
  const content = "ok" in step.outcome ? `ok ${step.outcome.ok}` : `fail ${step.outcome.fail}`;
  const body = { model: MODELS[step.model].model, messages: [{ role: "user" as const, content }], max_tokens: 40 };
  try {
    if (step.stream) {
      const s = await openai.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of s) void chunk;
    } else await openai.chat.completions.create(body);
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? -1;
    throw err;
  }
}

/** Every row of the caller's request log, page by page (`limit` rows a page), with the query's filters. */
async function allRequests(user: TestUser, query = "", limit = 500): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  do {
    const res = await get(user, `/api/usage/requests?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`);
    rows.push(...res.json.data);
    cursor = res.json.nextCursor;
  } while (cursor);
  return rows;
}

/** The ledger's usage debits of an account, in micro-dollars (positive). */
async function ledgerUsage(user: TestUser): Promise<bigint> {
  const agg = await (await prisma()).ledgerEntry.aggregate({ where: { userId: user.id, kind: "usage" }, _sum: { amountMicros: true } });
  return -(agg._sum.amountMicros ?? BigInt(0));
}

const micros = (usd: unknown) => usdToMicros(Number(usd));

/** Adds a record through the writer's own entry point (the store's outbox, then a flush): cost 0, at a chosen time. */
async function recordAt(user: TestUser, keyId: string, at: Date, fields: { model?: string; status?: number } = {}): Promise<string> {
  const id = newUsageId();
  const record = encodeUsage({
    id,
    userId: user.id,
    apiKeyId: keyId,
    model: fields.model ?? MODELS[0].model,
    provider: "openai",
    inputTokens: 3,
    outputTokens: 4,
    costMicros: 0,
    inputMicrosPerMTok: 0,
    outputMicrosPerMTok: 0,
    status: fields.status ?? 200,
    latencyMs: 12,
    ttftMs: null,
    streamed: false,
    upstream: "env-openai",
    attempts: 1,
    createdAt: at,
  });
  await limits().record(id, record);
  return id;
}

describe("GET /api/usage", () => {
  it("for random sequences of requests across keys and models, with flushes between, every groupBy's totals equal the ledger's usage debits and the request log", async () => {
    const step: fc.Arbitrary<Step | "flush"> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          key: fc.nat(2),
          model: fc.nat(1),
          stream: fc.boolean(),
          outcome: fc.oneof(fc.record({ ok: fc.integer({ min: 0, max: 40 }) }), fc.record({ fail: fc.constantFrom(400 as const, 404 as const, 422 as const) })),
        }),
      },
      { weight: 1, arbitrary: fc.constant("flush" as const) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const user = await createUser({ creditUsd: 5 });
        const keys: CreatedKey[] = [];
        for (let i = 0; i < 3; i++) keys.push(await createCreditKey(user, { name: `key ${i}`, rpm: 10_000 }));
        let sent = 0;
        for (const s of steps) {
          if (s === "flush") {
            await flushUsage();
            continue;
          }
          const status = await send(gw.openai(keys[s.key].apiKey), s);
          expect(status).toBe("ok" in s.outcome ? 200 : s.outcome.fail);
          sent++;
        }
        await flushUsage();
        const ledger = await ledgerUsage(user);
        const log = await allRequests(user, "", 5);
        expect(log).toHaveLength(sent);
        const logCost = log.reduce((n, r) => n + micros(r.costUsd), BigInt(0));
        expect(logCost).toBe(ledger);
        for (const groupBy of ["day", "key", "model"]) {
          const { totals, rows } = (await get(user, `/api/usage?groupBy=${groupBy}`)).json.data;
          expect(micros(totals.costUsd), groupBy).toBe(ledger);
          expect(totals.requests, groupBy).toBe(sent);
          expect(totals.inputTokens).toBe(log.reduce((n, r) => n + Number(r.inputTokens), 0));
          expect(totals.outputTokens).toBe(log.reduce((n, r) => n + Number(r.outputTokens), 0));
          // The rows add up to the totals, to the micro-dollar.
          expect(rows.reduce((n: bigint, r: { costUsd: number }) => n + micros(r.costUsd), BigInt(0))).toBe(ledger);
          expect(rows.reduce((n: number, r: { requests: number }) => n + r.requests, 0)).toBe(sent);
          expect(totals.refused).toEqual({ "402": 0, "403": 0, "429": 0 });
        }
        // Per key and per model, the rows are what the log holds for each.
        const byKey = (await get(user, "/api/usage?groupBy=key")).json.data.rows as Array<{
          keyId: string;
          keyName: string;
          requests: number;
          costUsd: number;
        }>;
        for (const r of byKey) {
          const mine = log.filter((l) => l.keyId === r.keyId);
          expect(r.requests).toBe(mine.length);
          expect(micros(r.costUsd)).toBe(mine.reduce((n, l) => n + micros(l.costUsd), BigInt(0)));
          expect(r.keyName).toBe(keys.find((k) => k.id === r.keyId) ? `key ${keys.findIndex((k) => k.id === r.keyId)}` : null);
        }
        // Every grain the rollups keep agrees: a key's rows by model, a model's rows by key.
        for (const k of keys) {
          const { totals, rows } = (await get(user, `/api/usage?groupBy=model&keyId=${k.id}`)).json.data;
          const mine = log.filter((l) => l.keyId === k.id);
          expect(totals.requests).toBe(mine.length);
          expect(rows.reduce((n: bigint, r: { costUsd: number }) => n + micros(r.costUsd), BigInt(0))).toBe(
            mine.reduce((n, l) => n + micros(l.costUsd), BigInt(0)),
          );
        }
        for (const m of MODELS) {
          const only = (await get(user, `/api/usage?groupBy=day&model=${m.model}`)).json.data.totals;
          const mine = log.filter((l) => l.model === m.model);
          expect(only.requests).toBe(mine.length);
          expect(micros(only.costUsd)).toBe(mine.reduce((n, l) => n + micros(l.costUsd), BigInt(0)));
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it("counts a write that committed but was never acknowledged once in the rollups when it is written again", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 1000 });
    let failures = 0;
    setAfterUsageCommitForTests(() => {
      if (failures++ === 0) throw new Error("the answer to the commit was lost");
    });
    try {
      for (let i = 0; i < 4; i++) expect(await send(gw.openai(key.apiKey), { key: 0, model: i % 2, stream: false, outcome: { ok: 5 + i } })).toBe(200);
      await flushUsage();
      await flushUsage();
    } finally {
      setAfterUsageCommitForTests(null);
    }
    expect(failures).toBeGreaterThanOrEqual(2);
    const ledger = await ledgerUsage(user);
    expect(ledger).toBeGreaterThan(BigInt(0));
    for (const groupBy of ["day", "key", "model"]) {
      const { totals } = (await get(user, `/api/usage?groupBy=${groupBy}`)).json.data;
      expect(totals.requests, groupBy).toBe(4);
      expect(micros(totals.costUsd), groupBy).toBe(ledger);
    }
  });

  it("counts requests refused before any upstream (402, 429) in totals.refused, per status, and not as requests or rows", async () => {
    const user = await createUser({ creditUsd: 5 });
    const limited = await createCreditKey(user, { name: "limited", rpm: 1 });
    const broke = await createCreditKey(user, { name: "broke", maxBudget: 0.000001 });
    expect(await send(gw.openai(limited.apiKey), { key: 0, model: 0, stream: false, outcome: { ok: 3 } })).toBe(200);
    expect(await send(gw.openai(limited.apiKey), { key: 0, model: 0, stream: false, outcome: { ok: 3 } })).toBe(429);
    expect(await send(gw.openai(limited.apiKey), { key: 0, model: 1, stream: false, outcome: { ok: 3 } })).toBe(429);
    expect(await send(gw.openai(broke.apiKey), { key: 0, model: 1, stream: false, outcome: { ok: 3 } })).toBe(402);
    await flushUsage();
    const { totals, rows } = (await get(user, "/api/usage?groupBy=key")).json.data;
    expect(totals.requests).toBe(1);
    expect(totals.refused).toEqual({ "402": 1, "403": 0, "429": 2 });
    // The broke key saw only a refusal: no row.
    expect(rows.map((r: { keyId: string }) => r.keyId)).toEqual([limited.id]);
    expect(await allRequests(user)).toHaveLength(1);
    const filtered = (await get(user, `/api/usage?keyId=${limited.id}&model=${MODELS[1].model}`)).json.data.totals;
    expect(filtered.refused).toEqual({ "402": 0, "403": 0, "429": 1 });
  });

  it("maps from and to onto whole UTC days, both included, and defaults to the 30 UTC days ending today", async () => {
    const user = await createUser({ creditUsd: 1 });
    const key = await createCreditKey(user);
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    await recordAt(user, key.id, new Date(today - 29 * day + 1));
    await recordAt(user, key.id, new Date(today - 30 * day + 5));
    await recordAt(user, key.id, new Date(today - 3 * day + 20 * 3_600_000));
    await flushUsage();
    expect((await get(user, "/api/usage")).json.data.totals.requests).toBe(2);
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const days = (await get(user, `/api/usage?from=${iso(today - 40 * day)}&to=${iso(today)}`)).json.data.rows.map((r: { day: string }) => r.day);
    expect(days).toEqual([iso(today - 30 * day), iso(today - 29 * day), iso(today - 3 * day)]);
    // An instant stands for its whole day: 00:00 of that day includes the request at 20:00.
    const at = new Date(today - 3 * day).toISOString();
    expect((await get(user, `/api/usage?from=${at}&to=${at}`)).json.data.totals.requests).toBe(1);
    // The log is exact: from ≤ at ≤ to.
    expect(await allRequests(user, `&from=${at}&to=${at}`)).toHaveLength(0);
    expect(await allRequests(user, `&from=${iso(today - 3 * day)}&to=${iso(today - 3 * day)}`)).toHaveLength(1);
  });
});

describe("GET /api/usage/requests", () => {
  it("pages newest first and returns every row exactly once while rows are inserted (ties in time included)", async () => {
    const user = await createUser({ creditUsd: 1 });
    const key = await createCreditKey(user);
    const base = Date.now() - 3_600_000;
    const original: string[] = [];
    // 60 rows in groups of 10 sharing a millisecond: the id breaks ties.
    for (let i = 0; i < 60; i++) original.push(await recordAt(user, key.id, new Date(base + Math.floor(i / 10) * 1000)));
    await flushUsage();
    const seen: string[] = [];
    const inserted: string[] = [];
    let cursor: string | null = null;
    let previous: { at: string; id: string } | null = null;
    do {
      const res = await get(user, `/api/usage/requests?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      for (const r of res.json.data as Array<{ id: string; at: string }>) {
        // Newest first: (at, id) strictly decreasing.
        if (previous) expect(r.at < previous.at || (r.at === previous.at && r.id < previous.id)).toBe(true);
        previous = r;
        seen.push(r.id);
      }
      cursor = res.json.nextCursor;
      // Between pages: a newer row, one in the middle of the rows already read, and one among those not read yet.
      inserted.push(await recordAt(user, key.id, new Date()));
      inserted.push(await recordAt(user, key.id, new Date(base + 5_000)));
      inserted.push(await recordAt(user, key.id, new Date(base - 1_000)));
      await flushUsage();
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of original)
      expect(
        seen.filter((s) => s === id),
        id,
      ).toHaveLength(1);
    // Rows older than every page read so far show up in their place.
    expect(seen.filter((s) => inserted.includes(s)).length).toBeGreaterThan(0);
  });

  it("streams CSV (Accept: text/csv or format=csv) with a header line, and it parses to exactly the JSON rows", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { name: 'ci, "night" bot' });
    const other = await createCreditKey(user, { name: "=cmd" });
    for (let i = 0; i < 4; i++) await send(gw.openai(key.apiKey), { key: 0, model: i % 2, stream: i % 2 === 0, outcome: { ok: 7 + i } });
    await send(gw.openai(other.apiKey), { key: 0, model: 0, stream: false, outcome: { fail: 422 } });
    for (let i = 0; i < 1_100; i++) await recordAt(user, key.id, new Date(Date.now() - 60_000 - i));
    await flushUsage();
    const json = await allRequests(user);
    expect(json).toHaveLength(1_105);
    const ways: Array<{ path: string; headers: Record<string, string> }> = [
      { path: "/api/usage/requests?format=csv", headers: {} },
      { path: "/api/usage/requests", headers: { accept: "text/csv" } },
    ];
    for (const how of ways) {
      const res = await call("GET", how.path, { token: user.token, headers: how.headers });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
      const [header, ...lines] = parseCsv(res.text);
      expect(header).toEqual([
        "id",
        "at",
        "keyId",
        "keyName",
        "model",
        "upstream",
        "status",
        "stream",
        "inputTokens",
        "outputTokens",
        "costUsd",
        "latencyMs",
        "attempts",
      ]);
      expect(lines).toHaveLength(json.length);
      const asText = (v: unknown) => (v === null ? "" : String(v));
      expect(lines).toEqual(json.map((r) => header.map((c) => (c === "keyName" && r.keyName === "=cmd" ? "'=cmd" : asText(r[c])))));
    }
    // Filters apply to the export too.
    const failed = await call("GET", "/api/usage/requests?format=csv&status=422", { token: user.token });
    expect(parseCsv(failed.text)).toHaveLength(2);
  });

  it("shows upstream errors with their status and cost 0, and filters by key, model and status", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user, { rpm: 1000 });
    const openai = gw.openai(key.apiKey);
    expect(await send(openai, { key: 0, model: 0, stream: false, outcome: { ok: 9 } })).toBe(200);
    expect(await send(openai, { key: 0, model: 1, stream: false, outcome: { fail: 400 } })).toBe(400);
    expect(await send(openai, { key: 0, model: 1, stream: true, outcome: { fail: 404 } })).toBe(404);
    await flushUsage();
    const rows = await allRequests(user);
    expect(rows.map((r) => [r.status, r.model, r.costUsd])).toEqual([
      [404, MODELS[1].model, 0],
      [400, MODELS[1].model, 0],
      [200, MODELS[0].model, rows[2].costUsd],
    ]);
    expect(rows[2].costUsd).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ keyId: key.id, keyName: "test-key", upstream: "env-openai", attempts: 1, stream: true, inputTokens: 0, outputTokens: 0 });
    expect(typeof rows[0].latencyMs).toBe("number");
    expect((await allRequests(user, "&status=400")).map((r) => r.status)).toEqual([400]);
    expect(await allRequests(user, `&model=${MODELS[0].model}`)).toHaveLength(1);
    expect(await allRequests(user, `&keyId=${key.id}`)).toHaveLength(3);
    // The id is the answer's x-keygate-usage-id.
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODELS[0].model, messages: [{ role: "user", content: "fail 422" }], max_tokens: 5 }),
    });
    expect(res.status).toBe(422);
    await flushUsage();
    expect((await allRequests(user, "&status=422"))[0].id).toBe(res.headers.get("x-keygate-usage-id"));
    // The usage totals count them as requests at no cost.
    expect((await get(user, "/api/usage")).json.data.totals.requests).toBe(4);
  });
});

describe("the usage endpoints' boundaries", () => {
  it("answer 404 for another account's keyId, and show none of its rows", async () => {
    const alice = await createUser({ creditUsd: 5 });
    const bob = await createUser();
    const key = await createCreditKey(alice);
    await send(gw.openai(key.apiKey), { key: 0, model: 0, stream: false, outcome: { ok: 3 } });
    await flushUsage();
    for (const path of [`/api/usage?keyId=${key.id}`, `/api/usage/requests?keyId=${key.id}`, `/api/usage/requests?format=csv&keyId=${key.id}`]) {
      expectError(await call("GET", path, { token: bob.token }), 404, "not_found");
    }
    expect((await get(bob, "/api/usage")).json.data.totals.requests).toBe(0);
    expect(await allRequests(bob)).toHaveLength(0);
    expect((await get(alice, `/api/usage?keyId=${key.id}`)).json.data.totals.requests).toBe(1);
    // A deleted key of one's own with usage is still a filter.
    expect((await call("DELETE", `/api/keys/${key.id}`, { token: alice.token })).status).toBeLessThan(300);
    const rows = (await get(alice, `/api/usage?groupBy=key&keyId=${key.id}`)).json.data.rows;
    expect(rows).toMatchObject([{ keyId: key.id, keyName: null, requests: 1 }]);
  });

  it("answer 400 in the envelope for bad parameters, and 401 without credentials", async () => {
    const user = await createUser();
    for (const q of [
      "/api/usage?groupBy=week",
      "/api/usage?from=yesterday",
      "/api/usage?from=2026-13-01",
      "/api/usage?from=2026-12-07&to=2026-12-01",
      "/api/usage?keyId=../etc",
      "/api/usage/requests?limit=0",
      "/api/usage/requests?limit=501",
      "/api/usage/requests?status=abc",
      "/api/usage/requests?format=xml",
      "/api/usage/requests?to=2026-12-01T00:00:00",
    ]) {
      expectError(await call("GET", q, { token: user.token }), 400, "validation_error");
    }
    expectError(await call("GET", "/api/usage/requests?cursor=bm90LWEtY3Vyc29y", { token: user.token }), 400, "invalid_cursor");
    expectError(await call("GET", "/api/usage"), 401);
    expectError(await call("GET", "/api/usage/requests"), 401);
  });
});

describe("request log retention", () => {
  it("deletes rows older than KEYGATE_REQUEST_LOG_DAYS in bounded batches, even with two sweeps at once, and keeps the rollups", async () => {
    const user = await createUser({ creditUsd: 1 });
    const key = await createCreditKey(user);
    const day = 86_400_000;
    const now = Date.now();
    const old: string[] = [];
    const recent: string[] = [];
    for (let i = 0; i < 7; i++) old.push(await recordAt(user, key.id, new Date(now - 31 * day - i * 1000)));
    for (let i = 0; i < 3; i++) recent.push(await recordAt(user, key.id, new Date(now - 29 * day + i * 1000)));
    await flushUsage();
    const window = `from=${new Date(now - 40 * day).toISOString().slice(0, 10)}`;
    const before = (await get(user, `/api/usage?${window}`)).json.data;
    expect(before.totals.requests).toBe(10);
    // Two instances sweeping at once, 2 rows a statement.
    await Promise.all([sweepRequestLog(now, 2), sweepRequestLog(now, 2)]);
    const ids = (await allRequests(user, `&${window}`)).map((r) => r.id);
    expect(ids.sort()).toEqual([...recent].sort());
    // The rollups stay: the totals and the days before the cutoff are unchanged.
    expect((await get(user, `/api/usage?${window}`)).json.data).toEqual(before);
    // A later sweep finds nothing more of these.
    await sweepRequestLog(now, 2);
    expect(await (await prisma()).usageRecord.count({ where: { userId: user.id } })).toBe(3);
  });
});
