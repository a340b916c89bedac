import { checkCredentials } from "@/lib/auth/users";
import {
  assertNotExhausted,
  LOGIN_FAILURES_PER_EMAIL,
  LOGIN_FAILURES_PER_IP,
  penalise,
  reset,
} from "@/lib/rate-limit";

/**
 * Password sign-in for both the form (NextAuth) and POST /api/auth/token.
 * Only failures count against the limits, so a script that fetches a token
 * often is never locked out by its own successes; a success clears the
 * account's failure count. Returns null for wrong credentials; throws 429
 * while a limit holds, even for the right password.
 */
export async function passwordSignIn(email: string, password: string, ip: string) {
  await assertNotExhausted("login-ip", ip, LOGIN_FAILURES_PER_IP, "Too many failed sign-ins from your address. Wait 15 minutes and try again.");
  await assertNotExhausted("login-email", email, LOGIN_FAILURES_PER_EMAIL, "Too many failed sign-ins for this account. Wait 15 minutes and try again.");
  const user = await checkCredentials(email, password);
  if (user) {
    await reset("login-email", email, LOGIN_FAILURES_PER_EMAIL);
    return user;
  }
  await Promise.all([
    penalise("login-ip", ip, LOGIN_FAILURES_PER_IP),
    penalise("login-email", email, LOGIN_FAILURES_PER_EMAIL),
  ]);
  return null;
}
