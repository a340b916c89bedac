import { prisma } from "@/lib/db";
import { env } from "@/lib/env";
import { redact } from "@/lib/log";
import { logger } from "@/lib/ops/logger";

/**
 * The request log keeps KEYGATE_REQUEST_LOG_DAYS of rows; the daily rollups
 * (UsageRollup, what GET /api/usage and the ledger agree on) are kept for
 * good. A sweep on a timer in every instance deletes older rows in bounded
 * batches, each its own short statement, so it never holds a long lock nor
 * builds a huge transaction. Several instances sweeping at once are safe: a
 * delete is idempotent, and SKIP LOCKED lets each take rows the other is not
 * deleting instead of waiting for it.
 *
 * A record's id makes its insert idempotent only while the row exists; one
 * deleted here cannot come back through a retried write, since the outbox
 * never holds a record for days (KEYGATE_REQUEST_LOG_DAYS is at least 1).
 */

export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** Rows per delete statement. */
const BATCH = 5_000;
/** Batches per run at most: a larger backlog (the first run on an old database) is taken up by the next runs. */
const MAX_BATCHES = 200;

const DAY_MS = 86_400_000;

/** Deletes request log rows older than the retention (from `now`); returns how many were deleted. */
export async function sweepRequestLog(now = Date.now(), batch = BATCH): Promise<number> {
  const db = await prisma();
  const cutoff = new Date(now - env().KEYGATE_REQUEST_LOG_DAYS * DAY_MS);
  let deleted = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await db.$executeRawUnsafe(
      `DELETE FROM "UsageRecord" WHERE "id" IN (SELECT "id" FROM "UsageRecord" WHERE "createdAt" < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      cutoff,
      batch,
    );
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}

const globalForRetention = globalThis as unknown as { __keygateRetention?: { timer: NodeJS.Timeout; running: boolean } };

/** Starts the sweep (idempotent): now, then every RETENTION_INTERVAL_MS. */
export function startRequestLogRetention(): void {
  if (globalForRetention.__keygateRetention) return;
  const state = { timer: setInterval(() => void run(), RETENTION_INTERVAL_MS), running: false };
  state.timer.unref();
  globalForRetention.__keygateRetention = state;
  void run();

  async function run(): Promise<void> {
    if (state.running) return;
    state.running = true;
    try {
      const n = await sweepRequestLog();
      if (n) logger().info(`request log: ${n} rows older than ${env().KEYGATE_REQUEST_LOG_DAYS} days deleted`);
    } catch (err) {
      logger().error(`request log retention failed; it runs again later: ${redact(err instanceof Error ? err.message : String(err))}`);
    } finally {
      state.running = false;
    }
  }
}
