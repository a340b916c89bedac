import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { seedStore } from "@/lib/gateway/admission";
import { toApiKeyView } from "@/lib/keys/service";
import { limits } from "@/lib/limits";
import { budgetPeriodEnd, budgetPeriodStart, keyPeriodStart, type BudgetPeriod } from "@/lib/limits/periods";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { decodeUsage, encodeUsage, flushUsage, newUsageId, type UsageEntry } from "@/lib/usage/writer";
import { call, createUser, type TestUser } from "./api";
import { createCreditKey, expectFieldError } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * Budget periods on credit keys (PRODUCT.md, "Budget periods"): calendar
 * periods in UTC, computed from the time alone, so the reset is a property of
 * the period and never a job; the API's budgetPeriod and budgetResetsAt; the
 * period's spend kept in the database by the usage writer (a late record of
 * a past period never lands in the current one); seeding from it; and the
 * whole path through the real gateway. The limits store's side (memory, and
 * two instances on one Redis) is test/budget-periods-store.test.ts.
 */

const utc = (iso: string) => new Date(iso).getTime();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("calendar periods in UTC (lib/limits/periods.ts)", () => {
  it("a day runs from midnight to midnight UTC: the last millisecond belongs to it, the next one to the next day", () => {
    expect(iso(budgetPeriodStart("day", utc("2027-03-14T23:59:59.999Z")))).toBe("2027-03-14T00:00:00.000Z");
    expect(iso(budgetPeriodEnd("day", utc("2027-03-14T23:59:59.999Z")))).toBe("2027-03-15T00:00:00.000Z");
    expect(iso(budgetPeriodStart("day", utc("2027-03-15T00:00:00.000Z")))).toBe("2027-03-15T00:00:00.000Z");
    // No local time zone or daylight-saving change moves it (14 March 2027 is a US DST day).
    expect(budgetPeriodEnd("day", utc("2027-03-14T12:00:00Z"))! - budgetPeriodStart("day", utc("2027-03-14T12:00:00Z"))).toBe(86_400_000);
  });

  it("a week starts on Monday 00:00 UTC: Sunday 23:59:59.999 is the old week, and a week may straddle a month and a year", () => {
    // Sunday 3 January 2027 is in the week of Monday 28 December 2026.
    expect(iso(budgetPeriodStart("week", utc("2027-01-03T23:59:59.999Z")))).toBe("2026-12-28T00:00:00.000Z");
    expect(iso(budgetPeriodEnd("week", utc("2027-01-03T23:59:59.999Z")))).toBe("2027-01-04T00:00:00.000Z");
    expect(iso(budgetPeriodStart("week", utc("2027-01-04T00:00:00.000Z")))).toBe("2027-01-04T00:00:00.000Z");
    // A Monday itself, and a Wednesday.
    expect(iso(budgetPeriodStart("week", utc("2026-12-07T09:00:00Z")))).toBe("2026-12-07T00:00:00.000Z");
    expect(iso(budgetPeriodStart("week", utc("2026-12-09T09:00:00Z")))).toBe("2026-12-07T00:00:00.000Z");
  });

  it("a month starts on the 1st 00:00 UTC and lasts its own length: 28 days in February 2027, 29 in February 2028, 31 in January", () => {
    const lengthDays = (at: string) => (budgetPeriodEnd("month", utc(at))! - budgetPeriodStart("month", utc(at))) / 86_400_000;
    expect(iso(budgetPeriodStart("month", utc("2027-02-28T23:59:59.999Z")))).toBe("2027-02-01T00:00:00.000Z");
    expect(iso(budgetPeriodEnd("month", utc("2027-02-28T23:59:59.999Z")))).toBe("2027-03-01T00:00:00.000Z");
    expect(iso(budgetPeriodStart("month", utc("2027-03-01T00:00:00.000Z")))).toBe("2027-03-01T00:00:00.000Z");
    expect(lengthDays("2027-02-10T00:00:00Z")).toBe(28);
    expect(lengthDays("2028-02-10T00:00:00Z")).toBe(29);
    expect(lengthDays("2027-01-31T23:59:59.999Z")).toBe(31);
    expect(iso(budgetPeriodEnd("month", utc("2026-12-31T23:59:59.999Z")))).toBe("2027-01-01T00:00:00.000Z");
  });

  it("no period means a lifetime budget: start 0, no end", () => {
    expect(budgetPeriodStart(null, Date.now())).toBe(0);
    expect(budgetPeriodEnd(null, Date.now())).toBeNull();
  });

  it("a key's period counts from when its period was set, if that is later than the calendar start", () => {
    const setAt = utc("2027-02-10T15:30:00Z");
    expect(keyPeriodStart({ budgetPeriod: "month", budgetPeriodSetAt: setAt }, utc("2027-02-20T00:00:00Z"))).toBe(setAt);
    expect(iso(keyPeriodStart({ budgetPeriod: "month", budgetPeriodSetAt: setAt }, utc("2027-03-02T00:00:00Z")))).toBe("2027-03-01T00:00:00.000Z");
    expect(keyPeriodStart({ budgetPeriod: null, budgetPeriodSetAt: null }, setAt)).toBe(0);
  });
});

