import crypto from "node:crypto";
import os from "node:os";
import { prisma } from "@/lib/db";
import { env } from "@/lib/env";
import { limits } from "@/lib/limits";
import type { OutboxEntry, WrittenEntry } from "@/lib/limits/store";
import { redact } from "@/lib/log";
import { logger } from "@/lib/ops/logger";
import { setUsageBacklogSource } from "@/lib/ops/metrics";
import { recordBudgetExhausted, recordBudgetThresholds, recordLowBalance } from "@/lib/webhooks/events";
import { restoreBudgetRefusals, restoreRefusals, takeBudgetRefusals, takeRefusals, type BudgetRefusal, type RefusalCount } from "@/lib/usage/refusals";
import { ALL_ROLLUP } from "@/lib/usage/schemas";
import type { Tx } from "@/lib/writes/unit";

/**
 * Usage records are written off the request's critical path. The gateway
 * settles a request and hands its record to the limits store in one atomic
 * step (LimitsStore.settle): the cost joins "unflushed" and the record joins
 * the store's outbox together. With Redis the outbox is a stream
 * (kg:usage), so a kill -9 of the instance that settled a request loses
 * neither; without Redis it is in this process's memory, and a kill -9 loses
 * the last second of records (docs/operations.md).
 *
 * A writer in every process, every second and at shutdown, takes records from
 * the outbox as one consumer of its group, writes them, the keys' spend and
 * lastUsedAt and one ledger debit per account in one transaction, then
 * acknowledges them: the store moves each one's cost from unflushed to
 * settled on its first acknowledgement only. Records another process was
 * given and did not acknowledge within KEYGATE_USAGE_CLAIM_IDLE_MS (it
 * died) are claimed and written here. The insert skips ids already in the
 * database, and spend and ledger follow only the rows it inserted, so a
 * record written twice (a claim of a slow writer's records, a retry after a
 * commit whose answer was lost) counts once. The same transaction adds the
 * rows it inserted to the daily rollups (UsageRollup, what GET /api/usage
 * reads), with the refusals counted in memory since the last write
 * (lib/usage/refusals.ts).
 */

export interface UsageEntry {
  id: string;
  userId: string;
  apiKeyId: string;
  model: string;
  provider: string;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  status: number;
  latencyMs: number;
  ttftMs: number | null;
  streamed: boolean;
  /** The upstream that answered (its name), and how many routes were tried for the request. */
  upstream: string | null;
  attempts: number;
  createdAt: Date;
  /**
   * The start (ms) of the key's budget period the request was admitted in (0 or absent: no period). Its cost joins
   * that period's spend (ApiKey.periodSpendMicros), even when it settles after the period ended.
   */
  periodStart?: number;
}

/** Rows per transaction: 17 parameters each stays far below PostgreSQL's 65,535. */
const MAX_BATCH = 1_000;

interface UsageWriter {
  /** This process's name in the outbox's consumer group: unique per process, so a restarted one never takes a dead one's place. */
  consumer: string;
  flushing: Promise<void> | null;
  timer: NodeJS.Timeout | null;
  /** Tests: runs after a batch commits and before it is acknowledged (a crash or a lost answer there). */
  afterCommit: (() => void) | null;
}

const globalForUsage = globalThis as unknown as { __keygateUsageWriter?: UsageWriter };

