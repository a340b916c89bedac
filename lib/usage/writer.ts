import { logger } from "@/lib/ops/logger";
import { setUsageFlushLag } from "@/lib/ops/metrics";
import crypto from "node:crypto";
import { prisma } from "@/lib/db";
import { limits } from "@/lib/limits";
import { redact } from "@/lib/log";

/**
 * Usage records are written off the request's critical path: the gateway
 * settles a request in the limits store (so the money is counted at once)
 * and queues its record here. A flush, every second and at shutdown, writes
 * the queued records, the keys' spend and lastUsedAt, and one ledger debit
 * per account in one transaction, then moves the money from "unflushed" to
 * "settled" in the store. A batch keeps its ids until it commits, so a flush
 * that failed is repeated whole; the insert skips ids already written and
 * spend and ledger follow only the rows it inserted, so nothing counts twice.
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
  createdAt: Date;
}

const FLUSH_INTERVAL_MS = 1_000;
/** Rows per transaction: 15 parameters each stays far below PostgreSQL's 65,535. */
const MAX_BATCH = 1_000;

interface UsageQueue {
  queue: UsageEntry[];
  /** The batch being written (kept whole until it commits). */
  batch: { id: string; entries: UsageEntry[] } | null;
  flushing: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

const globalForUsage = globalThis as unknown as { __keygateUsage?: UsageQueue };

function state(): UsageQueue {
  return (globalForUsage.__keygateUsage ??= { queue: [], batch: null, flushing: null, timer: null });
}

export function newUsageId(): string {
  return `usg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Queues a settled request's record; the periodic flush writes it. */
export function recordUsage(entry: UsageEntry): void {
  const s = state();
  s.queue.push(entry);
  if (!s.timer) {
    // One write a second, not a write per arrival: under load each transaction carries a second's requests.
    s.timer = setInterval(() => {
      const oldest = s.batch?.entries[0] ?? s.queue[0];
      setUsageFlushLag(oldest ? (Date.now() - oldest.createdAt.getTime()) / 1000 : 0);
      if (!s.flushing) void flushUsage();
    }, FLUSH_INTERVAL_MS);
    s.timer.unref();
  }
}

export function pendingUsageCount(): number {
  const s = state();
  return s.queue.length + (s.batch?.entries.length ?? 0);
}

/** Writes everything queued before the call. Safe to call at any time: a call during a write waits for it, then writes what it missed. */
export function flushUsage(): Promise<void> {
  const s = state();
  if (s.flushing) return s.flushing.then(() => (pendingUsageCount() ? flushUsage() : undefined));
  const flushing = writeQueued(s, s.queue.length).finally(() => {
    if (s.flushing === flushing) s.flushing = null;
  });
  s.flushing = flushing;
  return flushing;
}

/** Writes the batch left by a failed write, then the `count` records queued first, in batches of MAX_BATCH. */
async function writeQueued(s: UsageQueue, count: number): Promise<void> {
  let left = count;
  try {
    while (s.batch || left > 0) {
      if (!s.batch) {
        s.batch = { id: crypto.randomUUID(), entries: s.queue.splice(0, Math.min(left, MAX_BATCH)) };
        left -= s.batch.entries.length;
      }
      await writeBatch(s.batch.entries);
      await limits().flushed(
        s.batch.id,
        s.batch.entries.map((e) => ({ userId: e.userId, keyId: e.apiKeyId, costMicros: e.costMicros })),
      );
      s.batch = null;
    }
  } catch (err) {
    logger().error(`writing usage failed; it will be retried: ${redact(err instanceof Error ? err.message : String(err))}`);
  }
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
  "createdAt",
]
  .map((c) => `"${c}"`)
  .join(",");

/**
 * Writes `entries` in one transaction, each id once: rows already in the
 * database (written before by this or another writer) are skipped, and the
 * keys' spend and lastUsedAt and the ledger follow the rows inserted here only.
 */
async function writeBatch(entries: UsageEntry[]): Promise<void> {
  const db = await prisma();
  await db.$transaction(async (tx) => {
    // A record of an account deleted meanwhile is dropped, as the deletion dropped its other records: it could never be written,
    // and would hold every later record of this writer behind it.
    const userIds = [...new Set(entries.map((e) => e.userId))];
    const users = new Set((await tx.user.findMany({ where: { id: { in: userIds } }, select: { id: true } })).map((u) => u.id));
    entries = entries.filter((e) => users.has(e.userId));
    if (!entries.length) return;
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
        e.createdAt,
      ];
      const first = params.length + 1;
      params.push(...values);
      return `(${values.map((_, i) => `$${first + i}`).join(",")})`;
    });
    const inserted = await tx.$queryRawUnsafe<
      Array<{ id: string; userId: string; apiKeyId: string; costMicros: bigint | number | string; createdAt: Date | string }>
    >(
      `INSERT INTO "UsageRecord" (${USAGE_COLUMNS}) VALUES ${rows.join(",")} ON CONFLICT ("id") DO NOTHING RETURNING "id","userId","apiKeyId","costMicros","createdAt"`,
      ...params,
    );
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
  });
}

/** Stops the timer and writes what is left (shutdown). */
export async function drainUsage(): Promise<void> {
  const s = state();
  if (s.timer) clearInterval(s.timer);
  s.timer = null;
  await flushUsage();
}
