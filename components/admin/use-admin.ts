"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/client/api";
import { useToast } from "@/components/ui/toast";
import { poolQueries } from "@/components/pools/use-pools";
import type { CreateUpstreamInput, UpdateUpstreamInput, UpstreamTestResult, UpstreamView } from "@/lib/upstreams/schemas";
import type { ModelView, UpsertModelInput } from "@/lib/models/schemas";
import type { CreatePoolInput, PoolView, UpdatePoolInput } from "@/lib/pools/schemas";

/** Query-key factories for the Admin section. */
export const upstreamQueries = {
  all: ["admin", "upstreams"] as const,
  list: () => [...upstreamQueries.all, "list"] as const,
};

export const adminModelQueries = {
  all: ["admin", "models"] as const,
  list: () => [...adminModelQueries.all, "list"] as const,
};

/** Health (cooldowns, the last five minutes' counts) moves while the page is open. */
export const UPSTREAMS_REFRESH_MS = 10_000;

export function useUpstreams({ poll = false }: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: upstreamQueries.list(),
    queryFn: () => apiFetch<UpstreamView[]>("/api/admin/upstreams"),
    // A list that failed to load waits for "Try again" (see useKeys).
    refetchInterval: (query) => (poll && query.state.status !== "error" ? UPSTREAMS_REFRESH_MS : false),
    refetchIntervalInBackground: false,
  });
}

/**
 * The API key and header values go to the server and nowhere else: the
 * mutation is dropped from the cache at once (gcTime 0) and the answer holds
 * only the key's last four characters and the header names.
 */
export function useCreateUpstream() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: (body: CreateUpstreamInput) => apiFetch<UpstreamView>("/api/admin/upstreams", { method: "POST", body }),
    onSuccess: (u) => {
      toast.success(`Added upstream “${u.name}”.`);
      void qc.invalidateQueries({ queryKey: upstreamQueries.all });
    },
    // No toast: the dialog shows the refusal inline.
  });
}

export function useUpdateUpstream() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: ({ id, patch }: { id: string; patch: UpdateUpstreamInput }) =>
      apiFetch<UpstreamView>(`/api/admin/upstreams/${encodeURIComponent(id)}`, { method: "PUT", body: patch }),
    onSuccess: (u) => {
      toast.success(`Saved upstream “${u.name}”.`);
      void qc.invalidateQueries({ queryKey: upstreamQueries.all });
      // A rename moves the routes that name it.
      void qc.invalidateQueries({ queryKey: adminModelQueries.all });
    },
  });
}

export function useDeleteUpstream() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (u: { id: string; name: string }) => apiFetch<{ deleted: true }>(`/api/admin/upstreams/${encodeURIComponent(u.id)}`, { method: "DELETE" }),
    onSuccess: (_res, u) => {
      toast.success(`Deleted upstream “${u.name}”.`);
      void qc.invalidateQueries({ queryKey: upstreamQueries.all });
    },
    // No toast: the confirmation dialog stays open and says why (409 while routes use it).
  });
}

/** POST /api/admin/upstreams/{id}/test: one read-only request with the stored key; the result (never the key) is shown, not cached. */
export function useTestUpstream() {
  return useMutation({
    gcTime: 0,
    mutationFn: (u: { id: string }) => apiFetch<UpstreamTestResult>(`/api/admin/upstreams/${encodeURIComponent(u.id)}/test`, { method: "POST" }),
  });
}

export function useAdminModels() {
  return useQuery({ queryKey: adminModelQueries.list(), queryFn: () => apiFetch<ModelView[]>("/api/admin/models") });
}

/**
 * POST /api/admin/models: creates a model (every field) or changes the fields
 * sent; the API keeps what is omitted, so saving routes sends only the name
 * and the routes, and an edit of prices leaves the routes alone.
 */
export function useUpsertModel() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (body: UpsertModelInput) => apiFetch<ModelView>("/api/admin/models", { method: "POST", body }),
    onSuccess: (m, body) => {
      toast.success(body.routes !== undefined && Object.keys(body).length === 2 ? `Saved the routes of “${m.model}”.` : `Saved model “${m.model}”.`);
      void qc.invalidateQueries({ queryKey: adminModelQueries.all });
    },
    // No toast: the dialogs show the refusal inline.
  });
}

export const adminPoolQueries = {
  all: ["admin", "pools"] as const,
  list: () => [...adminPoolQueries.all, "list"] as const,
};

/** Every pool, on sale or not, with the seats left in each block. */
export function useAdminPools() {
  return useQuery({ queryKey: adminPoolQueries.list(), queryFn: () => apiFetch<PoolView[]>("/api/admin/pools") });
}

/** Creates a pool (no id) or changes the fields sent (with its id). */
export function useSavePool() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (vars: { id: null; body: CreatePoolInput } | { id: string; body: UpdatePoolInput }) =>
      vars.id === null
        ? apiFetch<PoolView>("/api/admin/pools", { method: "POST", body: vars.body })
        : apiFetch<PoolView>(`/api/admin/pools/${encodeURIComponent(vars.id)}`, { method: "PUT", body: vars.body }),
    onSuccess: (p, vars) => {
      toast.success(vars.id === null ? `Created pool “${p.name}”.` : `Saved pool “${p.name}”.`);
      void qc.invalidateQueries({ queryKey: adminPoolQueries.all });
      // The pools people see (GET /api/pools) changed too.
      void qc.invalidateQueries({ queryKey: poolQueries.all });
    },
    // No toast: the dialog shows the refusal inline.
  });
}
