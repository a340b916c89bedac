"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/client/api";
import { useToast } from "@/components/ui/toast";
import type { Account, UpdateAccountInput } from "@/lib/auth/schemas";
import type { CreatedWebhook, CreateWebhookInput, DeliveryList, WebhookDeliveryView, WebhookView } from "@/lib/webhooks/schemas";

/** Query-key factories for webhooks and their delivery logs. */
export const webhookQueries = {
  all: ["webhooks"] as const,
  list: () => [...webhookQueries.all, "list"] as const,
  deliveries: (id: string) => [...webhookQueries.all, "deliveries", id] as const,
};

/** A pending delivery's next attempt can come while the log is open. */
export const DELIVERIES_REFRESH_MS = 5_000;

export function useWebhooks() {
  return useQuery({ queryKey: webhookQueries.list(), queryFn: () => apiFetch<WebhookView[]>("/api/webhooks") });
}

export function useDeliveries(webhookId: string | null) {
  return useQuery({
    queryKey: webhookQueries.deliveries(webhookId ?? ""),
    queryFn: async () => (await apiFetch<DeliveryList>(`/api/webhooks/${encodeURIComponent(webhookId!)}/deliveries`)).deliveries,
    enabled: webhookId !== null,
    refetchInterval: (query) => (query.state.status !== "error" ? DELIVERIES_REFRESH_MS : false),
    refetchIntervalInBackground: false,
  });
}

/** The answer holds the signing secret: it lives only in the show-once modal's state, never in the cache (gcTime 0). */
export function useCreateWebhook() {
  const qc = useQueryClient();
  return useMutation({
    gcTime: 0,
    mutationFn: (body: CreateWebhookInput) => apiFetch<CreatedWebhook>("/api/webhooks", { method: "POST", body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: webhookQueries.list() }),
    // No toast: the dialog shows the refusal inline.
  });
}

export function useDeleteWebhook() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (w: WebhookView) => apiFetch<{ deleted: true }>(`/api/webhooks/${encodeURIComponent(w.id)}`, { method: "DELETE" }),
    onSuccess: (_res, w) => {
      toast.success(`Deleted the webhook to ${w.url}.`);
      void qc.invalidateQueries({ queryKey: webhookQueries.all });
    },
    onError: (err) => toast.error(err.message),
  });
}

export function useSendTestEvent() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (w: WebhookView) => apiFetch<WebhookDeliveryView>(`/api/webhooks/${encodeURIComponent(w.id)}/test`, { method: "POST" }),
    onSuccess: (d, w) => {
      if (d.status === "delivered") toast.success(`Test event delivered (HTTP ${d.lastStatusCode}).`);
      else
        toast.error(
          `The test event was not delivered${d.lastStatusCode === null ? " (no answer)" : ` (HTTP ${d.lastStatusCode})`}; it will be retried. See the delivery log.`,
        );
      void qc.invalidateQueries({ queryKey: webhookQueries.deliveries(w.id) });
    },
    onError: (err) => toast.error(err.message),
  });
}

export const accountQueries = { all: ["account"] as const };

export function useAccount() {
  return useQuery({ queryKey: accountQueries.all, queryFn: () => apiFetch<Account>("/api/account") });
}

export function useUpdateAccount() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (body: UpdateAccountInput) => apiFetch<Account>("/api/account", { method: "PUT", body }),
    onSuccess: (account) => {
      toast.success(`Low-balance alert set to $${account.lowBalanceUsd.toLocaleString("en-US", { maximumFractionDigits: 6 })}.`);
      qc.setQueryData(accountQueries.all, account);
    },
    onError: (err) => toast.error(err.message),
  });
}
