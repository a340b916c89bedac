import { AsyncLocalStorage } from "node:async_hooks";
import type { Prisma } from "@/generated/prisma/client.ts";
import type { Actor } from "@/lib/auth/actor";
import type { AuditDeclaration } from "@/lib/audit/declaration";
import { auditChanges } from "@/lib/audit/changes";

/**
 * Writing audit rows. The unit of work (lib/writes/unit.ts) calls
 * `insertAuditRow` inside its transaction, so a row exists exactly when its
 * change committed; sign-in failures, which change nothing, are written on
 * their own (`recordSignInFailure`).
 */

export type ActorType = "user" | "management_key" | "admin" | "system";

/** What a service declares about its write (`after.audit(…)`); the action comes from the actor's declaration. */
export interface AuditEntry {
  targetId?: string | null;
  /**
   * Whose log the row belongs to. Default: the acting user for a session or
   * a management key; nobody (operator-wide) for the admin and the system,
   * so their writes to a user's things must name the user.
   */
  accountId?: string | null;
  /** Each changed field → [before, after]; secrets are filtered on the way in. */
  changes?: Record<string, [unknown, unknown]>;
  /** An anonymous caller who proved to be this user during the write (sign-up, a password sign-in). */
  by?: string;
  /** Instead of the actor's declaration: for Keygate's own writes that can end more than one way (the sweep renews or expires). */
  action?: string;
  targetType?: string;
}

type Db = Pick<Prisma.TransactionClient, "auditLog">;

/**
 * Who acted, as the log says it: a session is its user, an mk_ is its
 * owner's key, the admin token or an operator's session is `admin`, the
 * sweep and boot are `system`. An anonymous caller is the user it proved to
 * be (`by`: sign-up, a sign-in), or else `system` (Stripe's signed webhook:
 * Keygate crediting a payment on Stripe's word).
 */
export function actorFields(actor: Actor, by?: string): { actorType: ActorType; actorId: string | null } {
  switch (actor.via) {
    case "session":
      return { actorType: "user", actorId: actor.userId };
    case "management-key":
      return { actorType: "management_key", actorId: actor.userId };
    case "admin":
      return { actorType: "admin", actorId: actor.userId };
    case "system":
      return { actorType: "system", actorId: null };
    case "anonymous":
      return by ? { actorType: "user", actorId: by } : { actorType: "system", actorId: null };
  }
}

/** The row of a write, or null when nothing says which action it is (a service called outside any operation, as tests do). */
export async function insertAuditRow(db: Db, actor: Actor, entry: AuditEntry): Promise<boolean> {
  const declared: AuditDeclaration | undefined = actor.audit;
  const action = entry.action ?? declared?.action;
  const targetType = entry.targetType ?? declared?.targetType;
  if (!action || !targetType) return false;
  const { actorType, actorId } = actorFields(actor, entry.by);
  const ownAccount = actor.via === "session" || actor.via === "management-key" ? actor.userId : (entry.by ?? null);
  await db.auditLog.create({
    data: {
      accountId: entry.accountId !== undefined ? entry.accountId : ownAccount,
      actorType,
      actorId,
      managementKeyId: actor.managementKeyId ?? null,
      action,
      targetType,
      targetId: entry.targetId ?? null,
      changes: auditChanges(entry.changes ?? {}),
      ...origin(actor),
    },
  });
  return true;
}

function origin(actor: Actor) {
  return { ip: actor.clientAddress, userAgent: actor.userAgent?.slice(0, 500) ?? null, requestId: actor.requestId };
}

/**
 * A password sign-in that failed: in the attempted account's log when that
 * email has one (never the password), else in the operators' log only.
 * Written outside any transaction: there is no change to roll back with it.
 */
export async function recordSignInFailure(db: Db, actor: Actor, accountId: string | null, reason: "invalid_credentials"): Promise<void> {
  await db.auditLog.create({
    data: {
      accountId,
      // Nobody proved who they are: a user-side attempt with no user.
      actorType: "user",
      actorId: null,
      action: "auth.sign_in_failed",
      targetType: "user",
      targetId: accountId,
      changes: { reason: [null, reason] },
      ...origin(actor),
    },
  });
}

// ---------------------------------------------------------------------------
// Outside production: counting the rows an operation wrote (lib/http/route.ts)

const tally = new AsyncLocalStorage<{ rows: number }>();

/** Runs an operation's handler counting the audit rows its committed writes insert. */
export async function countingAuditRows<T>(run: () => Promise<T>): Promise<{ value: T; rows: number }> {
  const counter = { rows: 0 };
  const value = await tally.run(counter, run);
  return { value, rows: counter.rows };
}

/** Called by the unit of work once a transaction that inserted a row has committed. */
export function auditRowCommitted(): void {
  const counter = tally.getStore();
  if (counter) counter.rows++;
}
