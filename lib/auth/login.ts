import type { Actor } from "@/lib/auth/actor";
import { checkCredentials } from "@/lib/auth/users";
import { recordSignInFailure } from "@/lib/audit/record";
import { prisma } from "@/lib/db";
import { write } from "@/lib/writes/unit";
import { consume, LOGIN_FAILURES_PER_EMAIL, LOGIN_FAILURES_PER_IP, reset, reward } from "@/lib/rate-limit";

const TOO_MANY_FROM_IP = "Too many failed sign-ins from your address. Wait 15 minutes and try again.";
const TOO_MANY_FOR_EMAIL = "Too many failed sign-ins for this account. Wait 15 minutes and try again.";

/**
 * Password sign-in for both the form (NextAuth) and POST /api/auth/token.
 *
 * Each attempt spends its points BEFORE the password is checked, in one
 * synchronous step of the limiter. Checking the count first and recording the
 * failure after argon2 would let a parallel burst slip every guess past the
 * check while the first ones are still hashing; spending first means N
 * parallel guesses evaluate at most the limit's worth of passwords.
 *
 * Only failures count in the end: a success gives its point back to the
 * address and clears the account's count, so a script that fetches a token
 * often is never locked out by its own successes. Returns null for wrong
 * credentials; throws 429 while a limit holds, even for the right password.
 *
 * Each checked password leaves an audit row: `auth.sign_in` (the actor
 * carries that declaration: POST /api/auth/token's, or the form's), or
 * `auth.sign_in_failed` in the attempted account's log when the email has
 * one. An attempt the limits refuse checked no password and leaves none.
 */
export async function passwordSignIn(email: string, password: string, actor: Actor) {
  const ip = actor.clientAddress ?? "unknown";
  await consume("login-ip", ip, LOGIN_FAILURES_PER_IP, TOO_MANY_FROM_IP);
  try {
    await consume("login-email", email, LOGIN_FAILURES_PER_EMAIL, TOO_MANY_FOR_EMAIL);
  } catch (err) {
    // No password was checked, so the address has not failed.
    await reward("login-ip", ip, LOGIN_FAILURES_PER_IP);
    throw err;
  }

  let user: Awaited<ReturnType<typeof checkCredentials>>;
  try {
    user = await checkCredentials(email, password);
  } catch (err) {
    // The database failed, not the caller: the attempt does not count.
    await Promise.all([reward("login-ip", ip, LOGIN_FAILURES_PER_IP), reward("login-email", email, LOGIN_FAILURES_PER_EMAIL)]);
    throw err;
  }

  if (user) {
    await Promise.all([reward("login-ip", ip, LOGIN_FAILURES_PER_IP), reset("login-email", email, LOGIN_FAILURES_PER_EMAIL)]);
    // A unit with nothing but its audit row: the caller proved to be this user.
    await write(actor, async (_tx, after) => after.audit({ by: user.id, accountId: user.id, targetId: user.id }));
  } else {
    const db = await prisma();
    const attempted = await db.user.findUnique({ where: { email }, select: { id: true } });
    await recordSignInFailure(db, actor, attempted?.id ?? null, "invalid_credentials");
  }
  return user;
}
