"use client";

import { useIsMutating, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, apiFetch } from "@/lib/client/api";
import { patchCachedRow, restoreCachedList } from "@/lib/client/query-client";
import { useToast } from "@/components/ui/toast";
import type { BillingStatus } from "@/lib/billing/schemas";
import type { ApiKeyView, ManagementKeyView, RotatedKey, Scope } from "@/lib/keys/schemas";
import { auditQueries } from "@/components/audit/use-audit";

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

/** How often the open list refreshes: the gateway writes each key's spend and lastUsedAt about once a second. */
export const KEYS_REFRESH_MS = 5_000;

const updateKeyMutation = [...keyQueries.all, "update"] as const;

export function useKeys() {
  // An optimistic edit is on screen while it saves: a poll that read the list
  // before the save landed would flip it back for a moment, so polls wait.
  const saving = useIsMutating({ mutationKey: updateKeyMutation }) > 0;
  return useQuery({
    queryKey: keyQueries.list(),
    queryFn: () => apiFetch<ApiKeyView[]>("/api/keys"),
    // Spend and "last used" move while the page is open; a hidden tab asks nothing.
    // A list that failed to load waits for "Try again": a poll would swap the
    // error for the loading rows every few seconds, taking the button away.
    refetchInterval: (query) => (saving || query.state.status === "error" ? false : KEYS_REFRESH_MS),
    refetchIntervalInBackground: false,
  });
}

export interface CreateCreditKeyBody {
  name: string;
  maxBudget?: number;
  rpm?: number;
  tpm?: number;
  allowedModels?: string[] | null;
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
    mutationFn: (body: CreateCreditKeyBody) => apiFetch<ApiKeyView & { apiKey: string }>("/api/keys/credit", { method: "POST", body }),
    onSuccess: (key) => {
      toast.success(`Created key “${key.name}”.`);
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: billingQueries.status() });
    },
    // No toast: the create dialog shows the refusal inline, where it is seen
    // and announced (the page behind the modal is inert), and once is enough.
    // A 402 means the balance shown is stale (spent elsewhere): refetch it, so
    // the page's no-credit notice appears.
    onError: (err) => {
      if (err instanceof ApiError && err.status === 402) void qc.invalidateQueries({ queryKey: billingQueries.status() });
    },
  });
}

/** PUT /api/keys/:id. Null clears maxBudget, tpm and expiresAt; a subscription key takes only name and isActive. */
export interface UpdateKeyBody {
  name?: string;
  isActive?: boolean;
  maxBudget?: number | null;
  rpm?: number;
  tpm?: number | null;
  allowedModels?: string[] | null;
  expiresAt?: string | Date | null;
}

export interface MutationErrorOptions {
  /**
   * The caller shows the error itself, inside its dialog: no toast, so the
   * same error is never shown twice.
   */
  inlineErrors?: boolean;
}

/** The list as it will be once `patch` is saved, shown before the server answers. */
function applyKeyPatch(k: ApiKeyView, patch: UpdateKeyBody): ApiKeyView {
  return {
    ...k,
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.isActive !== undefined && { isActive: patch.isActive }),
    ...(patch.maxBudget !== undefined && { maxBudget: patch.maxBudget }),
    ...(patch.rpm !== undefined && { rpmLimit: patch.rpm }),
    ...(patch.tpm !== undefined && { tpmLimit: patch.tpm }),
    ...(patch.allowedModels !== undefined && { allowedModels: patch.allowedModels }),
    ...(patch.expiresAt !== undefined && { expiresAt: patch.expiresAt === null ? null : new Date(patch.expiresAt).toISOString() }),
  };
}

function updatedMessage(name: string, patch: { name?: string; isActive?: boolean }, what: string): string {
  if (patch.isActive === false) return `Paused ${what}“${name}”: it is refused from the next request on.`;
  if (patch.isActive === true) return `Resumed ${what}“${name}”.`;
  if (Object.keys(patch).length === 1 && patch.name !== undefined) return `Renamed ${what}to “${name}”.`;
  return `Saved changes to ${what}“${name}”.`;
}

