import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { ADAPTERS, type ProtocolAdapter } from "@/lib/gateway/protocols";
import { KEY_MATERIAL_RE } from "@/lib/keys/format";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { call, createUser, type TestUser } from "./api";
import { createCreditKey, createManagementKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { resetRouting, setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * A probe of every inference endpoint (one per protocol adapter, so a
 * protocol added later is probed too): bad bodies × key kinds, then
 * misbehaving upstreams. Each answer is audited the same way: no 5xx of
 * Keygate's own, the protocol's error shape (by the adapter's own test), no
 * stack trace, no key material; and nothing reaches the upstream or the
 * books that should not.
 */

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;
let user: TestUser;
const keys: Record<string, string | null> = {};

/** A model for each endpoint (of its protocol and the kind of model it serves), priced, so an admitted request would cost something. */
const modelOf = (a: ProtocolAdapter) => `probe-${a.protocol}-${a.modelKind ?? "chat"}`;

/** A request the endpoint would serve. */
function validBody(a: ProtocolAdapter): Record<string, unknown> {
  if (a.modelKind === "embedding") return { model: modelOf(a), input: "hi" };
  if (a.path === "/v1/responses") return { model: modelOf(a), input: "hi", max_output_tokens: 5 };
  return { model: modelOf(a), max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
}

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
  });
  const db = await prisma();
  for (const a of ADAPTERS) {
    const m = {
      model: modelOf(a),
      provider: a.protocol === "responses" ? ("openai" as const) : a.protocol,
      kind: a.modelKind ?? "chat",
      inputMicrosPerMTok: BigInt(1_000_000),
      outputMicrosPerMTok: BigInt(1_000_000),
      maxOutputTokens: 50,
    };
    await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  }
  invalidateCatalogue();
  gw = await startGateway();
  user = await createUser({ creditUsd: 5 });
  const credit = await createCreditKey(user, { name: "probe", rpm: 100_000 });
  const paused = await createCreditKey(user, { name: "paused" });
  expect((await call("PUT", `/api/keys/${paused.id}`, { token: user.token, body: { isActive: false } })).status).toBe(200);
  const deleted = await createCreditKey(user, { name: "deleted" });
  expect((await call("DELETE", `/api/keys/${deleted.id}`, { token: user.token })).status).toBe(200);
  const mk = await createManagementKey(user);
  Object.assign(keys, {
    credit: credit.apiKey,
    paused: paused.apiKey,
    deleted: deleted.apiKey,
    management: mk.apiKey,
    "mis-checksummed": credit.apiKey.slice(0, -2) + (credit.apiKey.endsWith("AA") ? "BB" : "AA"),
    garbage: "not-a-key",
    none: null,
  });
});

afterAll(async () => {
  await gw.close();
  await up.close();
  restoreEnv();
});

const deep = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;

/** Bodies no endpoint can serve, each with the model of the endpoint it is sent to. */
const BAD_BODIES: Array<[string, (model: string) => string]> = [
  ["an empty body", () => ""],
  ["cut JSON", (m) => `{"model":"${m}","messages":[{"role":"user","content":"hi"`],
  ["a JSON array", () => "[]"],
  ["JSON null", () => "null"],
  ["a JSON number", () => "42"],
  ["a JSON string", () => '"hello"'],
  ["an empty object", () => "{}"],
  ["a model that is a number", () => '{"model":5,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'],
  ["no messages", (m) => `{"model":"${m}","max_tokens":5}`],
  ["messages that are a string", (m) => `{"model":"${m}","max_tokens":5,"messages":"hi"}`],
  ["no message at all", (m) => `{"model":"${m}","max_tokens":5,"messages":[]}`],
  ["a negative max_tokens", (m) => `{"model":"${m}","max_tokens":-1,"messages":[{"role":"user","content":"hi"}]}`],
  ["a zero max_tokens", (m) => `{"model":"${m}","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`],
  ["a fractional max_tokens", (m) => `{"model":"${m}","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}`],
  ["a max_tokens in a string", (m) => `{"model":"${m}","max_tokens":"10","messages":[{"role":"user","content":"hi"}]}`],
  ["an infinite max_tokens", (m) => `{"model":"${m}","max_tokens":1e999,"messages":[{"role":"user","content":"hi"}]}`],
  ["an unknown model", () => '{"model":"no-such-model","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'],
  ["65 levels of nesting", (m) => `{"model":"${m}","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"x":${deep(64)}}`],
  ["100,000 levels of nesting", (m) => `{"model":"${m}","max_tokens":5,"messages":[{"role":"user","content":${deep(100_000)}}]}`],
  ["a 5 MB body", (m) => `{"model":"${m}","max_tokens":5,"messages":[{"role":"user","content":"${"a".repeat(5 * 1024 * 1024)}"}]}`],
];