describe("budgetPeriod in the keys API", () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser({ creditUsd: 10 });
  });

  it("refuses a budgetPeriod other than day, week, month or null with 400 naming the field, on create and on update", async () => {
    for (const bad of ["year", "monthly", 30, true, ""]) {
      expectFieldError(await call("POST", "/api/keys/credit", { token: user.token, body: { name: "bad", budgetPeriod: bad } }), "budgetPeriod");
    }
    const key = await createCreditKey(user);
    expectFieldError(await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: "Month" } }), "budgetPeriod");
  });

  it("creates a key with a monthly budget: the view shows budgetPeriod, budgetResetsAt (the next 1st, 00:00 UTC) and the period's spend; a lifetime key shows nulls", async () => {
    const before = Date.now();
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "monthly", maxBudget: 5, budgetPeriod: "month" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toMatchObject({ maxBudget: 5, spend: 0, budgetPeriod: "month", budgetResetsAt: iso(budgetPeriodEnd("month", before)) });
    const lifetime = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "lifetime", maxBudget: 5, budgetPeriod: null } });
    expect(lifetime.json.data).toMatchObject({ budgetPeriod: null, budgetResetsAt: null });
    const listed = await call("GET", "/api/keys", { token: user.token });
    expect(listed.json.data.find((k: { id: string }) => k.id === res.json.data.id)).toMatchObject({ budgetPeriod: "month" });
  });

  it("switching the period starts a new period at the switch, the same period sent again changes nothing, and null makes it a lifetime budget again", async () => {
    const key = await createCreditKey(user, { maxBudget: 1, budgetPeriod: "day" });
    const db = await prisma();
    const setAt = (await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).budgetPeriodSetAt;
    expect(setAt).not.toBeNull();
    const same = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: "day" } });
    expect(same.status, same.text).toBe(200);
    expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).budgetPeriodSetAt).toEqual(setAt);
    const weekly = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: "week" } });
    expect(weekly.json.data).toMatchObject({ budgetPeriod: "week", budgetResetsAt: iso(budgetPeriodEnd("week", Date.now())) });
    expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).budgetPeriodSetAt!.getTime()).toBeGreaterThan(setAt!.getTime() - 1);
    const cleared = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: null } });
    expect(cleared.json.data).toMatchObject({ budgetPeriod: null, budgetResetsAt: null });
    expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).budgetPeriodSetAt).toBeNull();
  });

  it("a subscription key takes no budgetPeriod (422 not_applicable)", async () => {
    const { insertSubscriptionKey } = await import("./fixtures");
    const sub = await insertSubscriptionKey(user);
    const res = await call("PUT", `/api/keys/${sub.id}`, { token: user.token, body: { budgetPeriod: "day" } });
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("not_applicable");
  });
});

