import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { limits } from "@/lib/limits";
import { flushUsage } from "@/lib/usage/writer";
import { KEY_MATERIAL_RE } from "@/lib/keys/format";
import { call, createUser, type TestUser } from "./api";
import { createCreditKey, createManagementKey, type CreatedKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * The gateway against a misbehaving world (PRODUCT.md, "Gateway"): an
 * upstream that reports hostile usage or answers with pages no SDK can read,
 * bodies nested to exhaust a stack, and requests carrying two different keys.
 * None of it may mint credit, yield a 5xx of Keygate's own, or be resolved by
 * silently picking one key.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;

// Prices in micro-dollars per million tokens: $1 in, $2 out.
const GPT = {
  model: "gpt-hard",
  provider: "openai" as const,
  inputMicrosPerMTok: BigInt(1_000_000),
  outputMicrosPerMTok: BigInt(2_000_000),
  maxOutputTokens: 100,
};
const CLAUDE = {
  model: "claude-hard",
  provider: "anthropic" as const,
  inputMicrosPerMTok: BigInt(3_000_000),
  outputMicrosPerMTok: BigInt(15_000_000),
  maxOutputTokens: 100,
};

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
  });
  const db = await prisma();
  for (const m of [GPT, CLAUDE]) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(async () => {
  Object.assign(up.options, { usage: undefined, raw: undefined, outputTokens: 5, failMidStreamAfter: undefined, status: undefined });
  up.reset();
  await resetRouting();
});

async function userWithKey(creditUsd = 10, body: Record<string, unknown> = {}) {
  const user = await createUser({ creditUsd });
  const key = await createCreditKey(user, { rpm: 1000, ...body });
  return { user, key, openai: gw.openai(key.apiKey), anthropic: gw.anthropic(key.apiKey) };
}

/** The account's money as the database and the limits store see it once everything is written. */
async function books(user: TestUser, key: CreatedKey) {
  await flushUsage();
  const db = await prisma();
  const [row, ledger, apiKey, records] = await Promise.all([
    db.user.findUniqueOrThrow({ where: { id: user.id }, select: { balanceMicros: true } }),
    db.ledgerEntry.aggregate({ where: { userId: user.id }, _sum: { amountMicros: true } }),
    db.apiKey.findUniqueOrThrow({ where: { id: key.id }, select: { spendMicros: true } }),
    db.usageRecord.findMany({ where: { apiKeyId: key.id } }),
  ]);
  const pending = await limits().pending(user.id);
  return { balance: row.balanceMicros, ledger: ledger._sum.amountMicros, spend: apiKey.spendMicros, records, pending };
}

const hello = [{ role: "user" as const, content: "Say hello" }];

/** What the two protocols' error bodies hold (either shape). */
interface ErrorShape {
  type?: unknown;
  error?: { message?: unknown; type?: unknown; code?: unknown };
}

/** Raw POST to the gateway, for bodies and headers the SDKs will not send. */
async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, text, json: json as ErrorShape | null, headers: res.headers };
}

const HOSTILE_USAGE: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  // [what, OpenAI usage, Anthropic usage]
  ["negative", { prompt_tokens: -35_000_000, completion_tokens: -1_000_000 }, { input_tokens: -35_000_000, output_tokens: -1_000_000 }],
  ["fractional", { prompt_tokens: 2.5, completion_tokens: 0.5 }, { input_tokens: 2.5, output_tokens: 0.5, cache_read_input_tokens: 0.25 }],
  ["not numbers", { prompt_tokens: "9", completion_tokens: null }, { input_tokens: "9", output_tokens: { n: 1 } }],
  ["huge", { prompt_tokens: 2 ** 60, completion_tokens: 1e300 }, { input_tokens: 1e15, output_tokens: 2 ** 53 + 2, cache_creation_input_tokens: 1e12 }],
  ["beyond the request", { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }, { input_tokens: 1_000_000, output_tokens: 1_000_000 }],
  ["negative cache reads", { prompt_tokens: 3, completion_tokens: 5 }, { input_tokens: 3, output_tokens: 5, cache_read_input_tokens: -1_000_000 }],
];

