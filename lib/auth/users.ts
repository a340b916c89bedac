import type { Actor, UserActor } from "@/lib/auth/actor";
import { isUniqueViolation, prisma } from "@/lib/db";
import { ConflictError, NotFoundError } from "@/lib/http/errors";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { Account, PublicUser, SignUpInput, UpdateAccountInput } from "@/lib/auth/schemas";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { isOperatorEmail } from "@/lib/env";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";

export async function signUp(actor: Actor, input: SignUpInput, outer?: Tx): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await write(
      actor,
      async (tx, after) => {
        const created = await tx.user.create({ data: { email: input.email, name: input.name ?? null, passwordHash } });
        // The new user signs themselves up: the row is theirs, and they are its actor.
        after.audit({ by: created.id, accountId: created.id, targetId: created.id, changes: diff(null, pick(created, ["email", "name"])) });
        return created;
      },
      outer,
    );
    return toPublicUser(user);
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new ConflictError("An account with this email already exists. Sign in instead.", "email_taken");
    }
    throw err;
  }
}

/** The user for these credentials, or null. Takes the same time whether or not the email exists. */
export async function checkCredentials(email: string, password: string) {
  const db = await prisma();
  const user = await db.user.findUnique({ where: { email } });
  const valid = await verifyPassword(user?.passwordHash ?? null, password);
  return valid && user ? { id: user.id, email: user.email, name: user.name } : null;
}

export function toPublicUser(user: { id: string; email: string; name: string | null; createdAt: Date }): PublicUser {
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() };
}

/** The caller's own account, and whether these credentials are an operator's (a session, never a management key). */
export async function getAccount(actor: UserActor): Promise<Account> {
  const db = await prisma();
  const user = await db.user.findUnique({ where: { id: actor.userId }, select: ACCOUNT_FIELDS });
  if (!user) throw new NotFoundError("This account no longer exists.");
  return accountView(actor, user);
}

const ACCOUNT_FIELDS = { id: true, email: true, name: true, createdAt: true, lowBalanceMicros: true } as const;

function accountView(actor: UserActor, user: { id: string; email: string; name: string | null; createdAt: Date; lowBalanceMicros: bigint }): Account {
  return { ...toPublicUser(user), isOperator: actor.via === "session" && isOperatorEmail(user.email), lowBalanceUsd: microsToUsd(user.lowBalanceMicros) };
}

/** PUT /api/account: the account's settings (the low-balance alert's threshold). */
export async function updateAccount(actor: UserActor, input: UpdateAccountInput, outer?: Tx): Promise<Account> {
  const user = await write(
    actor,
    async (tx, after) => {
      const before = await tx.user.findUnique({ where: { id: actor.userId }, select: ACCOUNT_FIELDS });
      const { count } = await tx.user.updateMany({ where: { id: actor.userId }, data: { lowBalanceMicros: usdToMicros(input.lowBalanceUsd) } });
      if (!count || !before) throw new NotFoundError("This account no longer exists.");
      const updated = await tx.user.findUniqueOrThrow({ where: { id: actor.userId }, select: ACCOUNT_FIELDS });
      const lowBalanceUsd = (u: typeof before) => ({ lowBalanceUsd: microsToUsd(u.lowBalanceMicros) });
      after.audit({ targetId: actor.userId, changes: diff(lowBalanceUsd(before), lowBalanceUsd(updated)) });
      return updated;
    },
    outer,
  );
  return accountView(actor, user);
}