export function useUpdateKey({ inlineErrors = false }: MutationErrorOptions = {}) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationKey: updateKeyMutation,
    mutationFn: ({ id, patch }: { id: string; patch: UpdateKeyBody }) =>
      apiFetch<ApiKeyView>(`/api/keys/${encodeURIComponent(id)}`, { method: "PUT", body: patch }),
    // Optimistic: the switch flips at once and rolls back if the server refuses.
    onMutate: ({ id, patch }) => patchCachedRow<ApiKeyView>(qc, keyQueries.list(), id, (k) => applyKeyPatch(k, patch)),
    onError: (err, _vars, saved) => {
      restoreCachedList(qc, keyQueries.list(), saved);
      if (!inlineErrors) toast.error(err.message);
    },
    onSuccess: (key, { patch }) => toast.success(updatedMessage(key.name, patch, "")),
    onSettled: () => Promise.all([qc.invalidateQueries({ queryKey: keyQueries.all }), qc.invalidateQueries({ queryKey: auditQueries.all })]),
  });
}

export function useDeleteKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (key: { id: string; name: string }) => apiFetch<{ deleted: true }>(`/api/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" }),
    onSuccess: (_res, key) => {
      toast.success(`Deleted “${key.name}”. It no longer works.`);
      void qc.invalidateQueries({ queryKey: keyQueries.all });
      void qc.invalidateQueries({ queryKey: billingQueries.status() });
    },
    onError: (err) => toast.error(err.message),
  });
}

/** What a rotation sends: the grace, and one Idempotency-Key per dialog opening, so a double submit or a retry never rotates twice. */
export interface RotateKeyVars {
  key: { id: string; name: string };
  gracePeriodSeconds: number;
  idempotencyKey: string;
}

/**
 * POST /api/keys/:id/rotate or /api/keys/management/:id/rotate. The new
 * secret lives only in this mutation's result and the modal's state, as a
 * created key's does (gcTime 0).
 */
function useRotate(base: string, listKey: readonly string[], what: string) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    gcTime: 0,
    mutationFn: ({ key, gracePeriodSeconds, idempotencyKey }: RotateKeyVars) =>
      apiFetch<RotatedKey>(`${base}/${encodeURIComponent(key.id)}/rotate`, {
        method: "POST",
        body: { gracePeriodSeconds },
        headers: { "Idempotency-Key": idempotencyKey },
      }),
    onSuccess: (_res, { key }) => {
      toast.success(`Rotated ${what}“${key.name}”.`);
      void qc.invalidateQueries({ queryKey: listKey });
    },
    // No toast: the rotate dialog shows the refusal inline.
  });
}

export function useRotateKey() {
  return useRotate("/api/keys", keyQueries.all, "");
}

export function useRotateManagementKey() {
  return useRotate("/api/keys/management", managementKeyQueries.all, "billing key ");
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
    mutationFn: (body: { name: string; expiresAt?: string; scopes: Scope[] }) =>
      apiFetch<{ id: string; name: string; keyPrefix: string; scopes: Scope[]; apiKey: string }>("/api/keys/management", { method: "POST", body }),
    onSuccess: (key) => {
      toast.success(`Created billing key “${key.name}”.`);
      void qc.invalidateQueries({ queryKey: managementKeyQueries.all });
    },
    // No toast: the create dialog shows the refusal inline (see useCreateCreditKey).
  });
}

export function useDeleteManagementKey() {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (key: { id: string; name: string }) => apiFetch<{ deleted: true }>(`/api/keys/management/${encodeURIComponent(key.id)}`, { method: "DELETE" }),
    onSuccess: (_res, key) => {
      toast.success(`Deleted billing key “${key.name}”. It no longer works.`);
      void qc.invalidateQueries({ queryKey: managementKeyQueries.all });
    },
    onError: (err) => toast.error(err.message),
  });
}

/**
 * PUT /api/keys/management/:id (session only). A paused mk_ gets 401 from its
 * next request on.
 */
export function useUpdateManagementKey({ inlineErrors = false }: MutationErrorOptions = {}) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: { name?: string; isActive?: boolean } }) =>
      apiFetch<ManagementKeyView>(`/api/keys/management/${encodeURIComponent(id)}`, { method: "PUT", body: patch }),
    onMutate: ({ id, patch }) => patchCachedRow<ManagementKeyView>(qc, managementKeyQueries.list(), id, (k) => ({ ...k, ...patch })),
    onError: (err, _vars, saved) => {
      restoreCachedList(qc, managementKeyQueries.list(), saved);
      if (!inlineErrors) toast.error(err.message);
    },
    onSuccess: (key, { patch }) =>
      toast.success(
        patch.isActive === false
          ? `Paused billing key “${key.name}”: scripts using it get 401 from their next request on.`
          : updatedMessage(key.name, patch, "billing key "),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: managementKeyQueries.all }),
  });
}

export function useBillingStatus() {
  return useQuery({ queryKey: billingQueries.status(), queryFn: () => apiFetch<BillingStatus>("/api/billing/status") });
}
