import crypto from "node:crypto";
import { decryptSecret, encryptSecret, SecretDecryptionError } from "@/lib/crypto/secrets";
import { isUniqueViolation, prisma } from "@/lib/db";
import { BadRequestError, ConflictError, UnprocessableError } from "@/lib/http/errors";
import { redact } from "@/lib/log";
import { logger } from "@/lib/ops/logger";
import type { Tx } from "@/lib/writes/unit";

/**
 * Idempotency-Key for writes whose answer cannot be made twice (a rotation's
 * new secret): the answer is held, encrypted, in the same transaction as the
 * write, and a retry with the same key and the same request within
 * IDEMPOTENCY_WINDOW_MS gets it again instead of a second write.
 *
 * Concurrent retries are decided by the unique (userId, key) index, not by a
 * read: the answer is inserted before the write changes anything, so a second
 * transaction's insert waits for the first one's commit, fails with a unique
 * violation, rolls its own work back and reads the answer the first one held.
 *
 * The held answer holds a secret: it is sealed with lib/crypto/secrets.ts and
 * its row deleted once the window has passed (on the next idempotent write,
 * and by a sweep every minute), so no secret outlives the window at rest.
 */

export const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;
const MAX_KEY_LENGTH = 255;
/** The AES-GCM context of a held answer: a value copied from another field does not open here. */
const CONTEXT = "idempotency.response";

/** One idempotent request: whose, its key, and what it asks (hashed). */
export interface IdempotentRequest {
  userId: string;
  key: string;
  operation: string;
  requestHash: string;
}

/** Holds the answer inside the write's transaction; call it before the write changes anything (see above). */
export type HoldAnswer<T> = (tx: Tx, answer: T) => Promise<void>;

/** The Idempotency-Key header's value, null when none was sent, or a 400 naming what a key must be. */
export function idempotencyKeyOf(req: Request): string | null {
  const value = req.headers.get("idempotency-key");
  if (value === null) return null;
  if (!/^[\x20-\x7e]+$/.test(value) || value.length > MAX_KEY_LENGTH || !value.trim()) {
    throw new BadRequestError(
      `The Idempotency-Key header must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters; a new UUID per logical request is a good choice.`,
      [{ path: "Idempotency-Key", message: `must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters` }],
      "invalid_idempotency_key",
    );
  }
  return value;
}

/** The request an Idempotency-Key names: the operation, the ID in its path and its body (parsed, so defaults count, and with sorted keys). */
export function idempotentRequest(userId: string, key: string, operation: string, target: string, body: unknown): IdempotentRequest {
  const requestHash = crypto
    .createHash("sha256")
    .update(`${operation}\n${target}\n${canonicalJson(body)}`)
    .digest("hex");
  return { userId, key, operation, requestHash };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Runs `work` once per idempotent request: without a request (no header) it
 * simply runs; with one, a held answer is returned instead (422 when the key
 * was used for another request), and otherwise `work` runs and must call
 * `hold` in its transaction with its answer.
 */
export async function idempotent<T>(request: IdempotentRequest | null, work: (hold: HoldAnswer<T>) => Promise<T>, now = Date.now()): Promise<T> {
  if (!request) return work(async () => undefined);
  await sweepIdempotencyRecords(now);
  const held = await heldAnswer<T>(request, now);
  if (held.found) return held.answer;
  const hold: HoldAnswer<T> = async (tx, answer) => {
    await tx.idempotencyRecord.create({
      data: {
        userId: request.userId,
        key: request.key,
        operation: request.operation,
        requestHash: request.requestHash,
        response: encryptSecret(JSON.stringify(answer), CONTEXT),
        expiresAt: new Date(now + IDEMPOTENCY_WINDOW_MS),
      },
    });
  };
  try {
    return await work(hold);
  } catch (err) {
    // Another request with this key committed first (its insert held ours until then): answer what it answered.
    if (!isUniqueViolation(err)) throw err;
    const winner = await heldAnswer<T>(request, now);
    if (winner.found) return winner.answer;
    throw err;
  }
}

async function heldAnswer<T>(request: IdempotentRequest, now: number): Promise<{ found: true; answer: T } | { found: false }> {
  const db = await prisma();
  const row = await db.idempotencyRecord.findUnique({ where: { userId_key: { userId: request.userId, key: request.key } } });
  if (!row || row.expiresAt.getTime() <= now) return { found: false };
  if (row.operation !== request.operation || row.requestHash !== request.requestHash) {
    throw new UnprocessableError(
      "This Idempotency-Key was already used for a different request (another operation, key or body) in the last 10 minutes. Use a new key for a new request; resend the same request to get its original answer.",
      "idempotency_key_reused",
    );
  }
  let plain: string;
  try {
    plain = decryptSecret(row.response, CONTEXT);
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
    // The request did run; only its answer is lost (KEYGATE_ENCRYPTION_KEY changed since). Running it again would be a second write.
    logger().warn(`a held Idempotency-Key answer cannot be read: ${redact(err.message)}`);
    throw new ConflictError(
      `This request already ran with this Idempotency-Key at ${row.createdAt.toISOString()}, but its answer can no longer be read: the server's encryption key changed since. Nothing was done again. To get a secret you can see, send the request again with a new Idempotency-Key.`,
      "idempotency_answer_unreadable",
    );
  }
  return { found: true, answer: JSON.parse(plain) as T };
}

/** Deletes every held answer whose window has passed (with the secret it sealed). Returns how many. */
export async function sweepIdempotencyRecords(now = Date.now()): Promise<number> {
  const db = await prisma();
  const { count } = await db.idempotencyRecord.deleteMany({ where: { expiresAt: { lte: new Date(now) } } });
  return count;
}

const globalForSweep = globalThis as unknown as { __keygateIdempotencySweep?: NodeJS.Timeout };

/** Starts the minute's sweep of expired held answers (idempotent), so none outlives its window by much even when no idempotent write follows. */
export function startIdempotencySweep(): void {
  if (globalForSweep.__keygateIdempotencySweep) return;
  const timer = setInterval(() => {
    sweepIdempotencyRecords().catch((err: unknown) => {
      logger().error(`idempotency sweep failed; it runs again in a minute: ${redact(err instanceof Error ? err.message : String(err))}`);
    });
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  globalForSweep.__keygateIdempotencySweep = timer;
}
