"use client";

import { useId } from "react";
import { useQuery } from "@tanstack/react-query";
import { apiFetch } from "@/lib/client/api";
import type { AvailableModel } from "@/lib/models/schemas";

export const modelQueries = {
  available: () => ["models", "available"] as const,
};

/** GET /api/models: the active models a key can be allowed. */
export function useAvailableModels() {
  return useQuery({ queryKey: modelQueries.available(), queryFn: () => apiFetch<AvailableModel[]>("/api/models"), staleTime: 60_000 });
}

export interface ModelAllowlistFieldProps {
  /** null: every model (the API's null); else the chosen models. */
  value: string[] | null;
  onChange: (value: string[] | null) => void;
  error?: string;
}

/** The schema's message for an empty list speaks API ("send null"); the form says it in the dialog's words. */
export function allowlistMessage(message: string | undefined): string | undefined {
  if (!message) return undefined;
  return /must not be empty/.test(message) ? "Choose at least one model, or All models." : message;
}

const radioClass = "h-4 w-4 border-zinc-300 text-indigo-600 focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-600";

/**
 * A credit key's "Models": all of them (the default), or the ones ticked.
 * Native radios and checkboxes in a fieldset, so the keyboard and screen
 * readers get what they expect. A chosen model that is no longer active is
 * still listed, so saving the form never drops it unseen.
 */
export function ModelAllowlistField({ value, onChange, error }: ModelAllowlistFieldProps) {
  const id = useId();
  const models = useAvailableModels();
  const chosen = value ?? [];
  const names = [...new Set([...(models.data ?? []).map((m) => m.model), ...chosen])].sort((a, b) => a.localeCompare(b));
  const toggle = (name: string, on: boolean) => onChange(on ? [...chosen, name] : chosen.filter((n) => n !== name));

  return (
    <fieldset aria-describedby={error ? `${id}-error` : undefined} data-testid="model-allowlist">
      <legend className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">Models</legend>
      <div className="flex flex-wrap gap-x-6 gap-y-2 text-sm text-zinc-800 dark:text-zinc-200">
        <label className="flex items-center gap-2">
          <input type="radio" name={`${id}-mode`} className={radioClass} checked={value === null} onChange={() => onChange(null)} />
          All models
        </label>
        <label className="flex items-center gap-2">
          <input type="radio" name={`${id}-mode`} className={radioClass} checked={value !== null} onChange={() => onChange(chosen)} />
          Only the models chosen
        </label>
      </div>
      {value !== null && (
        <div className="mt-2 max-h-40 overflow-y-auto rounded-md border border-zinc-200 p-2 dark:border-zinc-800">
          {models.isPending && <p className="text-xs text-zinc-600 dark:text-zinc-400">Loading models…</p>}
          {models.isError && <p className="text-xs text-red-700 dark:text-red-400">The model list could not be loaded: {models.error.message}</p>}
          <ul className="grid grid-cols-1 gap-1 sm:grid-cols-2">
            {names.map((name) => (
              <li key={name}>
                <label className="flex items-center gap-2 text-sm text-zinc-800 dark:text-zinc-200">
                  <input
                    type="checkbox"
                    className="h-4 w-4 rounded border-zinc-300 text-indigo-600 focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-600"
                    checked={chosen.includes(name)}
                    onChange={(e) => toggle(name, e.target.checked)}
                  />
                  <span className="truncate font-mono text-xs">{name}</span>
                </label>
              </li>
            ))}
          </ul>
        </div>
      )}
      {error ? (
        <p id={`${id}-error`} className="mt-1.5 text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : (
        <p className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">Any other model is refused (403) for this key.</p>
      )}
    </fieldset>
  );
}
