"use client";

import { useId, useMemo } from "react";
import { useFieldArray, useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, inputClassName } from "@/components/ui/field";
import { FormFooter } from "@/components/ui/form-footer";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { MAX_ROUTES, upsertModelSchema, type ModelView, type RouteInput } from "@/lib/models/schemas";
import type { UpstreamView } from "@/lib/upstreams/schemas";

/** One route as the inputs hold it: text, as typed. */
interface RouteRow {
  upstream: string;
  upstreamModel: string;
  priority: string;
  weight: string;
}

interface RoutesFormValues {
  routes: RouteRow[];
}

function numberOrText(s: string): number | string | undefined {
  const t = s.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** The rows become the API's `routes`, checked by the API's own schema (slugs, ranges, no pair twice). */
function routesFormSchema(model: string) {
  return z
    .object({ routes: z.array(z.object({ upstream: z.string(), upstreamModel: z.string(), priority: z.string(), weight: z.string() })) })
    .transform((v, ctx) => {
      v.routes.forEach((r, i) => {
        if (r.upstream === "") ctx.addIssue({ code: "custom", path: ["routes", i, "upstream"], message: "Choose an upstream" });
      });
      const routes = v.routes.map((r) => {
        const route: Record<string, unknown> = { upstream: r.upstream };
        if (r.upstreamModel.trim() !== "") route.upstreamModel = r.upstreamModel.trim();
        const priority = numberOrText(r.priority);
        const weight = numberOrText(r.weight);
        if (priority !== undefined) route.priority = priority;
        if (weight !== undefined) route.weight = weight;
        return route;
      });
      return { model, routes } as z.input<typeof upsertModelSchema>;
    })
    .pipe(upsertModelSchema);
}

function initialRows(m: ModelView): RouteRow[] {
  return m.routes.map((r) => ({ upstream: r.upstream, upstreamModel: r.upstreamModel ?? "", priority: String(r.priority), weight: String(r.weight) }));
}

const capitalize = (s: string | undefined) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : undefined);

export interface RoutesDialogProps {
  /** The model whose routes are edited; null when closed. */
  model: ModelView | null;
  upstreams: UpstreamView[];
  pending: boolean;
  error?: string;
  onClose: () => void;
  onSave: (body: { model: string; routes: RouteInput[] }) => void;
}

export function RoutesDialog({ model, upstreams, pending, error, onClose, onSave }: RoutesDialogProps) {
  return (
    <Dialog
      open={model !== null}
      onClose={onClose}
      title={model ? `Routes of “${model.model}”` : "Routes"}
      description="Lower priority is tried first; routes of equal priority share traffic by weight. Without routes, the model goes to its provider's environment upstream. Prices stay the model's, whichever route answers."
      testId="routes-dialog"
      className="sm:max-w-3xl"
    >
      {model && <RoutesForm key={model.model} model={model} upstreams={upstreams} pending={pending} error={error} onClose={onClose} onSave={onSave} />}
    </Dialog>
  );
}

function RoutesForm({ model, upstreams, pending, error, onClose, onSave }: RoutesDialogProps & { model: ModelView }) {
  const schema = useMemo(() => routesFormSchema(model.model), [model.model]);
  const {
    register,
    handleSubmit,
    control,
    formState: { errors, submitCount },
  } = useForm<RoutesFormValues, unknown, z.output<typeof schema>>({
    resolver: zodResolver(schema),
    defaultValues: { routes: initialRows(model) },
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);
  const rows = useFieldArray({ control, name: "routes" });
  const idBase = useId();
  // A route may name an upstream the list no longer shows (e.g. an environment one after a restart without it).
  const names = [...new Set([...upstreams.map((u) => u.name), ...model.routes.map((r) => r.upstream)])];
  const inactive = new Set(upstreams.filter((u) => !u.active).map((u) => u.name));
  const routesError = (errors.routes as { message?: string } | undefined)?.message ?? errors.routes?.root?.message;

  return (
    <form ref={formRef} noValidate className="space-y-4" onSubmit={handleSubmit((body) => onSave({ model: body.model, routes: body.routes ?? [] }))}>
      {rows.fields.length === 0 && (
        <p className="rounded-md bg-zinc-50 px-3 py-2 text-sm text-zinc-600 dark:bg-zinc-950/40 dark:text-zinc-400">
          No routes: the model goes to its provider&apos;s environment upstream ({model.provider}).
        </p>
      )}
      <ol className="space-y-3">
        {rows.fields.map((row, i) => {
          const e = errors.routes?.[i];
          const selectId = `${idBase}-upstream-${i}`;
          return (
            <li
              key={row.id}
              data-testid="route-row"
              className="grid grid-cols-2 items-start gap-2 sm:grid-cols-[minmax(0,1.3fr)_minmax(0,1.3fr)_5.5rem_5.5rem_auto]"
            >
              <div>
                <label htmlFor={selectId} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
                  Route {i + 1} upstream
                </label>
                <select
                  id={selectId}
                  className={inputClassName}
                  aria-invalid={e?.upstream ? true : undefined}
                  aria-describedby={e?.upstream ? `${selectId}-error` : undefined}
                  {...register(`routes.${i}.upstream`)}
                >
                  <option value="">Choose…</option>
                  {names.map((n) => (
                    <option key={n} value={n}>
                      {inactive.has(n) ? `${n} (inactive: skipped)` : n}
                    </option>
                  ))}
                </select>
                {e?.upstream && (
                  <p id={`${selectId}-error`} className="mt-1.5 text-xs text-red-700 dark:text-red-400">
                    {capitalize(e.upstream.message)}
                  </p>
                )}
              </div>
              <Field
                label={`Route ${i + 1} upstream model`}
                placeholder={model.upstreamModel ?? model.model}
                autoComplete="off"
                error={capitalize(e?.upstreamModel?.message)}
                {...register(`routes.${i}.upstreamModel`)}
              />
              <Field
                label={`Route ${i + 1} priority`}
                inputMode="numeric"
                placeholder="0"
                autoComplete="off"
                error={capitalize(e?.priority?.message)}
                {...register(`routes.${i}.priority`)}
              />
              <Field
                label={`Route ${i + 1} weight`}
                inputMode="numeric"
                placeholder="1"
                autoComplete="off"
                error={capitalize(e?.weight?.message)}
                {...register(`routes.${i}.weight`)}
              />
              <Button variant="ghost-danger" size="sm" className="sm:mt-7" onClick={() => rows.remove(i)} aria-label={`Remove route ${i + 1}`}>
                Remove
              </Button>
            </li>
          );
        })}
      </ol>
      {rows.fields.length < MAX_ROUTES && (
        <Button variant="secondary" size="sm" onClick={() => rows.append({ upstream: "", upstreamModel: "", priority: "", weight: "" })}>
          Add route
        </Button>
      )}
      {routesError && <p className="text-xs text-red-700 dark:text-red-400">{capitalize(routesError)}</p>}
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        An empty upstream model sends {model.upstreamModel ? <code className="font-mono">{model.upstreamModel}</code> : "the model's own name"}; an empty
        priority is 0 and an empty weight 1.
      </p>
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel="Save routes" pendingLabel="Saving…" />
    </form>
  );
}
