"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, apiFetch } from "@/lib/client/api";
import { patchCachedRow, restoreCachedList } from "@/lib/client/query-client";
import { useToast } from "@/components/ui/toast";
import { formatDate } from "@/components/ui/format";
import { keyQueries } from "@/components/keys/use-keys";
import type { SubscriptionView } from "@/lib/subscriptions/schemas";

export const subscriptionQueries = {
  all: ["subscriptions"] as const,
  list: () => [...subscriptionQueries.all, "list"] as const,
};

export function useSubscriptions() {
  return useQuery({
    queryKey: subscriptionQueries.list(),
    queryFn: () => apiFetch<SubscriptionView[]>("/api/subscriptions"),
  });
}

/** PUT /api/subscriptions/:id {autoRenew}: the switch flips at once and flips back if the server refuses. */
export function useSetAutoRenew() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ id, autoRenew }: { id: string; autoRenew: boolean }) =>
      apiFetch<SubscriptionView>(`/api/subscriptions/${encodeURIComponent(id)}`, { method: "PUT", body: { autoRenew } }),
    onMutate: ({ id, autoRenew }) => patchCachedRow<SubscriptionView>(qc, subscriptionQueries.list(), id, (s) => ({ ...s, autoRenew })),
    onError: (err, _vars, saved) => {
      restoreCachedList(qc, subscriptionQueries.list(), saved);
      toast.error(err.message);
    },
    onSuccess: (sub) =>
      toast.success(
        sub.autoRenew
          ? `Auto-renew is on for ${sub.poolName}: the next period is charged to your credit balance when this one ends.`
          : `Auto-renew is off for ${sub.poolName}: it ends ${formatDate(sub.periodEnd)} unless you renew it.`,
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: subscriptionQueries.all }),
  });
}

/** POST /api/subscriptions/:id/renew. No error toast: the renew dialog shows a refusal (a short balance) inline. */
export function useRenewSubscription() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (sub: Pick<SubscriptionView, "id">) => apiFetch<SubscriptionView>(`/api/subscriptions/${encodeURIComponent(sub.id)}/renew`, { method: "POST" }),
    onSuccess: (sub) => {
      toast.success(`Renewed ${sub.poolName} until ${formatDate(sub.periodEnd)}.`);
      void qc.invalidateQueries({ queryKey: subscriptionQueries.all });
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: ["billing"] });
    },
    onError: (err) => {
      if (err instanceof ApiError && err.status === 402) void qc.invalidateQueries({ queryKey: ["billing"] });
    },
  });
}

/**
 * POST /api/keys/subscription. The secret lives only in this mutation's
 * result and the modal's state (gcTime 0), as with credit keys.
 */
export function useCreateSubscriptionKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: (sub: Pick<SubscriptionView, "id" | "poolName">) =>
      apiFetch<{ id: string; apiKey: string; isActive: boolean }>("/api/keys/subscription", {
        method: "POST",
        body: { subscriptionId: sub.id },
      }),
    onSuccess: (_key, sub) => {
      toast.success(`Created a key for ${sub.poolName}.`);
      void qc.invalidateQueries({ queryKey: subscriptionQueries.all });
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: ["billing", "status"] });
    },
    onError: (err) => {
      toast.error(err.message);
      // A subscription that lapsed since the list was read: show it as it is.
      void qc.invalidateQueries({ queryKey: subscriptionQueries.all });
    },
  });
}
