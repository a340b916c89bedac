import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage, setAfterUsageCommitForTests } from "@/lib/usage/writer";
import { createUser, type TestUser } from "./api";
import { createCreditKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * The usage writer's guarantees through the real gateway (memory store, or
 * Redis in the "redis" project): a write whose commit succeeded but whose
 * acknowledgement never happened is retried without counting anything twice,
 * and a process that restarts without Redis rebuilds the money it admits by
 * from the database alone.
 */

// Output-priced only, 100 micro-dollars a token, so a request's worst case is exactly max_tokens × 100.
const EXACT = {
  model: "exact-model",
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
  await gw.close();
  await up.close();
  restoreEnv();
});

afterEach(() => setAfterUsageCommitForTests(null));

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? -1;
    throw err;
  }
}

/** What the database says: records, the key's spend, the balance and the ledger's sum. */
async function books(user: TestUser, keyId: string) {
  const db = await prisma();
  const records = await db.usageRecord.findMany({ where: { userId: user.id } });
  const ledger = await db.ledgerEntry.aggregate({ where: { userId: user.id }, _sum: { amountMicros: true } });
  return {
    ids: records.map((r) => r.id).sort(),
    cost: records.reduce((n, r) => n + Number(r.costMicros), 0),
    spend: Number((await db.apiKey.findUniqueOrThrow({ where: { id: keyId } })).spendMicros),
    balance: Number((await db.user.findUniqueOrThrow({ where: { id: user.id } })).balanceMicros),
    ledger: Number(ledger._sum.amountMicros ?? 0),
  };
}

/** Spends exactly what is left, in requests of at most 100 tokens (100 micro-dollars each): each is admitted at its exact cost; one more token is refused. */
async function spendExactly(openai: OpenAI, micros: number): Promise<void> {
  let left = micros;
  while (left > 0) {
    const tokens = Math.min(100, left / 100);
    expect(await status(openai.chat.completions.create({ model: EXACT.model, messages: hello, max_tokens: tokens })), `${tokens} tokens of ${left / 100}`).toBe(
      200,
    );
    left -= tokens * 100;
  }
  expect(await status(openai.chat.completions.create({ model: EXACT.model, messages: hello, max_tokens: 1 }))).toBe(402);
}

describe("the usage writer", () => {
  it("retries a write that committed but was never acknowledged: each record once, spend and ledger once, and the store converges", async () => {
    const user = await createUser({ creditUsd: 0.05 });
    const key = await createCreditKey(user);
    const openai = gw.openai(key.apiKey);
    // The first write to commit (this flush's or the timer's) fails before its acknowledgement.
    let failures = 0;
    setAfterUsageCommitForTests(() => {
      if (failures++ === 0) throw new Error("the answer to the commit was lost");
    });
    for (let i = 0; i < 5; i++) expect(await status(openai.chat.completions.create({ model: EXACT.model, messages: hello, max_tokens: 10 }))).toBe(200);
    await flushUsage();
    expect(failures).toBeGreaterThanOrEqual(1);
    // Committed, not acknowledged: the store still counts the money as unflushed, and the next round writes the same records again.
    expect((await books(user, key.id)).ids).toHaveLength(5);
    await flushUsage();
    const after = await books(user, key.id);
    expect(after.ids).toHaveLength(5);
    expect(after).toMatchObject({ cost: 5_000, spend: 5_000, balance: 45_000, ledger: 45_000 });
    expect(await limits().pending(user.id)).toEqual({ unflushedMicros: 0, reservedMicros: 0 });
    // The money admitted by is the balance, to the micro-dollar.
    await spendExactly(openai, after.balance);
    await flushUsage();
    expect(await books(user, key.id)).toMatchObject({ balance: 0, ledger: 0, spend: 50_000 });
    // Dozens of requests and writes: the limit is for a hang, not a speed target (a busy 2-core machine takes its time).
  }, 90_000);

  it.skipIf(Boolean(process.env.REDIS_URL))(
    "without Redis, a restarted process admits by the database's balance: nothing it knew before drifts into it",
    async () => {
      const user = await createUser({ creditUsd: 0.01 });
      const key = await createCreditKey(user);
      const openai = gw.openai(key.apiKey);
      expect(await status(openai.chat.completions.create({ model: EXACT.model, messages: hello, max_tokens: 30 }))).toBe(200);
      await flushUsage();
      expect(await books(user, key.id)).toMatchObject({ balance: 7_000, ledger: 7_000, spend: 3_000 });
      // A new process's store: empty, seeded from the database on first use.
      (globalThis as unknown as { __keygateLimits?: unknown }).__keygateLimits = undefined;
      await spendExactly(openai, 7_000);
    },
  );
});
