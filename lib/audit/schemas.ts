import { z } from "zod";
import { queryInteger } from "@/lib/keys/schemas";
import { cursorListOf, cursorParam, instantParam } from "@/lib/usage/schemas";

/**
 * GET /api/audit and GET /api/admin/audit: their query strings and answers.
 * Shared with the dashboard's Audit pages.
 */

export const AUDIT_PAGE_SIZE = 50;
export const ACTOR_TYPES = ["user", "management_key", "admin", "system"] as const;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

const instant = (name: "from" | "to") =>
  instantParam(
    name,
    name === "from"
      ? "Only rows at or after this: an ISO date (the start of that UTC day) or date-time."
      : "Only rows at or before this: an ISO date (the end of that UTC day) or date-time.",
  );

/** The instants `from` and `to` stand for (a date `to` is the end of its UTC day); either may be absent. */
export function auditWindow(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  return {
    from: from === undefined ? undefined : new Date(from),
    to: to === undefined ? undefined : DATE_ONLY.test(to) ? new Date(new Date(to).getTime() + DAY_MS - 1) : new Date(to),
  };
}

const ID = /^[A-Za-z0-9_./:-]+$/;

const auditQueryFields = {
  limit: queryInteger("limit", 1, 200)
    .optional()
    .meta({ description: `Page size, 1 to 200; ${AUDIT_PAGE_SIZE} when omitted.` }),
  cursor: cursorParam("The `nextCursor` of the previous page."),
  action: z
    .string()
    .max(64, "action is at most 64 characters")
    .regex(/^[a-z_]+(\.[a-z_]+)?$/, "action must look like key.update, or be a resource alone (key) for all of its actions")
    .optional()
    .meta({ description: "Only this action (`key.update`), or every action on a resource (`key`)." }),
  targetId: z
    .string()
    .max(200, "targetId is at most 200 characters")
    .regex(ID, "targetId is not a valid ID")
    .optional()
    .meta({ description: "Only rows about this key, user, model, upstream, pool, subscription or webhook ID (a model by its name)." }),
  from: instant("from").optional(),
  to: instant("to").optional(),
};

const windowed = (q: { from?: string; to?: string }, ctx: z.RefinementCtx) => {
  const w = auditWindow(q.from, q.to);
  if (w.from && w.to && w.from > w.to) ctx.addIssue({ code: "custom", path: ["from"], message: "from must not be after to" });
};

export const auditQuerySchema = z.object(auditQueryFields).superRefine(windowed);

export const adminAuditQuerySchema = z
  .object({
    ...auditQueryFields,
    accountId: z
      .string()
      .max(64, "accountId is not a valid ID")
      .regex(/^[A-Za-z0-9_-]+$/, "accountId is not a valid ID")
      .optional()
      .meta({ description: "Only rows in this account's log." }),
  })
  .superRefine(windowed);

export const auditEntrySchema = z
  .strictObject({
    id: z.string(),
    at: z.iso.datetime(),
    actorType: z.enum(ACTOR_TYPES).meta({
      description:
        "`user` (a session, or someone signing up or in), `management_key` (an mk_ key: `managementKeyId` names it), `admin` (the admin token, or an operator's session: then `actorId` is theirs), `system` (Keygate itself: the subscription sweep, a Stripe payment, boot).",
    }),
    actorId: z.string().nullable().meta({ description: "The acting user's ID; null for the admin token, the system, and a failed sign-in." }),
    managementKeyId: z.string().nullable(),
    action: z.string().meta({ description: "`<resource>.<verb>`, e.g. `key.update`; docs/api.md lists them all." }),
    targetType: z.string(),
    targetId: z.string().nullable(),
    changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).meta({
      description:
        "Each changed field → `[before, after]` (null for a field a create adds or a delete removes). Secrets never appear: a secret that changed shows as `[secret]`.",
    }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable().meta({ description: "The request's `X-Request-Id`, to find it in the server log." }),
  })
  .meta({ id: "AuditEntry", description: "One row of the audit log." });

export const auditListSchema = cursorListOf(auditEntrySchema);

export type AuditQuery = z.output<typeof auditQuerySchema>;
export type AdminAuditQuery = z.output<typeof adminAuditQuerySchema>;
export type AuditEntryView = z.infer<typeof auditEntrySchema>;