function writer(): UsageWriter {
  return (globalForUsage.__keygateUsageWriter ??= {
    consumer: `${os.hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
    flushing: null,
    timer: null,
    afterCommit: null,
  });
}

export function newUsageId(): string {
  return `usg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * A record as the outbox carries it: a JSON array in a fixed order (about
 * half the bytes of an object), since it rides with every settlement to Redis.
 * No secret is in it: ids, the model, token counts, prices and timings.
 */
export function encodeUsage(e: UsageEntry): string {
  startUsageWriter();
  const fields = [
    e.id,
    e.userId,
    e.apiKeyId,
    e.model,
    e.provider,
    e.inputTokens,
    e.outputTokens,
    e.costMicros,
    e.inputMicrosPerMTok,
    e.outputMicrosPerMTok,
    e.status,
    e.latencyMs,
    e.ttftMs,
    e.streamed ? 1 : 0,
    e.createdAt.getTime(),
    e.upstream,
    e.attempts,
  ];
  // The budget period only when there is one: a lifetime key's record keeps the 17 fields an instance of the
  // previous version reads, so a rolling deploy's older writers never drop it as unreadable.
  if (e.periodStart) fields.push(e.periodStart);
  return JSON.stringify(fields);
}

export function decodeUsage(record: string): UsageEntry | null {
  try {
    const v = JSON.parse(record) as unknown[];
    // 15 fields: a record settled by a version before routing (no upstream, one attempt); 17: before budget periods.
    if (!Array.isArray(v) || (v.length !== 15 && v.length !== 17 && v.length !== 18) || typeof v[0] !== "string") return null;
    return {
      id: v[0],
      userId: String(v[1]),
      apiKeyId: String(v[2]),
      model: String(v[3]),
      provider: String(v[4]),
      inputTokens: Number(v[5]),
      outputTokens: Number(v[6]),
      costMicros: Number(v[7]),
      inputMicrosPerMTok: Number(v[8]),
      outputMicrosPerMTok: Number(v[9]),
      status: Number(v[10]),
      latencyMs: Number(v[11]),
      ttftMs: v[12] === null ? null : Number(v[12]),
      streamed: v[13] === 1,
      createdAt: new Date(Number(v[14])),
      upstream: typeof v[15] === "string" ? v[15] : null,
      attempts: typeof v[16] === "number" && Number.isSafeInteger(v[16]) && v[16] >= 1 ? v[16] : 1,
      periodStart: typeof v[17] === "number" && Number.isSafeInteger(v[17]) && v[17] > 0 ? v[17] : 0,
    };
  } catch {
    return null;
  }
}

/**
 * Starts this process's writer (idempotent): the front server at start, and
 * the first record encoded. It runs even in a process that settles nothing,
 * since it also writes what dead processes left in the outbox.
 */
export function startUsageWriter(): void {
  const w = writer();
  if (w.timer) return;
  setUsageBacklogSource(() => limits().usageBacklog());
  // One write a second, not a write per arrival: under load each transaction carries a second's requests.
  w.timer = setInterval(() => {
    if (!w.flushing) void flushUsage();
  }, env().KEYGATE_USAGE_FLUSH_MS);
  w.timer.unref();
}

/** Writes what is waiting for this process: records it was given and has not acknowledged, new ones, and claimable ones of dead writers. */
export async function flushUsage(): Promise<void> {
  const w = writer();
  // A call during a write waits for it, then writes what arrived meanwhile.
  while (w.flushing) await w.flushing;
  const flushing = writeWaiting(w).finally(() => {
    if (w.flushing === flushing) w.flushing = null;
  });
  w.flushing = flushing;
  await flushing;
}

async function writeWaiting(w: UsageWriter): Promise<void> {
  const store = limits();
  // Refusals counted since the last write ride with this round's first transaction (alone when no record waits).
  const pending: Pending = { refusals: takeRefusals(), exhausted: takeBudgetRefusals() };
  try {
    for (;;) {
      const entries = await store.takeUsage(w.consumer, MAX_BATCH);
      if (entries.length || pending.refusals.length || pending.exhausted.length) await writeEntries(w, entries, pending);
      if (entries.length < MAX_BATCH) break;
    }
    for (;;) {
      const claimed = await store.claimUsage(w.consumer, env().KEYGATE_USAGE_CLAIM_IDLE_MS, MAX_BATCH);
      if (claimed.length) await writeEntries(w, claimed, pending);
      if (claimed.length < MAX_BATCH) break;
    }
  } catch (err) {
    // What was taken stays this consumer's, unacknowledged: the next round takes it again first.
    restoreRefusals(pending.refusals);
    restoreBudgetRefusals(pending.exhausted);
    logger().error(`writing usage failed; it will be retried: ${redact(err instanceof Error ? err.message : String(err))}`);
  }
}

/** What the gateway counted in memory since the last write, riding with the next transaction. */
interface Pending {
  refusals: RefusalCount[];
  /** Keys refused with budget_exceeded: the budget's 100 % alert. */
  exhausted: BudgetRefusal[];
}

async function writeEntries(w: UsageWriter, entries: OutboxEntry[], pending: Pending): Promise<void> {
  const written: WrittenEntry[] = [];
  const usage: UsageEntry[] = [];
  for (const e of entries) {
    const u = decodeUsage(e.record);
    if (!u) {
      // Unreadable (never made by this code): acknowledged so it cannot block the outbox, and said loudly.
      logger().error(`an unreadable usage record was dropped from the outbox (entry ${e.id})`);
      written.push({ id: e.id, userId: "", keyId: "", costMicros: 0 });
      continue;
    }
    usage.push(u);
    written.push({ id: e.id, userId: u.userId, keyId: u.apiKeyId, costMicros: u.costMicros, periodStart: u.periodStart ?? 0 });
  }
  if (usage.length || pending.refusals.length || pending.exhausted.length) await writeBatch(usage, pending.refusals, pending.exhausted);
  pending.refusals = [];
  pending.exhausted = [];
  w.afterCommit?.();
  await limits().ackUsage(written);
}

/** Tests: `fn` runs after each batch commits and before its acknowledgement (null: none). */
export function setAfterUsageCommitForTests(fn: (() => void) | null): void {
  writer().afterCommit = fn;
}

const USAGE_COLUMNS = [
  "id",
  "userId",
  "apiKeyId",
  "model",
  "provider",
  "inputTokens",
  "outputTokens",
  "costMicros",
  "inputMicrosPerMTok",
  "outputMicrosPerMTok",
  "status",
  "latencyMs",
  "ttftMs",
  "streamed",
  "upstream",
  "attempts",
  "createdAt",
]
  .map((c) => `"${c}"`)
  .join(",");

/**
 * Writes `entries` in one transaction, each id once: rows already in the
 * database (written before by this or another writer) are skipped, and the
 * keys' spend and lastUsedAt, the ledger and the rollups follow the rows
 * inserted here only. `refusals` are added to the rollups too.
 */
async function writeBatch(entries: UsageEntry[], refusals: RefusalCount[], exhausted: BudgetRefusal[] = []): Promise<void> {
  const db = await prisma();
  await db.$transaction(async (tx) => {
    // A record of an account deleted meanwhile is dropped, as the deletion dropped its other records: it could never be written,
    // and would hold every later record of this writer behind it.
    const userIds = [...new Set([...entries.map((e) => e.userId), ...refusals.map((r) => r.userId)])];
    const users = new Set((await tx.user.findMany({ where: { id: { in: userIds } }, select: { id: true } })).map((u) => u.id));
    entries = entries.filter((e) => users.has(e.userId));
    refusals = refusals.filter((r) => users.has(r.userId));
    if (!entries.length) {
      await upsertRollups(tx, [], [], refusals);
      await recordBudgetExhausted(tx, exhausted, new Date());
      return;
    }
    // One parameterised INSERT, not createMany: Prisma's per-row query building cost ~10x the CPU and blocked the event loop.
    const params: unknown[] = [];
    const rows = entries.map((e) => {
      const values = [
        e.id,
        e.userId,
        e.apiKeyId,
        e.model,
        e.provider,
        e.inputTokens,
        e.outputTokens,
        BigInt(e.costMicros),
        BigInt(e.inputMicrosPerMTok),
        BigInt(e.outputMicrosPerMTok),
        e.status,
        e.latencyMs,
        e.ttftMs,
        e.streamed,
        e.upstream,
        e.attempts,
        e.createdAt,
      ];
      const first = params.length + 1;
      params.push(...values);
      return `(${values.map((_, i) => `$${first + i}`).join(",")})`;
    });
    const inserted = await tx.$queryRawUnsafe<InsertedRow[]>(
      `INSERT INTO "UsageRecord" (${USAGE_COLUMNS}) VALUES ${rows.join(",")} ON CONFLICT ("id") DO NOTHING RETURNING "id","userId","apiKeyId","costMicros","createdAt"`,
      ...params,
    );
    await upsertRollups(tx, entries, inserted, refusals);
    const byKey = new Map<string, { cost: bigint; lastUsedAt: Date }>();
    const byAccount = new Map<string, { cost: bigint; requests: number; firstId: string }>();
    for (const row of inserted) {
      const cost = BigInt(row.costMicros);
      const createdAt = new Date(row.createdAt);
      const k = byKey.get(row.apiKeyId) ?? { cost: BigInt(0), lastUsedAt: createdAt };
      k.cost += cost;
      if (createdAt > k.lastUsedAt) k.lastUsedAt = createdAt;
      byKey.set(row.apiKeyId, k);
      const a = byAccount.get(row.userId) ?? { cost: BigInt(0), requests: 0, firstId: row.id };
      a.cost += cost;
      a.requests++;
      if (row.id < a.firstId) a.firstId = row.id;
      byAccount.set(row.userId, a);
    }
    for (const [id, k] of byKey) {
      await tx.apiKey.updateMany({ where: { id }, data: { spendMicros: { increment: k.cost }, lastUsedAt: k.lastUsedAt } });
    }
    await addPeriodSpend(tx, entries, inserted);
    for (const [userId, a] of byAccount) {
      if (a.cost === BigInt(0)) continue;
      await tx.ledgerEntry.create({
        data: {
          userId,
          kind: "usage",
          amountMicros: -a.cost,
          note: `Usage: ${a.requests} request${a.requests === 1 ? "" : "s"}`,
          // A record id is inserted once, so one this write inserted names this write's debit uniquely.
          idempotencyKey: `usage:${a.firstId}:${userId}`,
        },
      });
      await tx.user.update({ where: { id: userId }, data: { balanceMicros: { decrement: a.cost } } });
    }
    // ---- alerts by webhook (lib/webhooks/events.ts): thresholds and low balances crossed by this write, in its transaction ----
    const at = new Date();
    await recordBudgetThresholds(tx, [...byKey.keys()], at);
    await recordBudgetExhausted(tx, exhausted, at);
    await recordLowBalance(
      tx,
      [...byAccount].map(([userId, a]) => ({ userId, micros: a.cost })),
      at,
    );
    // ---- end of alerts by webhook ----
  });
}

interface InsertedRow {
  id: string;
  userId: string;
  apiKeyId: string;
  costMicros: bigint | number | string;
  createdAt: Date | string;
}

type WriterTx = Parameters<Parameters<Awaited<ReturnType<typeof prisma>>["$transaction"]>[0]>[0];

interface Rollup {
  userId: string;
  day: string;
  apiKeyId: string;
  model: string;
  requests: number;
  inputTokens: bigint;
  outputTokens: bigint;
  costMicros: bigint;
  refused402: number;
  refused403: number;
  refused429: number;
}

/**
 * The four grains each request is added to: its key and model, its key for
 * every model, its model for every key, and the account's day (ALL_ROLLUP,
 * "", stands for "every": no key ID or model name is empty). GET /api/usage
 * reads the coarsest grain its grouping and filters allow (lib/usage/queries.ts),
 * so a 30-day total reads 30 rows rather than one per key, model and day.
 */
function grains(apiKeyId: string, model: string): Array<[string, string]> {
  return [
    [apiKeyId, model],
    [apiKeyId, ALL_ROLLUP],
    [ALL_ROLLUP, model],
    [ALL_ROLLUP, ALL_ROLLUP],
  ];
}

/** Parameters per rollup row in one upsert. */
const ROLLUP_PARAMS = 11;

/**
 * Adds the rows this transaction inserted (and the refusals) to the daily
 * rollups: one upsert that adds to what is there. Rows are sorted by their
 * key, so two writers' transactions lock them in the same order and cannot
 * deadlock on each other.
 */
async function upsertRollups(tx: WriterTx, entries: UsageEntry[], inserted: Array<{ id: string }>, refusals: RefusalCount[]): Promise<void> {
  const byRollup = new Map<string, Rollup>();
  const rollup = (userId: string, day: string, apiKeyId: string, model: string): Rollup => {
    const id = `${userId}\u0000${day}\u0000${apiKeyId}\u0000${model}`;
    let r = byRollup.get(id);
    if (!r) {
      r = {
        userId,
        day,
        apiKeyId,
        model,
        requests: 0,
        inputTokens: BigInt(0),
        outputTokens: BigInt(0),
        costMicros: BigInt(0),
        refused402: 0,
        refused403: 0,
        refused429: 0,
      };
      byRollup.set(id, r);
    }
    return r;
  };
  // The records' own fields (the day of the time the process gave them), for the rows the insert reports as new.
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const row of inserted) {
    const e = byId.get(row.id);
    if (!e) continue;
    const day = e.createdAt.toISOString().slice(0, 10);
    for (const [key, model] of grains(e.apiKeyId, e.model)) {
      const r = rollup(e.userId, day, key, model);
      r.requests++;
      r.inputTokens += BigInt(e.inputTokens);
      r.outputTokens += BigInt(e.outputTokens);
      r.costMicros += BigInt(e.costMicros);
    }
  }
  for (const c of refusals) {
    for (const [key, model] of grains(c.apiKeyId, c.model)) rollup(c.userId, c.day, key, model)[`refused${c.status}`] += c.count;
  }
  if (!byRollup.size) return;
  const sorted = [...byRollup.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  // In chunks, so a statement's parameters stay far below PostgreSQL's 65,535 whatever the refusals add.
  for (let i = 0; i < sorted.length; i += ROLLUP_CHUNK) await upsertChunk(tx, sorted.slice(i, i + ROLLUP_CHUNK));
}

const ROLLUP_CHUNK = 2_000;

async function upsertChunk(tx: WriterTx, sorted: Rollup[]): Promise<void> {
  const params: unknown[] = [];
  const values = sorted.map((r) => {
    const first = params.length + 1;
    params.push(r.userId, r.day, r.apiKeyId, r.model, r.requests, r.inputTokens, r.outputTokens, r.costMicros, r.refused402, r.refused403, r.refused429);
    const p = Array.from({ length: ROLLUP_PARAMS }, (_, i) => `$${first + i}`);
    p[1] = `${p[1]}::date`;
    return `(${p.join(",")})`;
  });
  await tx.$executeRawUnsafe(
    `INSERT INTO "UsageRollup" ("userId","day","apiKeyId","model","requests","inputTokens","outputTokens","costMicros","refused402","refused403","refused429") VALUES ${values.join(",")}
     ON CONFLICT ("userId","day","apiKeyId","model") DO UPDATE SET
       "requests" = "UsageRollup"."requests" + excluded."requests",
       "inputTokens" = "UsageRollup"."inputTokens" + excluded."inputTokens",
       "outputTokens" = "UsageRollup"."outputTokens" + excluded."outputTokens",
       "costMicros" = "UsageRollup"."costMicros" + excluded."costMicros",
       "refused402" = "UsageRollup"."refused402" + excluded."refused402",
       "refused403" = "UsageRollup"."refused403" + excluded."refused403",
       "refused429" = "UsageRollup"."refused429" + excluded."refused429"`,
    ...params,
  );
}

/**
 * Budget periods: the cost of each inserted record admitted in a period joins
 * that period's spend (ApiKey.periodSpendMicros, periodStart). Nothing resets
 * it at midnight: a record of a newer period than the stored one starts it
 * from zero, and a record of an older period (admitted before the boundary,
 * written after a newer one) leaves it alone, as it was charged to its own,
 * past period. One statement per (key, period), so concurrent writers add
 * up under the row's lock; periods in order, so the latest one stays.
 */
async function addPeriodSpend(
  tx: Tx,
  entries: UsageEntry[],
  inserted: Array<{ id: string; apiKeyId: string; costMicros: bigint | number | string }>,
): Promise<void> {
  const periodOf = new Map<string, number>();
  for (const e of entries) if (e.periodStart) periodOf.set(e.id, e.periodStart);
  if (!periodOf.size) return;
  const sums = new Map<string, { keyId: string; start: number; cost: bigint }>();
  for (const row of inserted) {
    const start = periodOf.get(row.id);
    if (!start) continue;
    const s = sums.get(`${row.apiKeyId} ${start}`) ?? { keyId: row.apiKeyId, start, cost: BigInt(0) };
    s.cost += BigInt(row.costMicros);
    sums.set(`${row.apiKeyId} ${start}`, s);
  }
  for (const s of [...sums.values()].sort((a, b) => a.start - b.start)) {
    const start = new Date(s.start);
    await tx.$executeRaw`UPDATE "ApiKey" SET "periodSpendMicros" = CASE WHEN "periodStart" = ${start} THEN "periodSpendMicros" + ${s.cost} ELSE ${s.cost} END, "periodStart" = ${start} WHERE "id" = ${s.keyId} AND ("periodStart" IS NULL OR "periodStart" <= ${start})`;
  }
}

/** Stops the timer and writes what is left (shutdown): this process's unacknowledged and unread records, as far as the store answers. */
export async function drainUsage(): Promise<void> {
  const w = writer();
  if (w.timer) clearInterval(w.timer);
  w.timer = null;
  await flushUsage();
}
