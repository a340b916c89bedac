"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, apiFetch } from "@/lib/client/api";
import { useToast } from "@/components/ui/toast";
import { subscriptionQueries } from "@/components/subscriptions/use-subscriptions";
import type { PoolView } from "@/lib/pools/schemas";
import type { SubscriptionView } from "@/lib/subscriptions/schemas";

export const poolQueries = {
  all: ["pools"] as const,
  list: () => [...poolQueries.all, "list"] as const,
};

/** Seats sell while the page is open: the strip catches up now and then, and on every return to the tab. */
export const POOLS_REFRESH_MS = 30_000;

export function usePools() {
  return useQuery({
    queryKey: poolQueries.list(),
    queryFn: () => apiFetch<PoolView[]>("/api/pools"),
    refetchInterval: POOLS_REFRESH_MS,
    refetchIntervalInBackground: false,
  });
}

/**
 * POST /api/pools/:id/subscribe. No error toast: the pool's card shows a
 * refusal (a block that filled up, a short balance) beside the blocks it is
 * about. Both refusals mean what the page shows is stale, so it is refetched.
 */
export function useSubscribe() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ pool, blocks }: { pool: PoolView; blocks: number[] }) =>
      apiFetch<SubscriptionView>(`/api/pools/${encodeURIComponent(pool.id)}/subscribe`, { method: "POST", body: { blocks } }),
    onSuccess: (sub) => {
      toast.success(`Subscribed to ${sub.poolName}. Create a key for it under Your subscriptions.`);
      void qc.invalidateQueries({ queryKey: poolQueries.all });
      void qc.invalidateQueries({ queryKey: subscriptionQueries.all });
      void qc.invalidateQueries({ queryKey: ["billing"] });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.status === 409) void qc.invalidateQueries({ queryKey: poolQueries.all });
      if (err instanceof ApiError && err.status === 402) void qc.invalidateQueries({ queryKey: ["billing"] });
    },
  });
}
