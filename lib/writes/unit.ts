import type { Prisma } from "@/generated/prisma/client.ts";
import type { Actor } from "@/lib/auth/actor";
import { auditRowCommitted, insertAuditRow, type AuditEntry } from "@/lib/audit/record";
import { prisma } from "@/lib/db";
import { invalidateKey, keyCreated } from "@/lib/keys/verify";
import { accountBalanceChanged } from "@/lib/limits";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { logger } from "@/lib/ops/logger";
import { invalidatePool, invalidateSubscription } from "@/lib/subscriptions/cache";
import { upstreamsChanged } from "@/lib/upstreams/registry";

/**
 * The unit of work every write goes through. `write(actor, work)` runs
 * `work` in one database transaction; what the write changes for the rest of
 * Keygate (a key cache entry, the catalogue, the upstreams, a pool, a
 * subscription, an account's balance) is declared on `after` as it happens, and carried out
 * only once the transaction has committed: never for a write that rolled
 * back, and always before `write` returns, so a key paused by an API call is
 * refused from the very next request, on every instance.
 *
 * A service called with a transaction (`tx`) of an enclosing `write` joins
 * that unit: its consequences run once, after the outer commit.
 *
 * The audit log is written here too: the service declares what it changed
 * (`after.audit({ targetId, accountId, changes })`), the actor carries the
 * operation's action (lib/http/route.ts), and the unit inserts one row in
 * the same transaction, just before it commits. A write that rolls back
 * leaves no row; a unit joined by nested services still writes one.
 *
 * Later features observe committed writes with onCommitted(): each listener
 * hears the actor and the consequences of every unit that committed.
 */

export type Tx = Prisma.TransactionClient;

/** What a committed write changed, for the caches that must follow and for listeners. */
export type Consequence =
  | { kind: "key.created"; keyId: string; keyHash: string }
  | { kind: "key.changed"; keyId: string }
  | { kind: "key.deleted"; keyId: string }
  | { kind: "model.changed"; model: string }
  | { kind: "upstream.changed"; name: string }
  | { kind: "pool.changed"; poolId: string }
  | { kind: "subscription.changed"; subscriptionId: string }
  | { kind: "balance.changed"; userId: string; deltaMicros: bigint };

type ConsequenceKind = Consequence["kind"];
type Of<K extends ConsequenceKind> = Extract<Consequence, { kind: K }>;

interface Effect<K extends ConsequenceKind> {
  /** Consequences with the same key need their effect once per unit; none: every one counts (a balance delta). */
  once?: (c: Of<K>) => string;
  run: (c: Of<K>) => Promise<void>;
}

/** The one place where a consequence meets its effect. */
const EFFECTS: { [K in ConsequenceKind]: Effect<K> } = {
  "key.created": { once: (c) => `keyHash:${c.keyHash}`, run: (c) => keyCreated(c.keyHash) },
  "key.changed": { once: (c) => `key:${c.keyId}`, run: (c) => invalidateKey(c.keyId) },
  "key.deleted": { once: (c) => `key:${c.keyId}`, run: (c) => invalidateKey(c.keyId) },
  "model.changed": { once: () => "catalogue", run: () => invalidateCatalogue() },
  "upstream.changed": { once: () => "upstreams", run: () => upstreamsChanged() },
  "pool.changed": { once: (c) => `pool:${c.poolId}`, run: (c) => invalidatePool(c.poolId) },
  "subscription.changed": { once: (c) => `subscription:${c.subscriptionId}`, run: (c) => invalidateSubscription(c.subscriptionId) },
  "balance.changed": { run: (c) => accountBalanceChanged(c.userId, c.deltaMicros) },
};

/** Declares, inside a write, what its commit changes. */
export interface After {
  keyCreated(keyId: string, keyHash: string): void;
  keyChanged(keyId: string): void;
  keyDeleted(keyId: string): void;
  modelChanged(model: string): void;
  /** An upstream was created, changed or deleted (by its name; a rename declares both names). */
  upstreamChanged(name: string): void;
  poolChanged(poolId: string): void;
  subscriptionChanged(subscriptionId: string): void;
  balanceChanged(userId: string, deltaMicros: bigint): void;
  /**
   * Declares the unit's audit row: its target, whose log it is in, and the
   * changed fields as [before, after]. Called again (a nested service), the
   * first target stays and the changes are merged. See lib/audit/record.ts.
   */
  audit(entry: AuditEntry): void;
  /**
   * Runs once the unit has ended, committed (after its consequences) or
   * rolled back: for what a write holds outside the database until its
   * outcome is known (a balance hold in the limits store).
   */
  settled(cleanup: () => Promise<void>): void;
}

