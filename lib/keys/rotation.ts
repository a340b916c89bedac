import { diff } from "@/lib/audit/changes";
import type { UserActor } from "@/lib/auth/actor";
import { ConflictError, NotFoundError } from "@/lib/http/errors";
import { newKey, type KeyKind } from "@/lib/keys/format";
import type { RotatedKey, RotateKeyInput } from "@/lib/keys/schemas";
import { idempotent, idempotentRequest, type HoldAnswer } from "@/lib/writes/idempotency";
import { write, type After, type Tx } from "@/lib/writes/unit";

/**
 * Rotation: a new secret under the same key ID, so its name, limits, spend,
 * allowlist, budget period and subscription stay as they are, and the old
 * secret keeps working for a grace period (lib/keys/verify.ts judges it on
 * every request). A key has at most two secrets: a second rotation moves the
 * current one into previousKeyHash, and the one before is dead at once.
 *
 * Which keys can be rotated: any key of the caller's that exists, paused or
 * not (rotating a leaked key before resuming it is the point), but not an
 * expired one: its new secret would be refused as well, so the caller is told
 * what to do instead. Deleted keys are gone (404).
 *
 * The old secret is kept (as previousKeyHash) even with a grace of 0, with its
 * grace already over, so that it is refused as `key_rotated` ("use the new
 * secret") rather than as an unknown key.
 */

interface Rotatable {
  keyHash: string;
  /** Shown in lists, so the audit log may say which prefix replaced which. */
  keyPrefix: string;
  previousKeyExpiresAt: Date | null;
  expiresAt: Date | null;
  kind: KeyKind;
}

interface Target {
  operation: string;
  notFound: () => NotFoundError;
  expired: string;
  find: (tx: Tx) => Promise<Rotatable | null>;
  /** Moves the current secret into previousKeyHash, if it is still `from`; the number of rows changed (0: someone rotated first). */
  swap: (tx: Tx, from: string, to: { keyHash: string; keyPrefix: string; previousKeyExpiresAt: Date }) => Promise<number>;
}

/** POST /api/keys/:id/rotate: a credit or subscription key. */
export async function rotateKey(actor: UserActor, id: string, input: RotateKeyInput, idempotencyKey: string | null = null): Promise<RotatedKey> {
  const where = { id, userId: actor.userId };
  return rotate(actor, id, input, idempotencyKey, {
    operation: "rotateKey",
    notFound: () => new NotFoundError("No key with that ID exists in your account."),
    expired: "This key has expired, so a new secret would be refused as well. Move its expiresAt with PUT /api/keys/:id first, or create a new key.",
    find: async (tx) => {
      const row = await tx.apiKey.findFirst({ where, select: { keyHash: true, keyPrefix: true, previousKeyExpiresAt: true, expiresAt: true, keyType: true } });
      return row && { ...row, kind: row.keyType };
    },
    swap: async (tx, from, to) => (await tx.apiKey.updateMany({ where: { ...where, keyHash: from }, data: { ...to, previousKeyHash: from } })).count,
  });
}

/** POST /api/keys/management/:id/rotate: a management key (only a signed-in session reaches this). */
export async function rotateManagementKey(actor: UserActor, id: string, input: RotateKeyInput, idempotencyKey: string | null = null): Promise<RotatedKey> {
  const where = { id, userId: actor.userId };
  return rotate(actor, id, input, idempotencyKey, {
    operation: "rotateManagementKey",
    notFound: () => new NotFoundError("No management key with that ID exists in your account."),
    // A management key's expiry cannot be moved: a new key is the way.
    expired: "This management key has expired, so a new secret would be refused as well. Create a new management key instead.",
    find: async (tx) => {
      const row = await tx.managementKey.findFirst({ where, select: { keyHash: true, keyPrefix: true, previousKeyExpiresAt: true, expiresAt: true } });
      return row && { ...row, kind: "management" };
    },
    swap: async (tx, from, to) => (await tx.managementKey.updateMany({ where: { ...where, keyHash: from }, data: { ...to, previousKeyHash: from } })).count,
  });
}

async function rotate(actor: UserActor, id: string, input: RotateKeyInput, idempotencyKey: string | null, target: Target): Promise<RotatedKey> {
  const request = idempotencyKey === null ? null : idempotentRequest(actor.userId, idempotencyKey, target.operation, id, input);
  return idempotent<RotatedKey>(request, (hold) => write(actor, (tx, after) => rotateIn(tx, after, id, input, target, hold)));
}

async function rotateIn(tx: Tx, after: After, id: string, input: RotateKeyInput, target: Target, hold: HoldAnswer<RotatedKey>): Promise<RotatedKey> {
  const now = Date.now();
  const key = await target.find(tx);
  if (!key) throw target.notFound();
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now) throw new ConflictError(target.expired, "key_expired");
  const material = newKey(key.kind);
  const previousKeyExpiresAt = new Date(now + input.gracePeriodSeconds * 1000);
  const answer: RotatedKey = {
    id,
    apiKey: material.key,
    keyPrefix: material.prefix,
    previousKeyExpiresAt: input.gracePeriodSeconds > 0 ? previousKeyExpiresAt.toISOString() : null,
  };
  // Before the key changes: a concurrent retry with the same Idempotency-Key waits here for this commit, then reads this answer.
  await hold(tx, answer);
  const changed = await target.swap(tx, key.keyHash, { keyHash: material.hash, keyPrefix: material.prefix, previousKeyExpiresAt });
  if (changed === 0) {
    throw new ConflictError(
      "This key was rotated by another request at the same moment, so this rotation was not applied. Check its prefix in your key list, and rotate again if you still need to (send an Idempotency-Key header to make retries safe).",
      "rotation_conflict",
    );
  }
  // The audit row says which prefix replaced which and until when the old secret works; never a secret or hash.
  after.audit({
    targetId: id,
    changes: diff({ keyPrefix: key.keyPrefix, previousKeyExpiresAt: key.previousKeyExpiresAt }, { keyPrefix: material.prefix, previousKeyExpiresAt }),
  });
  // Every instance forgets both of the key's cached secrets, and the new one stops being "unknown" anywhere.
  after.keyChanged(id);
  after.keyCreated(id, material.hash);
  return answer;
}
