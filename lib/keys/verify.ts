import { announce, onInvalidation, sync } from "@/lib/cluster/coherence";
import { redisEnabled } from "@/lib/cluster/redis";
import { sharedCache } from "@/lib/cache/epoch-cache";
import { prisma } from "@/lib/db";
import { hashKey, parseKey, type KeyKind } from "@/lib/keys/format";
import { knownScopes, type Scope } from "@/lib/keys/scopes";
import type { BudgetPeriod } from "@/lib/limits/periods";

/**
 * Key verification, once, for every caller: the gateway (sk_), the
 * management API's auth layer (mk_) and POST /api/keys/verify. It answers
 * with a reason code and never throws an HTTP error; each caller maps the
 * code to its own error shape.
 *
 * Cost: a bad checksum is refused with no I/O. A key seen once is answered
 * from memory. A well-formed key that does not exist is remembered as
 * unknown (a bounded list), so random keys cannot hammer the database.
 *
 * Revocation: every write to a key (pause, delete, limit or expiry change)
 * declares it to its unit of work (lib/writes/unit.ts), which calls
 * invalidateKey() after commit and before the API answers: this process drops the entry at
 * once, and with REDIS_URL the change is announced to every other instance
 * (lib/cluster/coherence.ts), whose next admission sees it. The cache is
 * lib/cache/epoch-cache.ts (one per process, whichever copy of lib/ asks).
 * Expiry is checked on every request against the
 * cached expiresAt, so it needs no invalidation.
 *
 * Rotation: a key has at most two secrets, its current one (keyHash) and,
 * after a rotation, the one it replaced (previousKeyHash) until
 * previousKeyExpiresAt. Each secret's hash has its own cache entry, and the
 * entry read for the previous secret carries that instant (`graceEndsAt`),
 * judged on every request like expiresAt: the grace ends on every instance at
 * the same moment without any invalidation, and never outlives the key's own
 * pause, expiry or deletion, which are judged on the same record. A rotation
 * is a write to the key (every hash of it is forgotten) and a creation (its
 * new hash is no longer "unknown").
 */

export type VerifyCode = "valid" | "malformed_key" | "unknown_key" | "key_inactive" | "key_expired" | "key_rotated";

export interface ConsumptionKeyRecord {
  kind: "credit" | "subscription";
  id: string;
  userId: string;
  isActive: boolean;
  expiresAt: number | null;
  maxBudgetMicros: number | null;
  /** The settled spend when the row was read (the limits store keeps the live figure). */
  spendMicros: number;
  /** maxBudget applies per calendar period (UTC) when set (lib/limits/periods.ts), and since when. */
  budgetPeriod: BudgetPeriod | null;
  budgetPeriodSetAt: number | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** A credit key's model allowlist; null: every model. */
  allowedModels: readonly string[] | null;
  subscriptionId: string | null;
  /** Set when this record was read for the secret a rotation replaced: that secret works until then (ms). */
  graceEndsAt?: number;
}

export interface ManagementKeyRecord {
  kind: "management";
  id: string;
  userId: string;
  isActive: boolean;
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** Checked by the route wrapper on every call; cached with the rest, so checking costs no read. */
  scopes: readonly Scope[];
  /** As on ConsumptionKeyRecord: the replaced secret's end of grace, on its record only. */
  graceEndsAt?: number;
}

export type KeyRecord = ConsumptionKeyRecord | ManagementKeyRecord;

export type VerifyResult = { ok: true; code: "valid"; key: KeyRecord } | { ok: false; code: Exclude<VerifyCode, "valid">; key?: KeyRecord; kind?: KeyKind };

/** Unknown keys remembered at most this many, oldest forgotten first. */
const NEGATIVE_CAPACITY = 10_000;
const NEGATIVE_TTL_MS = 10 * 60_000;

interface KeyIndex {
  /** Key id → hashes of its cached records (its current secret, and its previous one during a grace), so a write to a row by id finds every entry. */
  hashById: Map<string, Set<string>>;
  /** Hashes of well-formed keys that do not exist → until when that is believed. */
  unknown: Map<string, number>;
}

const records = () => sharedCache<string, KeyRecord | null>("keys");
const globalForKeys = globalThis as unknown as { __keygateKeyIndex?: KeyIndex };

function index(): KeyIndex {
  return (globalForKeys.__keygateKeyIndex ??= { hashById: new Map(), unknown: new Map() });
}

/**
 * The verdict on a key. With REDIS_URL, other instances' key writes must be
 * seen too (lib/cluster/coherence.ts): a refusal from this process's cache is
 * checked once more after catching up (one GET), so a key created or
 * reactivated elsewhere works at once; `fresh` catches up before any verdict,
 * for callers whose acceptance no later step re-checks (management keys,
 * POST /api/keys/verify, GET /v1/models). The gateway's inference path needs
 * no `fresh`: its admission script refuses a stale revision itself.
 */
export async function verifyKey(token: string, now = Date.now(), opts: { fresh?: boolean } = {}): Promise<VerifyResult> {
  if (opts.fresh) await sync();
  const verdict = await verifyCached(token, now);
  if (verdict.ok || verdict.code === "malformed_key" || opts.fresh || !redisEnabled()) return verdict;
  await sync();
  return verifyCached(token, now);
}

async function verifyCached(token: string, now: number): Promise<VerifyResult> {
  const kind = parseKey(token);
  if (!kind) return { ok: false, code: "malformed_key" };
  const hash = hashKey(token);
  let key: KeyRecord | null | undefined = records().peek(hash);
  if (!key) {
    const unknownUntil = index().unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > now) return { ok: false, code: "unknown_key", kind };
    key = await records().get(
      hash,
      () => read(hash, kind),
      (record) => remember(hash, record),
    );
  }
  if (!key) return { ok: false, code: "unknown_key", kind };
  return judge(key, now);
}

