import crypto from "node:crypto";
import type { Identity } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { env, isOperatorEmail } from "@/lib/env";
import { bearerToken } from "@/lib/http/bearer";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "@/lib/http/errors";
import { rotatedMessage, touchCachedManagementKey, verifyKey } from "@/lib/keys/verify";
import { readSessionToken, SESSION_COOKIE_NAMES } from "@/lib/auth/session-token";

/**
 * The one auth layer for /api, whatever the route. When an Authorization
 * header is present it is the only credential looked at; otherwise the
 * NextAuth session cookie is.
 */

export type AuthMode = "session" | "session-or-mk";

/** Who a request's credential proves it is: a user, by session (cookie or token) or by management key. */
export type Caller = Extract<Identity, { userId: string }>;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** lastUsedAt is a hint, not an audit log: write it at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export async function resolveCaller(req: Request, mode: AuthMode): Promise<Caller> {
  const header = req.headers.get("authorization");
  if (header !== null) return fromAuthorizationHeader(header, mode);

  const cookieToken = sessionCookie(req.headers.get("cookie"));
  if (!cookieToken) {
    throw new UnauthorizedError(
      "Authentication required: sign in, or send 'Authorization: Bearer <token>' with a session token (POST /api/auth/token) or a management key (mk_…).",
    );
  }
  if (!SAFE_METHODS.has(req.method)) assertSameOrigin(req);
  const userId = await userFromSessionToken(cookieToken);
  return { userId, via: "session", session: "cookie" };
}

async function fromAuthorizationHeader(header: string, mode: AuthMode): Promise<Caller> {
  const token = bearerToken(header);
  if (!token) {
    throw new UnauthorizedError("The Authorization header must be 'Bearer <token>'.");
  }

  if (token.startsWith("sk_")) {
    throw new ForbiddenError(
      "Consumption keys (sk_…) are for inference only. Use a session token or a management key (mk_…) for the management API.",
      "consumption_key_not_allowed",
    );
  }
  if (token.startsWith("mk_")) {
    const caller = await fromManagementKey(token);
    if (mode === "session") {
      // A leaked mk_ must not be able to mint its own successors, so revoking
      // it ends the leak: only a signed-in user manages management keys.
      throw new ForbiddenError(
        "Management keys cannot list, create or delete management keys. Sign in, or use a session token from POST /api/auth/token.",
        "management_key_not_allowed",
      );
    }
    return caller;
  }
  const userId = await userFromSessionToken(token);
  return { userId, via: "session", session: "session-token" };
}

