"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { apiRequest, type ApiResult } from "@/lib/client/api";
import type { AuditEntryView } from "@/lib/audit/schemas";

/**
 * The audit log's pages: the caller's own (GET /api/audit) or, for
 * operators, everyone's (GET /api/admin/audit). "Load more" asks for the
 * next page only (cursor paging), never the pages already shown.
 */

export type AuditScope = "own" | "admin";

export interface AuditFilters {
  action?: string;
  targetId?: string;
  /** YYYY-MM-DD: whole UTC days, both included. */
  from?: string;
  to?: string;
  /** Operators only: one account's rows. */
  accountId?: string;
}

export const auditQueries = {
  all: ["audit"] as const,
  list: (scope: AuditScope, f: AuditFilters) =>
    [...auditQueries.all, scope, f.action ?? null, f.targetId ?? null, f.from ?? null, f.to ?? null, f.accountId ?? null] as const,
};

export function auditQuery(f: AuditFilters, cursor: string | null): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  if (cursor) q.set("cursor", cursor);
  return q.toString();
}

export function useAuditLog(scope: AuditScope, f: AuditFilters) {
  const path = scope === "admin" ? "/api/admin/audit" : "/api/audit";
  return useInfiniteQuery({
    queryKey: auditQueries.list(scope, f),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }): Promise<ApiResult<AuditEntryView[]>> => {
      const q = auditQuery(f, pageParam);
      return apiRequest<AuditEntryView[]>(`${path}${q ? `?${q}` : ""}`);
    },
    getNextPageParam: (last) => last.nextCursor,
    // A change made a moment ago in another tab should be there when the page is opened.
    staleTime: 0,
  });
}