describe("an upstream's usage is input, not truth", () => {
  for (const [what, openaiUsage, anthropicUsage] of HOSTILE_USAGE) {
    for (const stream of [false, true]) {
      it(`${what} usage (${stream ? "streamed" : "whole answer"}) is replaced by Keygate's own count: never below zero, never above the reservation, never a credit`, async () => {
        const { user, key, openai, anthropic } = await userWithKey(10);
        const before = await books(user, key);
        up.options.usage = openaiUsage;
        if (stream) {
          const s = await openai.chat.completions.create({ model: "gpt-hard", messages: hello, stream: true, max_tokens: 10 });
          for await (const c of s) void c;
        } else {
          await openai.chat.completions.create({ model: "gpt-hard", messages: hello, max_tokens: 10 });
        }
        up.options.usage = anthropicUsage;
        if (stream) {
          const s = await anthropic.messages.create({ model: "claude-hard", messages: hello, max_tokens: 10, stream: true });
          for await (const c of s) void c;
        } else {
          await anthropic.messages.create({ model: "claude-hard", messages: hello, max_tokens: 10 });
        }
        const after = await books(user, key);
        expect(after.records).toHaveLength(2);
        for (const r of after.records) {
          expect(r.inputTokens).toBeGreaterThanOrEqual(0);
          expect(r.outputTokens).toBeGreaterThanOrEqual(0);
          expect(r.outputTokens).toBeLessThanOrEqual(10);
          // A ~100-byte body bounds the prompt: a count above it is not believed.
          expect(r.inputTokens).toBeLessThan(200);
          expect(r.costMicros).toBeGreaterThanOrEqual(BigInt(0));
        }
        const charged = after.records.reduce((n, r) => n + r.costMicros, BigInt(0));
        expect(after.spend).toBe(charged);
        expect(after.balance).toBe(before.balance - charged);
        expect(after.balance).toBeLessThanOrEqual(before.balance);
        expect(after.ledger).toBe(after.balance);
        expect(after.pending).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
      });
    }
  }

  it("a plausible count is believed as reported: zero output tokens, and a streamed count above the deltas seen", async () => {
    const { user, key, openai } = await userWithKey(10);
    up.options.usage = { prompt_tokens: 7, completion_tokens: 0 };
    await openai.chat.completions.create({ model: "gpt-hard", messages: hello, max_tokens: 10 });
    up.options.usage = { prompt_tokens: 7, completion_tokens: 9 };
    const s = await openai.chat.completions.create({ model: "gpt-hard", messages: hello, max_tokens: 10, stream: true });
    for await (const c of s) void c;
    const { records } = await books(user, key);
    expect(records.map((r) => [r.inputTokens, r.outputTokens]).sort()).toEqual([
      [7, 0],
      [7, 9],
    ]);
  });
});

/** A body whose `at` holds `levels` arrays one inside another (the body itself is one level more). */
function nested(levels: number): string {
  return `${"[".repeat(levels)}"x"${"]".repeat(levels)}`;
}

const ENDPOINTS = [
  { path: "/v1/chat/completions", model: "gpt-hard", shape: (j: ErrorShape | null) => typeof j?.error?.message === "string" },
  { path: "/v1/messages", model: "claude-hard", shape: (j: ErrorShape | null) => j?.type === "error" && typeof j?.error?.message === "string" },
];

describe("bodies nested deeper than 64 levels", () => {
  for (const e of ENDPOINTS) {
    for (const levels of [65, 1_000, 100_000]) {
      for (const [where, body] of [
        ["message content", (n: number) => `{"model":"${e.model}","max_tokens":5,"messages":[{"role":"user","content":${nested(n - 3)}}]}`],
        ["a tool's schema", (n: number) => `{"model":"${e.model}","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[${nested(n - 2)}]}`],
        ["an unknown field", (n: number) => `{"model":"${e.model}","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"extra":${nested(n - 1)}}`],
      ] as const) {
        it(`${e.path}: ${levels} levels in ${where} is a 400 that says so, before anything is sent upstream or charged`, async () => {
          const { user, key } = await userWithKey(10);
          const res = await post(e.path, body(levels), { authorization: `Bearer ${key.apiKey}` });
          expect(res.status, res.text.slice(0, 300)).toBe(400);
          expect(e.shape(res.json)).toBe(true);
          expect(res.text).toMatch(/nested more than 64 levels/);
          expect(up.requests).toHaveLength(0);
          expect((await books(user, key)).records).toHaveLength(0);
        });
      }
    }

    it(`${e.path}: exactly 64 levels passes and is relayed`, async () => {
      const { key } = await userWithKey(10);
      const body = `{"model":"${e.model}","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata_extra":${nested(63)}}`;
      const res = await post(e.path, body, { authorization: `Bearer ${key.apiKey}` });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(up.requests).toHaveLength(1);
    });
  }
});