describe("a key's view: the current period's spend, computed from the time (no job resets it)", () => {
  it("shows the stored period's spend while it is current, zero from the first millisecond of the next period, and budgetResetsAt at the period's end", async () => {
    const user = await createUser({ creditUsd: 1 });
    const key = await createCreditKey(user, { maxBudget: 1, budgetPeriod: "month" });
    const db = await prisma();
    const row = await db.apiKey.update({
      where: { id: key.id },
      data: {
        budgetPeriodSetAt: new Date("2027-01-15T00:00:00Z"),
        periodStart: new Date("2027-02-01T00:00:00Z"),
        periodSpendMicros: BigInt(250_000),
        spendMicros: BigInt(900_000),
      },
    });
    const feb28 = utc("2027-02-28T23:59:59.999Z");
    expect(toApiKeyView(row, feb28)).toMatchObject({ spend: 0.25, budgetPeriod: "month", budgetResetsAt: "2027-03-01T00:00:00.000Z" });
    expect(toApiKeyView(row, feb28 + 1)).toMatchObject({ spend: 0, budgetResetsAt: "2027-04-01T00:00:00.000Z" });
    // Without a period the lifetime spend is shown, as before periods.
    expect(toApiKeyView({ ...row, budgetPeriod: null, budgetPeriodSetAt: null }, feb28)).toMatchObject({ spend: 0.9, budgetResetsAt: null });
  });
});

