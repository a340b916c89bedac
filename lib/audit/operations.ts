import { defineOperation } from "@/lib/http/operation";
import { adminAuditQuerySchema, auditListSchema, auditQuerySchema } from "@/lib/audit/schemas";

/** The audit log: your account's, and every account's for operators. */

const PAGING =
  "Newest first, pages of `limit` rows (50 when omitted); follow `nextCursor` for older ones: each row comes once, however many are written while you page. `from` and `to` are ISO dates (a whole UTC day) or date-times, both included; without them, every row.";

const example = {
  success: true,
  data: [
    {
      id: "cm9x2k1q40000aud00001",
      at: "2026-12-07T09:12:44.120Z",
      actorType: "management_key",
      actorId: "cm9x2k1q40000usr00001",
      managementKeyId: "cm9x2k1q40000mk000001",
      action: "key.update",
      targetType: "key",
      targetId: "cm9x2k1q40000key00001",
      changes: { isActive: [true, false] },
      ip: "203.0.113.7",
      userAgent: "curl/8.5.0",
      requestId: "req_5b1f0c3e9a7d4f21",
    },
  ],
  nextCursor: "MTc2NTA5ODc2NDEyMDpjbTl4MmsxcTQwMDAwYXVkMDAwMDE",
};

export const listAudit = defineOperation({
  id: "listAudit",
  method: "GET",
  path: "/api/audit",
  tag: "Audit",
  summary: "Your account's audit log",
  description: `Who changed what in your account, from where: one row per change made through the API or the dashboard (by you, your management keys, an operator, or Keygate itself, such as an auto-renewal), and every sign-in, failed ones included. ${PAGING}`,
  auth: "session-or-mk",
  scope: "audit:read",
  query: auditQuerySchema,
  // The envelope plus a page cursor beside `data`, as GET /api/usage/requests answers.
  response: { status: 200, description: "One page of the audit log.", schema: auditListSchema, shape: "as-is" },
  errors: { 400: "`invalid_cursor`: the cursor is not one this endpoint gave out." },
  examples: { query: { limit: "1", action: "key.update" }, response: example },
});

export const listAllAudit = defineOperation({
  id: "listAllAudit",
  method: "GET",
  path: "/api/admin/audit",
  tag: "Admin",
  summary: "Every account's audit log",
  description: `Every row: each account's, and the operator-wide ones (models, upstreams, pools) with no \`accountId\`; \`accountId\` narrows it to one account. ${PAGING}`,
  auth: "admin",
  query: adminAuditQuerySchema,
  response: { status: 200, description: "One page of the audit log.", schema: auditListSchema, shape: "as-is" },
  errors: { 400: "`invalid_cursor`: the cursor is not one this endpoint gave out." },
  examples: { query: { limit: "1", accountId: "cm9x2k1q40000usr00001" }, response: example },
});