describe("a request carrying two keys", () => {
  it("a valid Bearer key with a different x-api-key (garbage, mis-checksummed, mk_, paused, another valid key) is a 401 naming both headers, on every /v1 route", async () => {
    const { user, key } = await userWithKey(10);
    const paused = await createCreditKey(user, { name: "paused" });
    expect((await call("PUT", `/api/keys/${paused.id}`, { token: user.token, body: { isActive: false } })).status).toBe(200);
    const other = await createCreditKey(user, { name: "other" });
    const mk = await createManagementKey(user);
    const misChecksummed = key.apiKey.slice(0, -1) + (key.apiKey.endsWith("a") ? "b" : "a");
    const seconds = ["garbage", misChecksummed, mk.apiKey, paused.apiKey, other.apiKey];
    for (const second of seconds) {
      for (const [a, b] of [
        [key.apiKey, second],
        [second, key.apiKey],
      ]) {
        for (const e of ENDPOINTS) {
          const res = await post(e.path, JSON.stringify({ model: e.model, max_tokens: 5, messages: hello }), { authorization: `Bearer ${a}`, "x-api-key": b });
          expect(res.status, res.text).toBe(401);
          expect(e.shape(res.json)).toBe(true);
          expect(res.text).toContain("Authorization");
          expect(res.text).toContain("x-api-key");
          expect(res.text).not.toMatch(KEY_MATERIAL_RE);
        }
        const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${a}`, "x-api-key": b } });
        expect(models.status).toBe(401);
      }
    }
    expect(up.requests).toHaveLength(0);
  });

  it("the same key in both headers is served, and so is either header alone", async () => {
    const { key } = await userWithKey(10);
    const both: Array<Record<string, string>> = [
      { authorization: `Bearer ${key.apiKey}`, "x-api-key": key.apiKey },
      { "x-api-key": key.apiKey },
      { authorization: `Bearer ${key.apiKey}` },
    ];
    for (const headers of both) {
      const res = await post("/v1/chat/completions", JSON.stringify({ model: "gpt-hard", max_tokens: 5, messages: hello }), headers);
      expect(res.status, res.text).toBe(200);
    }
  });
});

const ERROR_PAGES: Array<{ what: string; status: number; contentType: string; body: string; says: RegExp }> = [
  {
    what: "an HTML 502 page from a proxy",
    status: 502,
    contentType: "text/html",
    body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
    says: /502 Bad Gateway/,
  },
  {
    what: "a plain-text 503",
    status: 503,
    contentType: "text/plain",
    body: "upstream connect error or disconnect/reset before headers",
    says: /upstream connect error/,
  },
  { what: "cut JSON with a 500", status: 500, contentType: "application/json", body: '{"error": {"message": "internal', says: /error/ },
  {
    what: "another JSON error shape (vLLM's) with a 400",
    status: 400,
    contentType: "application/json",
    body: '{"object":"error","message":"This model\'s maximum context length is 4096 tokens","type":"BadRequestError","param":null,"code":400}',
    says: /maximum context length is 4096/,
  },
  { what: "an empty 429", status: 429, contentType: "text/plain", body: "", says: /429/ },
];

describe("upstream error answers reach the client in the protocol's shape", () => {
  for (const page of ERROR_PAGES) {
    it(`${page.what} becomes the protocol's error with the upstream's status, readable by both SDKs, and nothing is charged`, async () => {
      const { user, key, openai, anthropic } = await userWithKey(10);
      up.options.raw = { status: page.status, contentType: page.contentType, body: page.body };
      // Each request meets the upstream afresh (a 429 would otherwise cool the only route down, and the next request get 503).
      await resetRouting();
      const viaOpenAI = await openai.chat.completions.create({ model: "gpt-hard", messages: hello, max_tokens: 5 }).then(
        () => null,
        (err: unknown) => err,
      );
      await resetRouting();
      expect(viaOpenAI).toBeInstanceOf(OpenAI.APIError);
      expect((viaOpenAI as InstanceType<typeof OpenAI.APIError>).status).toBe(page.status);
      expect((viaOpenAI as InstanceType<typeof OpenAI.APIError>).message).toMatch(page.says);
      const viaAnthropic = await anthropic.messages.create({ model: "claude-hard", messages: hello, max_tokens: 5 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(viaAnthropic).toBeInstanceOf(Anthropic.APIError);
      expect((viaAnthropic as InstanceType<typeof Anthropic.APIError>).status).toBe(page.status);
      expect((viaAnthropic as InstanceType<typeof Anthropic.APIError>).message).toMatch(page.says);
      for (const e of ENDPOINTS) {
        await resetRouting();
        const res = await post(e.path, JSON.stringify({ model: e.model, max_tokens: 5, messages: hello }), { authorization: `Bearer ${key.apiKey}` });
        expect(res.status).toBe(page.status);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        expect(e.shape(res.json), res.text).toBe(true);
        expect(res.text).not.toContain("<html>");
      }
      const after = await books(user, key);
      // Each one is in the request log with the upstream's status, at no cost.
      expect(after.records.map((r) => [r.status, Number(r.costMicros)])).toEqual(Array(2 + ENDPOINTS.length).fill([page.status, 0]));
      expect(after.spend).toBe(BigInt(0));
      expect(after.pending).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    });
  }

  it("an error already in the protocol's shape is passed on as the upstream sent it", async () => {
    const { key } = await userWithKey(10);
    const body = '{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}';
    up.options.raw = { status: 429, contentType: "application/json", body };
    const res = await post("/v1/chat/completions", JSON.stringify({ model: "gpt-hard", max_tokens: 5, messages: hello }), {
      authorization: `Bearer ${key.apiKey}`,
    });
    expect(res.status).toBe(429);
    expect(res.text).toBe(body);
  });

  it("a 200 whose body is not JSON (a login page, cut JSON) is a 502 upstream_error in the protocol's shape, and nothing is charged", async () => {
    const { user, key } = await userWithKey(10);
    for (const body of ["<html><title>Sign in</title></html>", '{"id":"chatcmpl-1","choices":[{"message":{"content":"hel']) {
      up.options.raw = { status: 200, contentType: "application/json", body };
      for (const e of ENDPOINTS) {
        const res = await post(e.path, JSON.stringify({ model: e.model, max_tokens: 5, messages: hello }), { authorization: `Bearer ${key.apiKey}` });
        expect(res.status, res.text).toBe(502);
        expect(e.shape(res.json), res.text).toBe(true);
      }
    }
    const after = await books(user, key);
    expect(after.records.map((r) => [r.status, Number(r.costMicros)])).toEqual(Array(2 * ENDPOINTS.length).fill([502, 0]));
    expect(after.spend).toBe(BigInt(0));
    expect(after.pending).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
  });

  it("a long page is quoted in a short excerpt: one line, at most 200 characters of it", async () => {
    const { key } = await userWithKey(10);
    up.options.raw = { status: 503, contentType: "text/html", body: `<html><body><p>${"Service Unavailable. ".repeat(500)}</p></body></html>` };
    const res = await post("/v1/chat/completions", JSON.stringify({ model: "gpt-hard", max_tokens: 5, messages: hello }), {
      authorization: `Bearer ${key.apiKey}`,
    });
    expect(res.status).toBe(503);
    const message = String(res.json?.error?.message);
    expect(message).toMatch(/Service Unavailable/);
    expect(message.length).toBeLessThan(400);
    expect(message).not.toContain("\n");
  });
});

describe("POST /api/keys/verify answers any string", () => {
  async function verify(body: string) {
    const res = await fetch(`${gw.url}/api/keys/verify`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, json: await res.json() };
  }

  it("a long string that is not a key (a 500-character session JWT) or an empty one is a 200 with valid:false and malformed_key", async () => {
    const jwt = `eyJhbGciOiJIUzI1NiJ9.${"a".repeat(460)}.${"b".repeat(30)}`;
    for (const key of [jwt, "", "x".repeat(10_000)]) {
      const res = await verify(JSON.stringify({ key }));
      expect(res.status).toBe(200);
      expect(res.json.data).toMatchObject({ valid: false, code: "malformed_key" });
    }
  });

  it("a body over 16 KB is a 413, and one that is not {key: string} is a 400", async () => {
    expect((await verify(JSON.stringify({ key: "x".repeat(17 * 1024) }))).status).toBe(413);
    expect((await verify(JSON.stringify({ key: 5 }))).status).toBe(400);
    expect((await verify(`{"key":${nested(100)}}`)).status).toBe(400);
  });
});
