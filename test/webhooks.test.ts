import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { isPrivateAddress, setWebhookLookupForTests } from "@/lib/webhooks/address";
import { enqueueEvent, recordBudgetThresholds, recordLowBalance, sweepExpiringSubscriptions } from "@/lib/webhooks/events";
import { MAX_ATTEMPTS, RETRY_DELAYS_MS, runDeliveries, type Clock } from "@/lib/webhooks/worker";
import { write } from "@/lib/writes/unit";
import { call, createUser, expectError, grant, type TestUser } from "./api";
import { createCreditKey, dumpAllTables, expectFieldError, insertSubscription } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Alerts by webhook: the API (secret once, never listed, owner-scoped), the
 * Standard Webhooks signatures, the retry schedule on a fake clock, workers
 * that never deliver one event twice at once, each event fired once, and the
 * SSRF rules at creation and at delivery. Receivers listen on 127.0.0.1, so
 * KEYGATE_WEBHOOKS_ALLOW_PRIVATE=1 is set except where a test proves the
 * refusal without it.
 */

interface Received {
  headers: Record<string, string>;
  body: string;
}

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** The status to answer with (503: "down"); a delay before answering. */
  status: number;
  delayMs: number;
  /** The most requests with one webhook-id in flight at once. */
  maxConcurrentPerId: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const inFlight = new Map<string, number>();
  const r: Receiver = {
    url: "",
    port: 0,
    received: [],
    status: 200,
    delayMs: 0,
    maxConcurrentPerId: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"]);
      const n = (inFlight.get(id) ?? 0) + 1;
      inFlight.set(id, n);
      r.maxConcurrentPerId = Math.max(r.maxConcurrentPerId, n);
      r.received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
      setTimeout(() => {
        inFlight.set(id, inFlight.get(id)! - 1);
        res.writeHead(r.status).end("ok");
      }, r.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

let receiver: Receiver;
let restoreEnv: () => void;

beforeAll(async () => {
  receiver = await startReceiver();
  restoreEnv = setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
});

afterAll(async () => {
  await receiver.close();
  restoreEnv();
});

afterEach(async () => {
  setWebhookLookupForTests(null);
  setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
  receiver.status = 200;
  receiver.delayMs = 0;
  // No test leaves deliveries due for the next one's worker rounds.
  await (await prisma()).webhookDelivery.deleteMany({});
});

async function addWebhook(user: TestUser, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/webhooks", {
    token: user.token,
    body: { url: receiver.url, events: ["key.budget.threshold", "account.balance.low", "subscription.expiring"], ...body },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.data as { id: string; url: string; events: string[]; secret: string; createdAt: string };
}

async function deliveries(user: TestUser, webhookId: string) {
  const res = await call("GET", `/api/webhooks/${webhookId}/deliveries`, { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.json.data.deliveries as Array<{
    id: string;
    type: string;
    status: string;
    attempts: number;
    lastStatusCode: number | null;
    nextAttemptAt: string | null;
    createdAt: string;
  }>;
}

async function outbox(webhookId: string) {
  return (await prisma()).webhookDelivery.findMany({ where: { webhookId }, orderBy: { createdAt: "asc" } });
}

/** An event in the outbox, written by a committed unit of work as the real causes write theirs. */
async function emit(
  userId: string,
  type: "key.budget.threshold" | "account.balance.low" | "subscription.expiring",
  at: Date,
  data: Record<string, unknown> = {},
) {
  await write(systemActor("test"), (tx) => enqueueEvent(tx, userId, type, data, at));
}

const fixedClock = (t: number): Clock => ({ now: () => new Date(t) });

describe("the webhooks API", () => {
  it("returns the signing secret (whsec_ + base64 of 32 bytes) on creation only: never in the list, never in plaintext in any table", async () => {
    const user = await createUser();
    const hook = await addWebhook(user, { events: ["account.balance.low"] });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(hook.secret.slice(6), "base64")).toHaveLength(32);
    const list = await call("GET", "/api/webhooks", { token: user.token });
    expect(list.status, list.text).toBe(200);
    expect(list.json.data).toEqual([{ id: hook.id, url: receiver.url, events: ["account.balance.low"], createdAt: hook.createdAt }]);
    expect(list.text).not.toContain(hook.secret.slice(6, 30));
    const dump = JSON.stringify(await dumpAllTables());
    expect(dump).not.toContain(hook.secret.slice(6, 30));
    expect(dump).not.toContain(Buffer.from(hook.secret.slice(6), "base64").toString("hex").slice(0, 24));
  });

  it("refuses bad input with 400 naming the field, and another account's webhook is a 404 on every operation", async () => {
    const owner = await createUser();
    const other = await createUser();
    const hook = await addWebhook(owner);
    expectFieldError(await call("POST", "/api/webhooks", { token: owner.token, body: { url: "ftp://example.com/x", events: ["account.balance.low"] } }), "url");
    expectFieldError(await call("POST", "/api/webhooks", { token: owner.token, body: { url: "not a url", events: ["account.balance.low"] } }), "url");
    expectFieldError(await call("POST", "/api/webhooks", { token: owner.token, body: { url: receiver.url, events: ["key.deleted"] } }), "events");
    expectFieldError(await call("POST", "/api/webhooks", { token: owner.token, body: { url: receiver.url, events: [] } }), "events");
    expectError(await call("DELETE", `/api/webhooks/${hook.id}`, { token: other.token }), 404, "not_found");
    expectError(await call("GET", `/api/webhooks/${hook.id}/deliveries`, { token: other.token }), 404, "not_found");
    expectError(await call("POST", `/api/webhooks/${hook.id}/test`, { token: other.token }), 404, "not_found");
    expect((await call("GET", "/api/webhooks", { token: other.token })).json.data).toEqual([]);
    const del = await call("DELETE", `/api/webhooks/${hook.id}`, { token: owner.token });
    expect(del.status, del.text).toBe(200);
    expect((await call("GET", "/api/webhooks", { token: owner.token })).json.data).toEqual([]);
  });

  it("PUT /api/account sets lowBalanceUsd (default 1), which GET /api/account shows", async () => {
    const user = await createUser();
    expect((await call("GET", "/api/account", { token: user.token })).json.data.lowBalanceUsd).toBe(1);
    const put = await call("PUT", "/api/account", { token: user.token, body: { lowBalanceUsd: 7.5 } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.data.lowBalanceUsd).toBe(7.5);
    expect((await call("GET", "/api/account", { token: user.token })).json.data.lowBalanceUsd).toBe(7.5);
    expectFieldError(await call("PUT", "/api/account", { token: user.token, body: { lowBalanceUsd: -1 } }), "lowBalanceUsd");
  });
});

describe("deliveries", () => {
  it("are signed so that standardwebhooks' Webhook.verify accepts them, with the body {type, timestamp, data}; a changed body is rejected", async () => {
    const user = await createUser();
    const hook = await addWebhook(user);
    const before = receiver.received.length;
    const res = await call("POST", `/api/webhooks/${hook.id}/test`, { token: user.token });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toMatchObject({ type: "webhook.test", status: "delivered", attempts: 1, lastStatusCode: 200, nextAttemptAt: null });
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    const { headers, body } = got[0];
    expect(headers["webhook-id"]).toBe(res.json.data.id);
    const verified = new Webhook(hook.secret).verify(body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(verified).toEqual({ type: "webhook.test", timestamp: res.json.data.createdAt, data: { webhookId: hook.id, message: expect.any(String) } });
    expect(() => new Webhook(hook.secret).verify(body.replace("webhook.test", "webhook.tesT"), headers)).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(body, headers)).toThrow();
    const log = await deliveries(user, hook.id);
    expect(log).toEqual([expect.objectContaining({ id: res.json.data.id, status: "delivered", attempts: 1, lastStatusCode: 200 })]);
  });

  it("reach a receiver that was down, later, on the schedule 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the last failure they are failed", async () => {
    const user = await createUser();
    const hook = await addWebhook(user);
    const t0 = Date.now();
    await emit(user.id, "account.balance.low", new Date(t0), { balanceUsd: 0.5, thresholdUsd: 1 });
    receiver.status = 503;
    let t = t0;
    const received = () => receiver.received.filter((r) => r.headers["webhook-id"] === ids[0]).length;
    const ids = (await outbox(hook.id)).map((d) => d.id);
    expect(ids).toHaveLength(1);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect(await runDeliveries(fixedClock(t))).toBe(1);
      const [d] = await outbox(hook.id);
      expect(d.attempts).toBe(attempt);
      expect(d.lastStatusCode).toBe(503);
      if (attempt === MAX_ATTEMPTS) {
        expect(d.status).toBe("failed");
        expect(d.nextAttemptAt).toBeNull();
        break;
      }
      const delay = RETRY_DELAYS_MS[attempt - 1];
      expect(d.status).toBe("pending");
      expect(d.nextAttemptAt!.getTime()).toBe(t + delay);
      // Not a moment early.
      expect(await runDeliveries(fixedClock(t + delay - 1))).toBe(0);
      t += delay;
    }
    expect(received()).toBe(MAX_ATTEMPTS);
    expect(t - t0).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(await runDeliveries(fixedClock(t + 365 * 24 * 3600_000))).toBe(0);
  });

  it("are delivered once the receiver is back, every attempt with the same webhook-id, and the log shows it", async () => {
    const user = await createUser();
    const hook = await addWebhook(user);
    const t0 = Date.now();
    await emit(user.id, "account.balance.low", new Date(t0), { balanceUsd: 0.5, thresholdUsd: 1 });
    receiver.status = 500;
    await runDeliveries(fixedClock(t0));
    await runDeliveries(fixedClock(t0 + 5_000));
    let [log] = await deliveries(user, hook.id);
    expect(log).toMatchObject({ status: "pending", attempts: 2, lastStatusCode: 500, nextAttemptAt: new Date(t0 + 5_000 + 300_000).toISOString() });
    receiver.status = 204;
    await runDeliveries(fixedClock(t0 + 5_000 + 300_000));
    [log] = await deliveries(user, hook.id);
    expect(log).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 204, nextAttemptAt: null });
    const ids = receiver.received.filter((r) => r.headers["webhook-id"] === log.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids.map((r) => r.body)).size).toBe(1);
  });

  it("never follow a redirect (a 3xx is a failed attempt), and a receiver slower than 5 s is a failed attempt", async () => {
    const user = await createUser();
    const hook = await addWebhook(user);
    const target = await startReceiver();
    try {
      const redirecting = http.createServer((_req, res) => res.writeHead(307, { location: target.url }).end());
      await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
      const moved = await addWebhook(user, { url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/old` });
      const res = await call("POST", `/api/webhooks/${moved.id}/test`, { token: user.token });
      expect(res.json.data).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: 307 });
      expect(target.received).toHaveLength(0);
      redirecting.closeAllConnections();
      redirecting.close();
    } finally {
      await target.close();
    }
    receiver.delayMs = 5_500;
    const started = Date.now();
    const slow = await call("POST", `/api/webhooks/${hook.id}/test`, { token: user.token });
    expect(Date.now() - started).toBeLessThan(5_400);
    expect(slow.json.data).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: null });
  });

  it("are never sent twice at once, nor twice in all, by workers running at the same time", async () => {
    const user = await createUser();
    const hook = await addWebhook(user);
    const now = Date.now();
    for (let i = 0; i < 30; i++) await emit(user.id, "account.balance.low", new Date(now), { i });
    const ids = new Set((await outbox(hook.id)).map((d) => d.id));
    receiver.delayMs = 50;
    receiver.maxConcurrentPerId = 0;
    const before = receiver.received.length;
    const counts = await Promise.all([0, 1, 2, 3].map(() => runDeliveries(fixedClock(now))));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    const got = receiver.received.slice(before).map((r) => r.headers["webhook-id"]);
    expect(got.sort()).toEqual([...ids].sort());
    expect(receiver.maxConcurrentPerId).toBe(1);
    expect((await outbox(hook.id)).every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
  });

  // Two processes need a database server: PGlite is one process.
  it.skipIf(!process.env.DATABASE_URL)(
    "are never sent twice, nor twice at once, by two worker processes sharing the database",
    async () => {
      const user = await createUser();
      const hook = await addWebhook(user);
      const now = Date.now();
      for (let i = 0; i < 120; i++) await emit(user.id, "account.balance.low", new Date(now), { i });
      const ids = new Set((await outbox(hook.id)).map((d) => d.id));
      // More than one claim (50 at most) holds, so both processes get some.
      receiver.delayMs = 20;
      receiver.maxConcurrentPerId = 0;
      const before = receiver.received.length;
      const startAt = String(Date.now() + 4_000);
      const run = () =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(process.execPath, ["--import", "tsx", "test/webhook-worker.ts"], {
            env: { ...process.env, START_AT: startAt, LOG_LEVEL: "warn" },
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
          child.once("exit", (code) => {
            const m = /attempted (\d+)/.exec(out);
            if (code === 0 && m) resolve(Number(m[1]));
            else reject(new Error(`worker exited (${code}): ${out}`));
          });
        });
      const counts = await Promise.all([run(), run()]);
      expect(counts[0] + counts[1]).toBe(120);
      // Both took part: the claims really raced.
      expect(Math.min(...counts)).toBeGreaterThan(0);
      const got = receiver.received.slice(before).map((r) => r.headers["webhook-id"]);
      expect(got.sort()).toEqual([...ids].sort());
      expect(receiver.maxConcurrentPerId).toBe(1);
    },
    60_000,
  );

  it("go only to the webhooks of the event's account that subscribe to its type, and stop with a deleted webhook", async () => {
    const user = await createUser();
    const other = await createUser();
    const budgetOnly = await addWebhook(user, { events: ["key.budget.threshold"] });
    const lowOnly = await addWebhook(user, { events: ["account.balance.low"] });
    const othersHook = await addWebhook(other);
    await emit(user.id, "account.balance.low", new Date());
    expect(await outbox(budgetOnly.id)).toHaveLength(0);
    expect(await outbox(lowOnly.id)).toHaveLength(1);
    expect(await outbox(othersHook.id)).toHaveLength(0);
    await call("DELETE", `/api/webhooks/${lowOnly.id}`, { token: user.token });
    expect(await outbox(lowOnly.id)).toHaveLength(0);
  });
});

describe("events fire once", () => {
  it("key.budget.threshold: 50, 80 and 100 once each per key and period, however many flushes cross them at once", async () => {
    const user = await createUser({ creditUsd: 5 });
    const hook = await addWebhook(user, { events: ["key.budget.threshold"] });
    const key = await createCreditKey(user, { maxBudget: 1 });
    const db = await prisma();
    // Twelve flushes of $0.10 at once, each as the usage writer does it: move the spend, then look for thresholds, in one transaction.
    await Promise.all(
      Array.from({ length: 12 }, () =>
        db.$transaction(async (tx) => {
          await tx.apiKey.updateMany({ where: { id: key.id }, data: { spendMicros: { increment: BigInt(100_000) } } });
          await recordBudgetThresholds(tx, [key.id], new Date());
        }),
      ),
    );
    const events = (await outbox(hook.id)).map((d) => d.payload as Record<string, unknown>);
    expect(events.map((e) => e.threshold).sort()).toEqual([100, 50, 80]);
    for (const e of events) {
      expect(e).toMatchObject({ keyId: key.id, keyName: "test-key", maxBudgetUsd: 1, periodStart: null });
      expect(e.spendUsd as number).toBeGreaterThanOrEqual((e.threshold as number) / 100);
    }
    // Further flushes in the same period fire nothing more.
    await db.$transaction(async (tx) => {
      await tx.apiKey.updateMany({ where: { id: key.id }, data: { spendMicros: { increment: BigInt(100_000) } } });
      await recordBudgetThresholds(tx, [key.id], new Date());
    });
    expect(await outbox(hook.id)).toHaveLength(3);
  });

  it("key.budget.threshold with a budget period: counts the period's spend, and fires afresh in the next period", async () => {
    const user = await createUser({ creditUsd: 5 });
    const hook = await addWebhook(user, { events: ["key.budget.threshold"] });
    const key = await createCreditKey(user, { maxBudget: 1, budgetPeriod: "day" });
    const db = await prisma();
    const dayOne = new Date("2027-03-01T00:00:00.000Z");
    const dayTwo = new Date("2027-03-02T00:00:00.000Z");
    // As the usage writer records a period's spend: lifetime and period figures move together; a newer period starts from zero.
    const flush = (periodStart: Date, micros: number, periodSpend: number) =>
      db.$transaction(async (tx) => {
        await tx.apiKey.update({
          where: { id: key.id },
          data: { spendMicros: { increment: BigInt(micros) }, periodStart, periodSpendMicros: BigInt(periodSpend) },
        });
        await recordBudgetThresholds(tx, [key.id], new Date(periodStart.getTime() + 3_600_000));
      });
    await flush(dayOne, 600_000, 600_000);
    // The next day's first $0.30 is 30 % of that day's budget: nothing, although the lifetime spend is 90 %.
    await flush(dayTwo, 300_000, 300_000);
    await flush(dayTwo, 300_000, 600_000);
    const events = (await outbox(hook.id)).map((d) => d.payload as Record<string, unknown>);
    expect(events.map((e) => [e.threshold, e.periodStart, e.spendUsd])).toEqual([
      [50, dayOne.toISOString(), 0.6],
      [50, dayTwo.toISOString(), 0.6],
    ]);
  });

  it("account.balance.low: once per crossing under concurrent debits, and again after a top-up and a new crossing", async () => {
    const user = await createUser({ creditUsd: 2 });
    const hook = await addWebhook(user, { events: ["account.balance.low"] });
    const db = await prisma();
    const debit = (micros: number) =>
      db.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { balanceMicros: { decrement: BigInt(micros) } } });
        await recordLowBalance(tx, [{ userId: user.id, micros: BigInt(micros) }], new Date());
      });
    await Promise.all(Array.from({ length: 6 }, () => debit(300_000))); // $2.00 → $0.20, crossing $1 once
    let events = (await outbox(hook.id)).map((d) => d.payload as Record<string, unknown>);
    expect(events).toHaveLength(1);
    expect(events[0].thresholdUsd).toBe(1);
    expect(events[0].balanceUsd as number).toBeLessThan(1);
    await debit(100_000); // still below: no new crossing
    expect(await outbox(hook.id)).toHaveLength(1);
    await grant(user.email, 5); // back above
    await Promise.all(Array.from({ length: 5 }, () => debit(1_000_000)));
    events = (await outbox(hook.id)).map((d) => d.payload as Record<string, unknown>);
    expect(events).toHaveLength(2);
  });

  it("subscription.expiring: once per subscription period, 24 h before a period ends without auto-renewal, whichever sweep sees it", async () => {
    const user = await createUser();
    const hook = await addWebhook(user, { events: ["subscription.expiring"] });
    const now = Date.now();
    const ending = await insertSubscription(user, { periodEnd: new Date(now + 23 * 3600_000) });
    await insertSubscription(user, { periodEnd: new Date(now + 25 * 3600_000) });
    const renewing = await insertSubscription(user, { periodEnd: new Date(now + 3600_000) });
    await (await prisma()).subscription.update({ where: { id: renewing.id }, data: { autoRenew: true } });
    await Promise.all([0, 1, 2].map(() => sweepExpiringSubscriptions(new Date(now))));
    // A later sweep (the other one still more than 24 h from its end) fires nothing more.
    await sweepExpiringSubscriptions(new Date(now + 1800_000));
    const events = (await outbox(hook.id)).map((d) => d.payload as Record<string, unknown>);
    expect(events).toEqual([expect.objectContaining({ subscriptionId: ending.id, periodEnd: ending.periodEnd.toISOString(), autoRenew: false })]);
  });

  it("through the gateway: a flush that moves a key's spend past 50 % and the balance below the threshold writes both events; a budget_exceeded refusal fires 100 % once", async () => {
    const up: FakeUpstream = await startFakeUpstream();
    const restore = setEnv({ OPENAI_BASE_URL: up.openaiBaseUrl, OPENAI_API_KEY: "upstream-secret", KEYGATE_DEMO_UPSTREAM: "off" });
    let gw: TestGateway | undefined;
    try {
      const db = await prisma();
      const model = `wh-model-${Date.now()}`;
      // 100 micro-dollars per output token.
      await db.model.create({
        data: { model, provider: "openai", inputMicrosPerMTok: BigInt(0), outputMicrosPerMTok: BigInt(100_000_000), maxOutputTokens: 100 },
      });
      invalidateCatalogue();
      gw = await startGateway();
      up.options.outputTokens = 60;
      const user = await createUser({ creditUsd: 1.005 });
      const hook = await addWebhook(user, { events: ["key.budget.threshold", "account.balance.low"] });
      const key = await createCreditKey(user, { maxBudget: 0.01 });
      await gw.openai(key.apiKey).chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 60 });
      await flushUsage();
      const types = (await outbox(hook.id)).map((d) => `${d.type}:${(d.payload as { threshold?: number }).threshold ?? ""}`).sort();
      expect(types).toEqual(["account.balance.low:", "key.budget.threshold:50"]);

      // 60 % spent: a request reserving 60 % more is refused (budget_exceeded), short of 100 % of spend: the 100 % alert fires once, at that refusal.
      const openai = gw.openai(key.apiKey);
      for (let i = 0; i < 2; i++) {
        await expect(openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 60 })).rejects.toMatchObject({
          status: 402,
          code: "budget_exceeded",
        });
        await flushUsage();
      }
      const budget = (await outbox(hook.id)).filter((d) => d.type === "key.budget.threshold").map((d) => d.payload as Record<string, unknown>);
      expect(budget.map((e) => [e.threshold, e.spendUsd])).toEqual([
        [50, 0.006],
        [100, 0.006],
      ]);
    } finally {
      await gw?.close();
      await up.close();
      restore();
      setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
    }
  });
});

describe("private, loopback and link-local targets", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["192.168.1.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["::1", true],
    ["::", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["::ffff:169.254.169.254", true],
    ["64:ff9b::a00:1", true],
    ["fe80::1", true],
    ["fd12:3456::1", true],
    ["93.184.216.34", false],
    ["172.32.0.1", false],
    ["2606:4700::1111", false],
    ["::ffff:93.184.216.34", false],
  ])("%s is private: %s", (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });

  it("are refused at creation (400 naming url) unless KEYGATE_WEBHOOKS_ALLOW_PRIVATE=1, including a name that resolves to one", async () => {
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: undefined });
    setWebhookLookupForTests(async (host) => [{ address: host === "rebind.test" ? "127.0.0.1" : "93.184.216.34", family: 4 }]);
    const user = await createUser();
    for (const url of [
      "http://127.0.0.1:9/hook",
      "http://127.1/hook",
      "http://2130706433/hook",
      "http://[::]/hook",
      "http://localhost/hook",
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.5/hook",
      "http://0.0.0.0/hook",
      "http://[fe80::1]/hook",
      "https://rebind.test/hook",
    ]) {
      expectFieldError(await call("POST", "/api/webhooks", { token: user.token, body: { url, events: ["account.balance.low"] } }), "url");
    }
    const ok = await call("POST", "/api/webhooks", { token: user.token, body: { url: "https://hooks.example.com/keygate", events: ["account.balance.low"] } });
    expect(ok.status, ok.text).toBe(201);
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
    const allowed = await call("POST", "/api/webhooks", { token: user.token, body: { url: "http://127.0.0.1:9/hook", events: ["account.balance.low"] } });
    expect(allowed.status, allowed.text).toBe(201);
  });

  it("are refused at delivery after DNS resolution (a name that now resolves to 127.0.0.1, or a literal address), and nothing reaches them", async () => {
    const user = await createUser();
    let resolveTo = "93.184.216.34";
    setWebhookLookupForTests(async () => [{ address: resolveTo, family: 4 }]);
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: undefined });
    // Public when created…
    const byName = await addWebhook(user, { url: `http://rebind.test:${receiver.port}/hook` });
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
    const literal = await addWebhook(user);
    // …then the name is rebound to the loopback address, and the server no longer allows private targets.
    resolveTo = "127.0.0.1";
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: undefined });
    const before = receiver.received.length;
    for (const hook of [byName, literal]) {
      const res = await call("POST", `/api/webhooks/${hook.id}/test`, { token: user.token });
      expect(res.status, res.text).toBe(201);
      expect(res.json.data).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: null });
    }
    expect(receiver.received.length).toBe(before);
    // The same delivery, with private targets allowed: the checked address (the receiver on 127.0.0.1) is where it goes.
    setEnv({ KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
    expect(await runDeliveries(fixedClock(Date.now() + 5_000))).toBe(2);
    expect(receiver.received.length).toBe(before + 2);
    const [log] = await deliveries(user, byName.id);
    expect(log).toMatchObject({ status: "delivered", attempts: 2, lastStatusCode: 200 });
  });
});