/** The verdict on a known key at `now`. */
export function judge(key: KeyRecord, now: number): VerifyResult {
  // The replaced secret is dead once its grace is over, whatever the key's state: say so, so its holder looks for the new one.
  if (key.graceEndsAt !== undefined && key.graceEndsAt <= now) return { ok: false, code: "key_rotated", key };
  if (!key.isActive) return { ok: false, code: "key_inactive", key };
  if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, code: "key_expired", key };
  return { ok: true, code: "valid", key };
}

/** Both unique hashes in one statement: a secret is a key's current one or, after a rotation, its previous one. */
const byEitherHash = (hash: string) => ({ OR: [{ keyHash: hash }, { previousKeyHash: hash }] });

/** For the replaced secret's record: when its grace ends (the row keeps the instant even after it has passed). */
function grace(row: { keyHash: string; previousKeyExpiresAt: Date | null }, hash: string): { graceEndsAt?: number } {
  return row.keyHash === hash ? {} : { graceEndsAt: row.previousKeyExpiresAt?.getTime() ?? 0 };
}

/** What the holder of a replaced secret is told once its grace is over, on /v1 and by the management API alike. */
export function rotatedMessage(key: KeyRecord | undefined): string {
  const ended = key?.graceEndsAt ? ` Its grace period ended at ${new Date(key.graceEndsAt).toISOString()}.` : "";
  return `This key was rotated; use the new secret.${ended}`;
}

async function read(hash: string, kind: KeyKind): Promise<KeyRecord | null> {
  const db = await prisma();
  if (kind === "management") {
    const row = await db.managementKey.findFirst({
      where: byEitherHash(hash),
      select: { id: true, userId: true, isActive: true, expiresAt: true, lastUsedAt: true, scopes: true, keyHash: true, previousKeyExpiresAt: true },
    });
    if (!row) return null;
    return {
      kind: "management",
      id: row.id,
      userId: row.userId,
      isActive: row.isActive,
      expiresAt: row.expiresAt?.getTime() ?? null,
      lastUsedAt: row.lastUsedAt?.getTime() ?? null,
      scopes: knownScopes(row.scopes),
      ...grace(row, hash),
    };
  }
  const row = await db.apiKey.findFirst({ where: byEitherHash(hash) });
  // The prefix says sk_live_ or sk_pool_; a row of the other type would be a forgery, not a key.
  if (!row || row.keyType !== kind) return null;
  return {
    kind: row.keyType,
    id: row.id,
    userId: row.userId,
    isActive: row.isActive,
    expiresAt: row.expiresAt?.getTime() ?? null,
    maxBudgetMicros: row.maxBudgetMicros === null ? null : Number(row.maxBudgetMicros),
    spendMicros: Number(row.spendMicros),
    budgetPeriod: row.budgetPeriod,
    budgetPeriodSetAt: row.budgetPeriodSetAt?.getTime() ?? null,
    rpmLimit: row.rpmLimit,
    tpmLimit: row.tpmLimit,
    allowedModels: row.allowedModels.length ? row.allowedModels : null,
    subscriptionId: row.subscriptionId,
    ...grace(row, hash),
  };
}

function remember(hash: string, record: KeyRecord | null): void {
  const { hashById, unknown } = index();
  if (record) {
    records().set(hash, record);
    let hashes = hashById.get(record.id);
    if (!hashes) hashById.set(record.id, (hashes = new Set()));
    hashes.add(hash);
    unknown.delete(hash);
    return;
  }
  if (unknown.size >= NEGATIVE_CAPACITY) {
    const oldest = unknown.keys().next();
    if (!oldest.done) unknown.delete(oldest.value);
  }
  unknown.set(hash, Date.now() + NEGATIVE_TTL_MS);
}

/**
 * Call after every write to a key's row (pause, delete, limits, expiry) and
 * await it before answering: the next request, on any instance, reads the
 * row again.
 */
export async function invalidateKey(id: string): Promise<void> {
  forgetKey(id);
  await announce("key", id);
}

/** Forgets every secret of the key: after a rotation its previous secret's entry must go too (its grace, or its end, is in the row). */
function forgetKey(id: string): void {
  const hashes = index().hashById.get(id);
  index().hashById.delete(id);
  // forget(undefined) still bumps the epoch: a read of this key in flight is not kept.
  if (!hashes?.size) return records().forget(undefined);
  for (const hash of hashes) records().forget(hash);
}

/** Call when a key is created: an earlier guess of exactly this key must not stay "unknown", here or on another instance. */
export async function keyCreated(hash: string): Promise<void> {
  forgetUnknown(hash);
  await announce("keyHash", hash);
}

function forgetUnknown(hash: string): void {
  records().forget(undefined);
  index().unknown.delete(hash);
}

function forgetAll(): void {
  records().clear();
  index().hashById.clear();
  index().unknown.clear();
}

onInvalidation("key", forgetKey, forgetAll);
onInvalidation("keyHash", forgetUnknown, forgetAll);

/** Records a management key's lastUsedAt in the cached row (the row itself is written at most once a minute). */
export function touchCachedManagementKey(id: string, at: number): void {
  for (const hash of index().hashById.get(id) ?? []) {
    const record = records().peek(hash);
    if (record?.kind === "management") record.lastUsedAt = at;
  }
}
