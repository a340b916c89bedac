import crypto from "node:crypto";
import { decryptSecret } from "@/lib/crypto/secrets";
import { prisma } from "@/lib/db";
import { logger } from "@/lib/ops/logger";
import { attemptDelivery, DELIVERY_TIMEOUT_MS, type AttemptResult } from "@/lib/webhooks/deliver";
import { SECRET_CONTEXT, sweepExpiringSubscriptions, toUtcDate } from "@/lib/webhooks/events";

/**
 * The delivery worker. Every instance runs one; they share the outbox
 * (WebhookDelivery) through the database. A round claims due deliveries in
 * one statement: it stamps `lockedUntil` and a token of its own on rows it
 * selects with FOR UPDATE SKIP LOCKED, so two instances claiming at the same
 * moment take disjoint rows, and a row claimed stays invisible to every
 * other claim until its lock passes, far beyond an attempt's 5 s timeout. Only
 * the holder of the token records the outcome. An instance that dies holding
 * claims leaves them to be claimed again once the lock passes: a delivery is
 * then sent at least once, never twice at the same time (receivers dedupe by
 * `webhook-id`, as Standard Webhooks expects).
 *
 * The clock is a parameter, so tests walk the retry schedule without waiting.
 */

/** Standard Webhooks' schedule: after the first failure wait 5 s, then 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; a failure after that is final. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** How long a claim keeps other workers off a delivery: well beyond one attempt. */
export const CLAIM_MS = 60_000;
const BATCH = 50;
/** Attempts in flight at once per round. */
const CONCURRENCY = 8;
export const POLL_MS = 1_000;
const EXPIRING_SWEEP_MS = 60_000;

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface Claimed {
  id: string;
  webhookId: string;
  type: string;
  payload: unknown;
  attempts: number;
  createdAt: Date;
  url: string;
  secretCiphertext: string;
  token: string;
}

/** Claims up to `limit` due deliveries (optionally only these ids) for this caller. */
export async function claimDue(now: Date, limit = BATCH, ids?: string[]): Promise<Claimed[]> {
  const db = await prisma();
  const token = crypto.randomUUID();
  const params: unknown[] = [new Date(now.getTime() + CLAIM_MS).toISOString(), token, now.toISOString(), limit];
  let only = "";
  if (ids?.length) {
    only = `AND d.id IN (${ids.map((_, i) => `$${params.length + 1 + i}`).join(",")})`;
    params.push(...ids);
  }
  const rows = await db.$queryRawUnsafe<Array<Omit<Claimed, "token" | "createdAt"> & { createdAt: Date | string }>>(
    `WITH due AS (
       SELECT d.id FROM "WebhookDelivery" d
        WHERE d.status = 'pending' AND d."nextAttemptAt" <= ($3::timestamptz AT TIME ZONE 'UTC')
          AND (d."lockedUntil" IS NULL OR d."lockedUntil" <= ($3::timestamptz AT TIME ZONE 'UTC')) ${only}
        ORDER BY d."nextAttemptAt" LIMIT $4 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE "WebhookDelivery" d SET "lockedUntil" = ($1::timestamptz AT TIME ZONE 'UTC'), "lockToken" = $2
         FROM due WHERE d.id = due.id
       RETURNING d.id, d."webhookId", d.type, d.payload, d.attempts, d."createdAt"
     )
     SELECT c.*, w.url, w."secretCiphertext" FROM claimed c JOIN "Webhook" w ON w.id = c."webhookId"`,
    ...params,
  );
  return rows.map((r) => ({ ...r, createdAt: toUtcDate(r.createdAt), payload: typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload, token }));
}

/** The outcome of one attempt, recorded by the claim's holder only. */
async function record(c: Claimed, result: AttemptResult, now: Date): Promise<"delivered" | "pending" | "failed" | "lost"> {
  const db = await prisma();
  const attempts = c.attempts + 1;
  const status = result.ok ? "delivered" : attempts >= MAX_ATTEMPTS ? "failed" : "pending";
  const nextAttemptAt = status === "pending" ? new Date(now.getTime() + RETRY_DELAYS_MS[attempts - 1]) : null;
  const { count } = await db.webhookDelivery.updateMany({
    where: { id: c.id, lockToken: c.token },
    data: { status, attempts, lastStatusCode: result.statusCode, nextAttemptAt, lockedUntil: null, lockToken: null },
  });
  return count ? status : "lost";
}

/** Attempts one claimed delivery and records it. */
export async function deliverClaimed(c: Claimed, clock: Clock = systemClock): Promise<"delivered" | "pending" | "failed" | "lost"> {
  let result: AttemptResult;
  try {
    const secret = decryptSecret(c.secretCiphertext, SECRET_CONTEXT);
    result = await attemptDelivery(c.url, secret, { id: c.id, type: c.type, createdAt: c.createdAt, data: c.payload }, clock.now());
  } catch (err) {
    result = { ok: false, statusCode: null, error: err instanceof Error ? err.message : String(err) };
  }
  if (!result.ok) logger().info(`webhook delivery ${c.id} (${c.type}) attempt ${c.attempts + 1} failed: ${result.error ?? `status ${result.statusCode}`}`);
  return record(c, result, clock.now());
}

/** One round: claims what is due and delivers it. Returns how many were attempted. */
export async function runDeliveries(clock: Clock = systemClock): Promise<number> {
  let attempted = 0;
  for (;;) {
    const claimed = await claimDue(clock.now());
    for (let i = 0; i < claimed.length; i += CONCURRENCY) {
      await Promise.all(claimed.slice(i, i + CONCURRENCY).map((c) => deliverClaimed(c, clock)));
    }
    attempted += claimed.length;
    if (claimed.length < BATCH) return attempted;
  }
}

interface WorkerState {
  timer: NodeJS.Timeout;
  running: Promise<void> | null;
  lastSweep: number;
}

const globalForWorker = globalThis as unknown as { __keygateWebhookWorker?: WorkerState };

/** Starts this process's delivery worker (once per process): every second, and the expiring-subscription sweep every minute. */
export function startWebhookWorker(): void {
  if (globalForWorker.__keygateWebhookWorker) return;
  const state: WorkerState = { timer: setInterval(() => tick(), POLL_MS), running: null, lastSweep: 0 };
  state.timer.unref();
  globalForWorker.__keygateWebhookWorker = state;

  function tick(): void {
    if (state.running) return;
    state.running = (async () => {
      try {
        if (Date.now() - state.lastSweep >= EXPIRING_SWEEP_MS) {
          state.lastSweep = Date.now();
          await sweepExpiringSubscriptions(new Date());
        }
        await runDeliveries();
      } catch (err) {
        logger().error(`webhook worker: ${err instanceof Error ? err.message : String(err)}`);
      }
    })().finally(() => {
      state.running = null;
    });
  }
}

/** Stops the worker and waits for its round in progress (at most one attempt's timeout per batch). */
export async function stopWebhookWorker(): Promise<void> {
  const state = globalForWorker.__keygateWebhookWorker;
  if (!state) return;
  clearInterval(state.timer);
  globalForWorker.__keygateWebhookWorker = undefined;
  if (state.running) {
    await Promise.race([state.running, new Promise((resolve) => setTimeout(resolve, DELIVERY_TIMEOUT_MS * 2).unref())]);
  }
}