describe("the usage writer keeps each period's spend (ApiKey.periodSpendMicros)", () => {
  async function write(user: TestUser, keyId: string, costMicros: number, periodStart: number) {
    const entry: UsageEntry = {
      id: newUsageId(),
      userId: user.id,
      apiKeyId: keyId,
      model: "m",
      provider: "openai",
      inputTokens: 1,
      outputTokens: 1,
      costMicros,
      inputMicrosPerMTok: 0,
      outputMicrosPerMTok: 0,
      status: 200,
      latencyMs: 1,
      ttftMs: null,
      streamed: false,
      upstream: null,
      attempts: 1,
      createdAt: new Date(),
      periodStart,
    };
    await limits().record(entry.id, encodeUsage(entry));
    await flushUsage();
  }

  async function row(keyId: string) {
    return (await prisma()).apiKey.findUniqueOrThrow({ where: { id: keyId } });
  }

  it("a newer period starts from zero; a late record of an older period (admitted before the boundary) stays out of the current one; lifetime spend counts all", async () => {
    const user = await createUser({ creditUsd: 10 });
    const key = await createCreditKey(user, { budgetPeriod: "day" });
    const day1 = utc("2027-02-28T00:00:00Z");
    const day2 = utc("2027-03-01T00:00:00Z");
    await write(user, key.id, 100, day1);
    await write(user, key.id, 200, day1);
    expect(await row(key.id)).toMatchObject({ periodStart: new Date(day1), periodSpendMicros: BigInt(300) });
    await write(user, key.id, 50, day2);
    expect(await row(key.id)).toMatchObject({ periodStart: new Date(day2), periodSpendMicros: BigInt(50) });
    // Admitted on 28 February, written on 1 March: charged to the 28th, which is past.
    await write(user, key.id, 1_000, day1);
    expect(await row(key.id)).toMatchObject({ periodStart: new Date(day2), periodSpendMicros: BigInt(50), spendMicros: BigInt(1_350) });
  });

  it("a usage record carries its period start only when it has one: a lifetime key's record keeps the previous version's 17 fields, and old records decode", () => {
    const entry = { id: newUsageId(), userId: "u", apiKeyId: "k", model: "m", provider: "openai", inputTokens: 1, outputTokens: 2, costMicros: 3 };
    const full: UsageEntry = {
      ...entry,
      inputMicrosPerMTok: 0,
      outputMicrosPerMTok: 0,
      status: 200,
      latencyMs: 1,
      ttftMs: null,
      streamed: false,
      upstream: "u1",
      attempts: 1,
      createdAt: new Date(0),
    };
    const lifetime = encodeUsage(full);
    expect(JSON.parse(lifetime)).toHaveLength(17);
    expect(decodeUsage(lifetime)).toMatchObject({ ...entry, periodStart: 0 });
    const periodic = encodeUsage({ ...full, periodStart: utc("2027-02-01T00:00:00Z") });
    expect(JSON.parse(periodic)).toHaveLength(18);
    expect(decodeUsage(periodic)).toMatchObject({ ...entry, periodStart: utc("2027-02-01T00:00:00Z") });
  });

  it("a record without a period (a lifetime key's, or one encoded before periods) leaves the period columns alone", async () => {
    const user = await createUser({ creditUsd: 10 });
    const key = await createCreditKey(user);
    await write(user, key.id, 70, 0);
    expect(await row(key.id)).toMatchObject({ periodStart: null, periodSpendMicros: BigInt(0), spendMicros: BigInt(70) });
  });

  it("seeds the store with the current period's spend from the database, and with zero once that period is over", async () => {
    const user = await createUser({ creditUsd: 10 });
    const key = await createCreditKey(user, { maxBudget: 1, budgetPeriod: "day" });
    const db = await prisma();
    const setAt = (await row(key.id)).budgetPeriodSetAt!.getTime();
    const record = {
      kind: "credit" as const,
      id: key.id,
      userId: user.id,
      isActive: true,
      expiresAt: null,
      maxBudgetMicros: 1_000_000,
      spendMicros: 0,
      budgetPeriod: "day" as BudgetPeriod,
      budgetPeriodSetAt: setAt,
      rpmLimit: null,
      tpmLimit: null,
      allowedModels: null,
      subscriptionId: null,
    };
    const now = Date.now();
    const start = keyPeriodStart(record, now);
    await db.apiKey.update({ where: { id: key.id }, data: { periodStart: new Date(start), periodSpendMicros: BigInt(400_000) } });
    await seedStore(record, { account: true, key: true }, now);
    const limitsNow = { rpmLimit: null, tpmLimit: null, maxBudgetMicros: 1_000_000, periodStart: start };
    expect(await limits().peek(user.id, key.id, limitsNow, now)).toMatchObject({ keyAvailableMicros: 600_000 });
    const tomorrow = budgetPeriodEnd("day", now)! + 1;
    await seedStore(record, { account: false, key: true }, tomorrow);
    const limitsTomorrow = { ...limitsNow, periodStart: keyPeriodStart(record, tomorrow) };
    expect(await limits().peek(user.id, key.id, limitsTomorrow, tomorrow)).toMatchObject({ keyAvailableMicros: 1_000_000 });
  });
});

