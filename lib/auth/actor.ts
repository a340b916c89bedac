import type { Scope } from "@/lib/keys/scopes";

/**
 * Who is acting, for every write: the account (if any), how they proved it,
 * and where the request came from. lib/http/route.ts builds one per request
 * (requestActor) and hands it to the handler; services take it first, and
 * what follows a committed write (lib/writes/unit.ts) receives it, so the
 * audit log and webhooks can say who did what from where.
 *
 * - `session`: a signed-in user, by the dashboard's cookie or a session token
 *   (`session` says which);
 * - `management-key`: a user's mk_ key (`managementKeyId` names it);
 * - `admin`: the operator: by ADMIN_API_TOKEN (no user), or by the session of
 *   a user KEYGATE_ADMIN_EMAILS lists (`userId` and `session` say whose and
 *   which credential);
 * - `anonymous`: a request no credential was asked of (sign-up, a session
 *   token for a password, Stripe's signed webhook); no user;
 * - `system`: Keygate itself (the subscription sweep, the demo account at
 *   boot); no request, so no address, agent or request id.
 */

import type { AuditDeclaration } from "@/lib/audit/declaration";

export type ActorVia = "session" | "management-key" | "admin" | "anonymous" | "system";

export interface Actor {
  /** The account acting; null for the admin token, anonymous callers and the system. */
  userId: string | null;
  via: ActorVia;
  /** For `session`, and `admin` by an operator's session: which credential carried it. */
  session?: "cookie" | "session-token";
  /** For `management-key`: the key's ID. */
  managementKeyId?: string;
  /** For `management-key`: what the key may do (lib/keys/scopes.ts); the route wrapper checks it. Sessions have none: they are unscoped. */
  scopes?: readonly Scope[];
  /** The client's address as the trusted-proxy rules resolve it (lib/http/node-guards.ts); null without a request. */
  clientAddress: string | null;
  userAgent: string | null;
  /** The X-Request-Id the front server gave the request; null without one. */
  requestId: string | null;
  /** For `system`: what is acting, e.g. "subscription-sweep". */
  process?: string;
  /**
   * What the audit log records for this actor's writes: the operation's
   * declaration (given by lib/http/route.ts), or for Keygate's own writes
   * what they do. Without it a write records nothing.
   */
  audit?: AuditDeclaration;
}

/** An actor with an account: what a session or a management key acts as. */
export type UserActor = Actor & { userId: string };

/** The account and credential a request proved, before the request's own details are added. */
export type Identity =
  | { userId: string; via: "session"; session: "cookie" | "session-token" }
  | { userId: string; via: "management-key"; managementKeyId: string; scopes: readonly Scope[] }
  | { userId: null; via: "admin" | "anonymous" }
  | { userId: string; via: "admin"; session: "cookie" | "session-token" };

/** Keygate acting on its own behalf, outside any request. */
export function systemActor(process: string, audit?: AuditDeclaration): Actor {
  return { userId: null, via: "system", process, clientAddress: null, userAgent: null, requestId: null, ...(audit ? { audit } : {}) };
}