export interface CommittedWrite {
  actor: Actor;
  consequences: readonly Consequence[];
}

export type CommitListener = (committed: CommittedWrite) => void | Promise<void>;

interface Unit {
  actor: Actor;
  consequences: Consequence[];
  cleanups: Array<() => Promise<void>>;
  /** The audit row declared so far, if any. */
  audit: { entry?: AuditEntry };
  after: After;
}

/** The unit each open transaction belongs to, so a nested service call joins it. */
const units = new WeakMap<Tx, Unit>();

// On globalThis: Next bundles its own copy of lib/, and a listener registered by one copy must hear writes made through the other.
const globalForWrites = globalThis as unknown as { __keygateCommitListeners?: Set<CommitListener> };
const listeners = (globalForWrites.__keygateCommitListeners ??= new Set());

/**
 * Runs `work` as one unit of work for `actor`. With `outer` (the transaction
 * of an enclosing write), `work` runs in it and its consequences join that
 * unit; otherwise a transaction is opened, and after its commit the declared
 * consequences are carried out and the listeners told, before this returns.
 */
export async function write<T>(actor: Actor, work: (tx: Tx, after: After) => Promise<T>, outer?: Tx): Promise<T> {
  if (outer) {
    const unit = units.get(outer);
    if (!unit) throw new Error("write(): this transaction was not opened by write(), so the consequences of the work in it would be lost");
    return work(outer, unit.after);
  }
  const unit = newUnit(actor);
  try {
    const db = await prisma();
    let audited = false;
    const value = await db.$transaction(async (tx) => {
      units.set(tx, unit);
      const result = await work(tx, unit.after);
      // Last statement of the transaction: the row commits with the change, or not at all.
      if (unit.audit.entry) audited = await insertAuditRow(tx, actor, unit.audit.entry);
      return result;
    });
    if (audited) auditRowCommitted();
    await committed(unit);
    return value;
  } finally {
    for (const cleanup of unit.cleanups.splice(0)) await cleanup();
  }
}

/** Hears every committed unit, after its consequences ran. Returns the function that stops listening. */
export function onCommitted(listener: CommitListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function newUnit(actor: Actor): Unit {
  const consequences: Consequence[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const add = (c: Consequence) => void consequences.push(c);
  const audit: Unit["audit"] = {};
  const after: After = {
    keyCreated: (keyId, keyHash) => add({ kind: "key.created", keyId, keyHash }),
    keyChanged: (keyId) => add({ kind: "key.changed", keyId }),
    keyDeleted: (keyId) => add({ kind: "key.deleted", keyId }),
    modelChanged: (model) => add({ kind: "model.changed", model }),
    upstreamChanged: (name) => add({ kind: "upstream.changed", name }),
    poolChanged: (poolId) => add({ kind: "pool.changed", poolId }),
    subscriptionChanged: (subscriptionId) => add({ kind: "subscription.changed", subscriptionId }),
    balanceChanged: (userId, deltaMicros) => add({ kind: "balance.changed", userId, deltaMicros }),
    settled: (cleanup) => void cleanups.push(cleanup),
    audit: (entry) => {
      const first = audit.entry;
      audit.entry = first ? { ...entry, ...first, changes: { ...entry.changes, ...first.changes } } : entry;
    },
  };
  return { actor, consequences, cleanups, audit, after };
}

/**
 * Carries out a committed unit's consequences, each effect once, in the order
 * declared. Every effect is tried even if one fails (the write has committed,
 * so the others must still follow); the first failure is then thrown, as a
 * writer's own invalidation failing was before.
 */
async function committed(unit: Unit): Promise<void> {
  const done = new Set<string>();
  let failure: { err: unknown } | undefined;
  for (const c of unit.consequences) {
    const effect = EFFECTS[c.kind] as Effect<ConsequenceKind>;
    const key = effect.once?.(c);
    if (key !== undefined) {
      if (done.has(key)) continue;
      done.add(key);
    }
    try {
      await effect.run(c);
    } catch (err) {
      failure ??= { err };
    }
  }
  const event: CommittedWrite = { actor: unit.actor, consequences: [...unit.consequences] };
  for (const listener of listeners) {
    try {
      await listener(event);
    } catch (err) {
      // A listener cannot undo a committed write; it must not fail the caller's request either.
      logger().error(`a commit listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failure) throw failure.err;
}
