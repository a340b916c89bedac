import type { Prisma } from "@/generated/prisma/client.ts";
import type { UserActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { BadRequestError } from "@/lib/http/errors";
import { AUDIT_PAGE_SIZE, auditWindow, type AdminAuditQuery, type AuditEntryView, type AuditQuery } from "@/lib/audit/schemas";

/**
 * Reading the audit log, newest first, in keyset pages over (at, id): a
 * user's own account's rows (GET /api/audit), or every row for operators
 * (GET /api/admin/audit). The cursor carries the last row's (at, id), so a
 * row written while someone pages is either newer than the cursor (not in
 * these pages) or older (seen once, in its place).
 */

export async function listOwnAudit(actor: UserActor, q: AuditQuery) {
  return page({ accountId: actor.userId }, q);
}

export async function listAllAudit(q: AdminAuditQuery) {
  return page(q.accountId ? { accountId: q.accountId } : {}, q);
}

async function page(scope: Prisma.AuditLogWhereInput, q: AuditQuery): Promise<{ data: AuditEntryView[]; nextCursor: string | null }> {
  const db = await prisma();
  const w = auditWindow(q.from, q.to);
  const where: Prisma.AuditLogWhereInput[] = [scope];
  if (q.action) where.push(q.action.includes(".") ? { action: q.action } : { action: { startsWith: `${q.action}.` } });
  if (q.targetId) where.push({ targetId: q.targetId });
  if (w.from || w.to) where.push({ at: { gte: w.from, lte: w.to } });
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push({ OR: [{ at: { lt: c.at } }, { at: c.at, id: { lt: c.id } }] });
  }
  const limit = q.limit ?? AUDIT_PAGE_SIZE;
  const rows = await db.auditLog.findMany({ where: { AND: where }, orderBy: [{ at: "desc" }, { id: "desc" }], take: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { data: items.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last.at, last.id) : null };
}

function view(row: Prisma.AuditLogGetPayload<object>): AuditEntryView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actorType: row.actorType as AuditEntryView["actorType"],
    actorId: row.actorId,
    managementKeyId: row.managementKeyId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    changes: (row.changes ?? {}) as AuditEntryView["changes"],
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
  };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}:${id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const m = /^(\d{1,15}):([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) {
    throw new BadRequestError(
      "The cursor is not one this endpoint gave out; start again without it.",
      [{ path: "cursor", message: "cursor is not valid" }],
      "invalid_cursor",
    );
  }
  return { at: new Date(Number(m[1])), id: m[2] };
}