const STACK_TRACE = /\n\s+at |node_modules|\.tsx?:\d+|\.m?js:\d+/;

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

async function send(adapter: ProtocolAdapter, body: string, key: string | null): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${gw.url}${adapter.path}`, { method: "POST", headers, body });
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
}

/** The audit every probe's answer passes: an error of the protocol's own shape, no stack trace, no key material. */
function audit(adapter: ProtocolAdapter, what: string, a: Answer, statuses: { min: number; max: number }): void {
  expect(a.status, `${what}: ${a.text.slice(0, 200)}`).toBeGreaterThanOrEqual(statuses.min);
  expect(a.status, `${what}: ${a.text.slice(0, 200)}`).toBeLessThanOrEqual(statuses.max);
  expect(a.contentType, what).toMatch(/^application\/json/);
  let json: unknown;
  expect(() => (json = JSON.parse(a.text)), `${what}: not JSON: ${a.text.slice(0, 200)}`).not.toThrow();
  expect(adapter.isErrorBody(json), `${what}: not ${adapter.label}'s error shape: ${a.text.slice(0, 200)}`).toBe(true);
  expect(a.text, what).not.toMatch(STACK_TRACE);
  expect(a.text, what).not.toMatch(KEY_MATERIAL_RE);
}

async function books() {
  await flushUsage();
  const db = await prisma();
  const [row, records, charged] = await Promise.all([
    db.user.findUniqueOrThrow({ where: { id: user.id }, select: { balanceMicros: true } }),
    db.usageRecord.count({ where: { userId: user.id } }),
    db.usageRecord.aggregate({ where: { userId: user.id }, _sum: { costMicros: true } }),
  ]);
  return { balance: row.balanceMicros, records, charged: charged._sum.costMicros ?? BigInt(0) };
}

describe("probe: bad bodies × key kinds on every inference endpoint", () => {
  for (const adapter of ADAPTERS) {
    it(`${adapter.path}: every bad body, with every kind of key, gets a 4xx in ${adapter.label}'s error shape, reaches no upstream and charges nothing`, async () => {
      const before = await books();
      up.reset();
      for (const [what, body] of BAD_BODIES) {
        for (const [kind, key] of Object.entries(keys)) {
          audit(adapter, `${what} with a ${kind} key`, await send(adapter, body(modelOf(adapter)), key), { min: 400, max: 499 });
        }
      }
      expect(up.requests).toHaveLength(0);
      expect(await books()).toEqual(before);
    });
  }
});

/** Upstream faults: the answer keeps the protocol's shape (the upstream's status may be a 5xx: it is the upstream's, passed on). */
const UPSTREAM_FAULTS: Array<[string, Partial<FakeUpstream["options"]>]> = [
  ["an HTML 502 page", { raw: { status: 502, contentType: "text/html", body: "<html><title>502 Bad Gateway</title></html>" } }],
  ["a plain-text 500", { raw: { status: 500, contentType: "text/plain", body: "Internal Server Error" } }],
  ["a 200 HTML page", { raw: { status: 200, contentType: "text/html", body: "<!doctype html><title>Sign in</title>" } }],
  ["a 200 with cut JSON", { raw: { status: 200, contentType: "application/json", body: '{"id":"x","choices":[' } }],
  ["an empty 404", { raw: { status: 404, contentType: "text/plain", body: "" } }],
  ["a redirect", { raw: { status: 302, contentType: "text/html", body: "<a href='/login'>Found</a>" } }],
  ["the protocol's own 429", { status: 429 }],
];

describe("probe: misbehaving upstreams on every inference endpoint", () => {
  for (const adapter of ADAPTERS) {
    it(`${adapter.path}: each upstream fault reaches the client in ${adapter.label}'s error shape, with no stack trace or key, and charges nothing`, async () => {
      const before = await books();
      const body = JSON.stringify(validBody(adapter));
      try {
        for (const [what, fault] of UPSTREAM_FAULTS) {
          Object.assign(up.options, { raw: undefined, status: undefined }, fault);
          await resetRouting();
          audit(adapter, what, await send(adapter, body, keys.credit), { min: 400, max: 599 });
        }
      } finally {
        Object.assign(up.options, { raw: undefined, status: undefined });
      }
      // Each fault is a row of the request log (its status, at no cost); nothing is charged.
      expect(await books()).toEqual({ ...before, records: before.records + UPSTREAM_FAULTS.length });
    });
  }
});
