import { decode, encode, type JWT } from "next-auth/jwt";
import { authSecret } from "@/lib/env";

/** Sessions last 30 days, for the dashboard cookie and for script tokens alike. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

export const SESSION_COOKIE_NAMES = ["__Secure-next-auth.session-token", "next-auth.session-token"] as const;

/** The same encrypted JWT NextAuth puts in its session cookie. */
export async function issueSessionToken(user: { id: string; email: string; name: string | null }) {
  const token = await encode({
    token: { sub: user.id, email: user.email, name: user.name },
    secret: authSecret(),
    maxAge: SESSION_MAX_AGE_SECONDS,
  });
  return { token, expiresAt: new Date(Date.now() + SESSION_MAX_AGE_SECONDS * 1000) };
}

/** The token's claims, or null when it is malformed, forged or expired. */
export async function readSessionToken(token: string): Promise<JWT | null> {
  try {
    const claims = await decode({ token, secret: authSecret() });
    if (!claims?.sub) return null;
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) return null;
    return claims;
  } catch {
    return null;
  }
}
