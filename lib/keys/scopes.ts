import { z } from "zod";

/**
 * What a management key (mk_…) may do. Each operation a management key can
 * call declares the one scope it needs (lib/http/operation.ts `scope`), and
 * the route wrapper refuses a key without it (403 `insufficient_scope`).
 * Sessions are not scoped: a signed-in user may do everything their account
 * may. Scopes are chosen when the key is created and never change, so a
 * leaked key can do exactly what it was made for and no more.
 *
 * This module imports only zod: the declarations, the services and the
 * dashboard (through lib/keys/schemas.ts) all read the list from here.
 */

export const SCOPES = ["keys:read", "keys:write", "billing:read", "usage:read", "pools:write", "webhooks:write", "audit:read"] as const;

export type Scope = (typeof SCOPES)[number];

/** The known scopes among `given`, in SCOPES order: a name this version does not know (written by a newer one) grants nothing. */
export function knownScopes(given: readonly string[]): Scope[] {
  return SCOPES.filter((s) => given.includes(s));
}

export const scopeSchema = z.enum(SCOPES, {
  // The default message lists the options without saying which value was wrong; name both.
  error: (issue) => `'${String(issue.input)}' is not a scope; the valid scopes are ${SCOPES.join(", ")}`,
});

/** What each scope allows, in words, for the dashboard's checkboxes and the reference. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  "keys:read": "List consumption keys and the models they can call.",
  "keys:write": "Create, change and delete consumption keys.",
  "billing:read": "Read the account, balance, ledger, pools and subscriptions; start a card top-up.",
  "usage:read": "Read usage totals and the request log.",
  "pools:write": "Subscribe to pools, renew subscriptions and set their auto-renewal (spends credit).",
  "webhooks:write": "List, create, test and delete webhooks, and set the low-balance alert threshold.",
  "audit:read": "Read the account's audit log.",
};

/** The checkboxes' groups in the dashboard, in reading order; every scope is in exactly one. */
export const SCOPE_GROUPS: ReadonlyArray<{ label: string; scopes: readonly Scope[] }> = [
  { label: "Consumption keys", scopes: ["keys:read", "keys:write"] },
  { label: "Billing and usage", scopes: ["billing:read", "usage:read", "pools:write"] },
  { label: "Alerts and audit", scopes: ["webhooks:write", "audit:read"] },
];

/** True when the key holds every scope there is (shown as "all" in lists). */
export function hasAllScopes(scopes: readonly string[]): boolean {
  return SCOPES.every((s) => scopes.includes(s));
}