describe("through the gateway", () => {
  // Output-priced only, 100 micro-dollars a token: max_tokens 100 reserves, and 100 generated tokens cost, exactly $0.01.
  const EXACT = {
    model: "period-model",
    provider: "openai" as const,
    inputMicrosPerMTok: BigInt(0),
    outputMicrosPerMTok: BigInt(100_000_000),
    maxOutputTokens: 100,
  };
  const hello = [{ role: "user" as const, content: "hello" }];
  let up: FakeUpstream;
  let gw: TestGateway;
  let restoreEnv: () => void;

  beforeAll(async () => {
    up = await startFakeUpstream();
    restoreEnv = setEnv({ OPENAI_BASE_URL: up.openaiBaseUrl, OPENAI_API_KEY: "upstream-secret", KEYGATE_DEMO_UPSTREAM: "off" });
    await (await prisma()).model.create({ data: EXACT });
    invalidateCatalogue();
    gw = await startGateway();
    up.options.outputTokens = 100;
  });

  afterAll(async () => {
    await gw?.close();
    await up?.close();
    restoreEnv?.();
  });

  async function ask(openai: OpenAI): Promise<{ status: number; message?: string }> {
    try {
      await openai.chat.completions.create({ model: EXACT.model, messages: hello, max_tokens: 100 });
      return { status: 200 };
    } catch (err) {
      if (err instanceof OpenAI.APIError) return { status: err.status ?? -1, message: err.message };
      throw err;
    }
  }

  it("a request admitted before midnight and finished after it is charged to the day it was admitted in (a fake clock across the boundary)", async () => {
    const user = await createUser({ creditUsd: 10 });
    // One request's reservation ($0.01) is the whole daily budget.
    const key = await createCreditKey(user, { maxBudget: 0.01, budgetPeriod: "day", rpm: 1000 });
    const openai = gw.openai(key.apiKey);
    const midnight = budgetPeriodEnd("day", Date.now())!;
    let now = midnight - 50;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now);
    try {
      up.reset();
      up.options.latencyMs = 400;
      const inFlight = ask(openai);
      // Admitted (it reached the upstream) 50 ms before midnight; midnight passes while it runs.
      await vi.waitFor(() => expect(up.requests).toHaveLength(1), { timeout: 5_000, interval: 10 });
      now = midnight + 1_000;
      expect(await inFlight).toEqual({ status: 200 });
      up.options.latencyMs = 0;
      // Had it been charged to the new day, the new day's budget would be gone.
      expect(await ask(openai)).toEqual({ status: 200 });
      expect((await ask(openai)).status).toBe(402);
      await flushUsage();
      const stored = await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: key.id } });
      expect(stored).toMatchObject({ periodStart: new Date(midnight), periodSpendMicros: BigInt(10_000), spendMicros: BigInt(20_000) });
    } finally {
      clock.mockRestore();
      up.options.latencyMs = 0;
    }
  });

  it("maxBudget applies per period: the budget refusal says when it resets, the key shows the period's spend, and switching the period starts a new one", async () => {
    const user = await createUser({ creditUsd: 10 });
    const key = await createCreditKey(user, { maxBudget: 0.03, budgetPeriod: "day", rpm: 1000 });
    const openai = gw.openai(key.apiKey);
    const results = await Promise.all(Array.from({ length: 6 }, () => ask(openai)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = await ask(openai);
    expect(refused.status).toBe(402);
    expect(refused.message).toContain(`It resets at ${iso(budgetPeriodEnd("day", Date.now()))} (budgetPeriod: day)`);
    await flushUsage();
    const db = await prisma();
    const stored = await db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(stored).toMatchObject({ periodSpendMicros: BigInt(30_000), spendMicros: BigInt(30_000) });
    expect(stored.periodStart!.getTime()).toBe(keyPeriodStart({ budgetPeriod: "day", budgetPeriodSetAt: stored.budgetPeriodSetAt!.getTime() }, Date.now()));
    const listed = await call("GET", "/api/keys", { token: user.token });
    expect(listed.json.data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ spend: 0.03, budgetPeriod: "day" });

    // A weekly period from now: spend before the switch does not count against it.
    const weekly = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: "week" } });
    expect(weekly.json.data).toMatchObject({ spend: 0, budgetPeriod: "week" });
    expect((await ask(openai)).status).toBe(200);
    // Cleared: a lifetime cap again, on the whole spend ($0.04 > $0.03), and the refusal names no reset.
    const cleared = await call("PUT", `/api/keys/${key.id}`, { token: user.token, body: { budgetPeriod: null } });
    expect(cleared.status, cleared.text).toBe(200);
    await flushUsage();
    const lifetime = await ask(openai);
    expect(lifetime.status).toBe(402);
    expect(lifetime.message).not.toContain("resets");
    const after = await call("GET", "/api/keys", { token: user.token });
    expect(after.json.data.find((k: { id: string }) => k.id === key.id)).toMatchObject({ spend: 0.04, budgetPeriod: null, budgetResetsAt: null });
  });
});
