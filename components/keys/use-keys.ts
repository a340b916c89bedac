"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/client/api";
import { useToast } from "@/components/ui/toast";
import type { BillingStatus } from "@/lib/billing/schemas";
import type { ApiKeyView, ManagementKeyView } from "@/lib/keys/schemas";

/** Query-key factories: one place names every cache entry of a feature. */
export const keyQueries = {
  all: ["keys"] as const,
  list: () => [...keyQueries.all, "list"] as const,
};

export const managementKeyQueries = {
  all: ["management-keys"] as const,
  list: () => [...managementKeyQueries.all, "list"] as const,
};

export const billingQueries = {
  status: () => ["billing", "status"] as const,
};

export function useKeys() {
  return useQuery({ queryKey: keyQueries.list(), queryFn: () => apiFetch<ApiKeyView[]>("/api/keys") });
}

export interface CreateCreditKeyBody {
  name: string;
  maxBudget?: number;
  rpm?: number;
  tpm?: number;
  expiresAt?: string;
}

/**
 * The created secret lives only in this mutation's result and the modal's
 * state: gcTime 0 drops the finished mutation from TanStack's cache as soon
 * as the modal lets go of it, and the list it invalidates never holds keys.
 */
export function useCreateCreditKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: (body: CreateCreditKeyBody) =>
      apiFetch<ApiKeyView & { apiKey: string }>("/api/keys/credit", { method: "POST", body }),
    onSuccess: (key) => {
      toast.success(`Created key “${key.name}”.`);
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: billingQueries.status() });
    },
    onError: (err) => toast.error(err.message),
  });
}

export function useUpdateKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: { name?: string; isActive?: boolean } }) =>
      apiFetch<ApiKeyView>(`/api/keys/${encodeURIComponent(id)}`, { method: "PUT", body: patch }),
    // Optimistic: the switch flips at once and rolls back if the server refuses.
    onMutate: async ({ id, patch }) => {
      await qc.cancelQueries({ queryKey: keyQueries.list() });
      const previous = qc.getQueryData<ApiKeyView[]>(keyQueries.list());
      qc.setQueryData<ApiKeyView[]>(keyQueries.list(), (keys) => keys?.map((k) => (k.id === id ? { ...k, ...patch } : k)));
      return { previous };
    },
    onError: (err, _vars, ctx) => {
      if (ctx?.previous) qc.setQueryData(keyQueries.list(), ctx.previous);
      toast.error(err.message);
    },
    onSuccess: (key, { patch }) => {
      if (patch.isActive === false) toast.success(`Paused “${key.name}”: it is refused from the next request on.`);
      else if (patch.isActive === true) toast.success(`Resumed “${key.name}”.`);
      else toast.success(`Renamed to “${key.name}”.`);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keyQueries.all }),
  });
}

export function useDeleteKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (key: { id: string; name: string }) =>
      apiFetch<{ deleted: true }>(`/api/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" }),
    onSuccess: (_res, key) => {
      toast.success(`Deleted “${key.name}”. It no longer works.`);
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: billingQueries.status() });
    },
    onError: (err) => toast.error(err.message),
  });
}

export function useManagementKeys() {
  return useQuery({
    queryKey: managementKeyQueries.list(),
    queryFn: () => apiFetch<ManagementKeyView[]>("/api/keys/management"),
  });
}

export function useCreateManagementKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: (body: { name: string; expiresAt?: string }) =>
      apiFetch<{ id: string; name: string; keyPrefix: string; apiKey: string }>("/api/keys/management", { method: "POST", body }),
    onSuccess: (key) => {
      toast.success(`Created management key “${key.name}”.`);
      void qc.invalidateQueries({ queryKey: managementKeyQueries.all });
    },
    onError: (err) => toast.error(err.message),
  });
}

export function useDeleteManagementKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (key: { id: string; name: string }) =>
      apiFetch<{ deleted: true }>(`/api/keys/management/${encodeURIComponent(key.id)}`, { method: "DELETE" }),
    onSuccess: (_res, key) => {
      toast.success(`Deleted management key “${key.name}”. It no longer works.`);
      void qc.invalidateQueries({ queryKey: managementKeyQueries.all });
    },
    onError: (err) => toast.error(err.message),
  });
}

export function useBillingStatus() {
  return useQuery({ queryKey: billingQueries.status(), queryFn: () => apiFetch<BillingStatus>("/api/billing/status") });
}
