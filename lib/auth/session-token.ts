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

/**
 * True only for the shape NextAuth v4 issues: a five-segment JWE whose
 * protected header is exactly `alg: "dir"`, `enc: "A256GCM"`. jose would also
 * accept other algorithms with the same key, such as PBES2, whose header
 * chooses the key-derivation work (`p2c`) and so lets an anonymous caller make
 * the server burn CPU. Checked before any key is derived.
 */
export function hasSessionTokenHeader(token: string): boolean {
  const segments = token.split(".");
  if (segments.length !== 5) return false;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segments[0], "base64url").toString("utf8"));
  } catch {
    return false;
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return false;
  const { alg, enc, ...rest } = header as Record<string, unknown>;
  return alg === "dir" && enc === "A256GCM" && Object.keys(rest).length === 0;
}

/** next-auth's `decode`, refusing any token NextAuth itself would not have issued. */
export const decodeSessionToken: typeof decode = async (params) => {
  if (!params.token || !hasSessionTokenHeader(params.token)) return null;
  return decode(params);
};

/** The token's claims, or null when it is malformed, forged, expired or of another algorithm. */
export async function readSessionToken(token: string): Promise<JWT | null> {
  try {
    const claims = await decodeSessionToken({ token, secret: authSecret() });
    if (!claims?.sub) return null;
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) return null;
    return claims;
  } catch {
    return null;
  }
}
