"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { apiFetch, apiRequest, type ApiResult } from "@/lib/client/api";
import type { UsageReport, UsageRequest } from "@/lib/usage/schemas";

/**
 * The usage screens' data: one cache entry per question asked, so the
 * Overview, the Usage page and a key's detail share what they both ask
 * (the 30-day daily chart is one request wherever it is drawn).
 */

export type UsageGroup = "day" | "key" | "model";

export interface UsageParams {
  groupBy: UsageGroup;
  /** Days in the window, ending today (UTC): the API's default is 30. */
  days?: number;
  keyId?: string;
}

export interface RequestLogFilters {
  keyId?: string;
  model?: string;
  status?: number;
}

export const usageQueries = {
  all: ["usage"] as const,
  report: (p: UsageParams) => [...usageQueries.all, "report", p.groupBy, p.days ?? 30, p.keyId ?? null] as const,
  requests: (f: RequestLogFilters) => [...usageQueries.all, "requests", f.keyId ?? null, f.model ?? null, f.status ?? null] as const,
};

/** Usage changes as the gateway writes it (about once a second); a minute is fresh enough for a chart. */
const USAGE_STALE_MS = 30_000;

const DAY_MS = 86_400_000;

/** The first UTC day of a window of `days` days ending today, YYYY-MM-DD. */
export function windowStart(days: number, now = Date.now()): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString().slice(0, 10);
}

/** Every UTC day of the window, oldest first: the chart shows the days without requests as zero. */
export function windowDays(days: number, now = Date.now()): string[] {
  const first = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  return Array.from({ length: days }, (_, i) => new Date(first + i * DAY_MS).toISOString().slice(0, 10));
}

function usageUrl(p: UsageParams): string {
  const q = new URLSearchParams({ groupBy: p.groupBy });
  if (p.days !== undefined && p.days !== 30) q.set("from", windowStart(p.days));
  if (p.keyId) q.set("keyId", p.keyId);
  return `/api/usage?${q}`;
}

export function useUsage(p: UsageParams) {
  return useQuery({ queryKey: usageQueries.report(p), queryFn: () => apiFetch<UsageReport>(usageUrl(p)), staleTime: USAGE_STALE_MS });
}

/** The request log's query string for these filters; `format=csv` for the download. */
export function requestLogQuery(f: RequestLogFilters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.keyId) q.set("keyId", f.keyId);
  if (f.model) q.set("model", f.model);
  if (f.status !== undefined) q.set("status", String(f.status));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

/**
 * The request log, a page at a time: "Load more" asks for the next page only
 * (cursor paging), never the pages already shown.
 */
export function useRequestLog(f: RequestLogFilters) {
  return useInfiniteQuery({
    queryKey: usageQueries.requests(f),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }): Promise<ApiResult<UsageRequest[]>> => {
      const q = requestLogQuery(f, pageParam ? { cursor: pageParam } : {});
      return apiRequest<UsageRequest[]>(`/api/usage/requests${q ? `?${q}` : ""}`);
    },
    getNextPageParam: (last) => last.nextCursor,
    staleTime: USAGE_STALE_MS,
  });
}
