"use client";

import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { apiFetch, apiRequest } from "@/lib/client/api";
import type { LedgerEntryView } from "@/lib/billing/schemas";

export const ledgerQueries = {
  all: ["billing", "ledger"] as const,
  list: () => [...ledgerQueries.all, "list"] as const,
};

/** Rows per "Load more". */
export const LEDGER_PAGE = 25;

/**
 * GET /api/billing/ledger, newest first, a page at a time. `data` is every
 * loaded entry in order, so the table reads it like any list.
 */
export function useLedger(options: { refetchInterval?: number | false } = {}) {
  return useInfiniteQuery({
    queryKey: ledgerQueries.list(),
    queryFn: ({ pageParam }) =>
      apiRequest<LedgerEntryView[]>(`/api/billing/ledger?limit=${LEDGER_PAGE}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ""}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    select: (data) => data.pages.flatMap((p) => p.data),
    refetchInterval: options.refetchInterval,
  });
}

/**
 * POST /api/billing/checkout, then off to Stripe's payment page. The page
 * is left on success, so the mutation never settles into "done" on screen;
 * a refusal is shown by the dialog.
 */
export function useCheckout() {
  return useMutation({
    mutationFn: (body: { amountUsd: number }) => apiFetch<{ id: string; url: string }>("/api/billing/checkout", { method: "POST", body }),
    onSuccess: ({ url }) => window.location.assign(url),
  });
}