async function fromManagementKey(token: string): Promise<Caller> {
  const now = Date.now();
  // With REDIS_URL, catch up with other instances' key writes first (one GET): a management key
  // deactivated or deleted through another instance is refused here on the very next request.
  const verdict = await verifyKey(token, now, { fresh: true });
  switch (verdict.code) {
    case "malformed_key":
      throw new UnauthorizedError("This is not a valid management key: its checksum does not match. Check that it was copied whole.", "invalid_key");
    case "unknown_key":
      throw new UnauthorizedError("This management key does not exist or has been deleted.", "invalid_key");
    case "key_inactive":
      throw new UnauthorizedError("This management key has been deactivated.", "key_inactive");
    case "key_expired":
      throw new UnauthorizedError("This management key has expired. Create a new one in the dashboard.", "key_expired");
    case "key_rotated":
      throw new UnauthorizedError(rotatedMessage(verdict.key), "key_rotated");
  }
  const key = verdict.key;
  if (key.kind !== "management") throw new UnauthorizedError("This management key does not exist or has been deleted.", "invalid_key");
  if (key.lastUsedAt === null || now - key.lastUsedAt > LAST_USED_RESOLUTION_MS) {
    touchCachedManagementKey(key.id, now);
    const db = await prisma();
    await db.managementKey.updateMany({ where: { id: key.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { userId: key.userId, via: "management-key", managementKeyId: key.id, scopes: key.scopes };
}

async function userFromSessionToken(token: string): Promise<string> {
  return (await sessionUser(token)).id;
}

async function sessionUser(token: string): Promise<{ id: string; email: string }> {
  const claims = await readSessionToken(token);
  if (!claims?.sub) {
    throw new UnauthorizedError("The session token is invalid or has expired. Sign in again, or get a new one from POST /api/auth/token.", "invalid_session");
  }
  const db = await prisma();
  const user = await db.user.findUnique({ where: { id: claims.sub }, select: { id: true, email: true } });
  if (!user) throw new UnauthorizedError("The account for this session no longer exists.", "invalid_session");
  return user;
}

/** The operator's identity: the admin token (no user), or the session of a user KEYGATE_ADMIN_EMAILS lists. */
export type OperatorIdentity = { userId: null; via: "admin" } | { userId: string; via: "admin"; session: "cookie" | "session-token" };

const ADMIN_CREDENTIALS =
  "The admin API needs 'Authorization: Bearer <ADMIN_API_TOKEN>', or the session (cookie or session token) of an operator listed in KEYGATE_ADMIN_EMAILS. Management keys are never accepted here.";

/**
 * Who may call /api/admin/*: the ADMIN_API_TOKEN, or an operator's session
 * (cookie, or session token as a Bearer). Never a management key: a leaked
 * mk_ must not reach the operator's powers. A signed-in user who is not an
 * operator is told the endpoint does not exist (404), as an unknown path
 * would be; without credentials it is 401.
 */
export async function resolveOperator(req: Request): Promise<OperatorIdentity> {
  const e = env();
  if (!e.ADMIN_API_TOKEN && e.KEYGATE_ADMIN_EMAILS.size === 0) {
    throw new NotFoundError(
      "The admin API is disabled. Set ADMIN_API_TOKEN, or KEYGATE_ADMIN_EMAILS for operators who sign in, on the server to enable it.",
      "admin_disabled",
    );
  }
  const header = req.headers.get("authorization");
  if (header !== null) {
    const token = bearerToken(header);
    if (token === null) throw new UnauthorizedError(ADMIN_CREDENTIALS);
    if (e.ADMIN_API_TOKEN && sameSecret(token, e.ADMIN_API_TOKEN)) return { userId: null, via: "admin" };
    if (token.startsWith("mk_") || token.startsWith("sk_")) throw new UnauthorizedError(ADMIN_CREDENTIALS);
    const user = await sessionUser(token).catch(() => {
      throw new UnauthorizedError(ADMIN_CREDENTIALS);
    });
    return asOperator(req, user, "session-token");
  }
  const cookieToken = sessionCookie(req.headers.get("cookie"));
  if (!cookieToken) throw new UnauthorizedError(ADMIN_CREDENTIALS);
  const user = await sessionUser(cookieToken);
  const identity = asOperator(req, user, "cookie");
  if (!SAFE_METHODS.has(req.method)) assertSameOrigin(req);
  return identity;
}

function asOperator(req: Request, user: { id: string; email: string }, session: "cookie" | "session-token"): OperatorIdentity {
  if (!isOperatorEmail(user.email)) {
    // Word for word what an unknown /api path answers (lib/http/route.ts, notFoundRoute).
    throw new NotFoundError(`There is no API endpoint ${req.method} ${new URL(req.url).pathname}. See /docs for the list.`);
  }
  return { userId: user.id, via: "admin", session };
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => crypto.createHash("sha256").update(s).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

function sessionCookie(cookieHeader: string | null): string | null {
  if (!cookieHeader) return null;
  const cookies = new Map<string, string>();
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    cookies.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  for (const name of SESSION_COOKIE_NAMES) {
    const whole = cookies.get(name);
    if (whole) return whole;
    // NextAuth splits cookies over 4 KB into name.0, name.1, …
    const chunks: string[] = [];
    for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`)!);
    if (chunks.length) return chunks.join("");
  }
  return null;
}

/**
 * Next checks Origin only for Server Actions, never for route handlers, so a
 * cookie-authenticated mutation could be forged by another site (CSRF). The
 * whole origin must match (scheme, host and port): an http:// page must not
 * act on an https:// Keygate, nor another port's service on this one.
 */
function assertSameOrigin(req: Request): void {
  const site = req.headers.get("sec-fetch-site");
  const origin = req.headers.get("origin");
  const refuse = () => {
    throw new ForbiddenError(
      "Cross-site request refused: cookie-authenticated changes must come from Keygate's own pages. Scripts should send 'Authorization: Bearer <token>'.",
      "cross_site_request",
    );
  };
  if (site && site !== "same-origin") refuse();
  if (origin) {
    const allowed = new Set<string>();
    const own = serverOrigin(req);
    if (own) allowed.add(own);
    const configured = env().NEXTAUTH_URL;
    if (configured) allowed.add(new URL(configured).origin);
    // An opaque origin ("null") serialises as "null", which never matches.
    if (!allowed.has(originOf(origin) ?? "")) refuse();
  } else if (!site) {
    refuse();
  }
}

/** `scheme://host[:port]`, normalised (default ports dropped, lower case), or null when malformed. */
function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * The origin this request was sent to: the request URL's scheme and the Host
 * header, or, behind a trusted proxy, X-Forwarded-Proto and X-Forwarded-Host.
 * The front server (lib/http/front.ts) deletes those two unless the socket's
 * peer is a proxy TRUST_PROXY names, so when present they are the proxy's.
 * With no TRUST_PROXY they are never read, which also covers requests that
 * did not pass through the front server, where a client could name any
 * origin it likes in them.
 */
export function serverOrigin(req: Request): string | null {
  let scheme = new URL(req.url).protocol.replace(/:$/, "");
  let host = req.headers.get("host");
  if (env().TRUST_PROXY.length > 0) {
    // A chain of proxies lists one value per hop; the first is the client-facing one.
    const first = (name: string) => req.headers.get(name)?.split(",")[0]?.trim() || undefined;
    scheme = first("x-forwarded-proto") ?? scheme;
    host = first("x-forwarded-host") ?? host;
  }
  if (!host || /[/\\?#@\s]/.test(host)) return null;
  return originOf(`${scheme}://${host}`);
}
