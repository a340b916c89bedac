"use client";

import { useId, useMemo } from "react";
import { useForm, type UseFormRegisterReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field, inputClassName } from "@/components/ui/field";
import { FormFooter } from "@/components/ui/form-footer";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { BLOCK_HOURS, createPoolSchema, PERIOD_DAYS, updatePoolSchema, type CreatePoolInput, type PoolView, type UpdatePoolInput } from "@/lib/pools/schemas";
import { fieldMessages } from "@/lib/client/field-message";

interface PoolFormValues {
  name: string;
  models: string;
  blockHours: string;
  capacity: string;
  pricePerBlockUsd: string;
  active: boolean;
}

const LABELS = { name: "Name", models: "Models", blockHours: "Block length", capacity: "Seats per block", pricePerBlockUsd: "Price per block" } as const;
type FieldName = keyof typeof LABELS;

const fieldMessage = fieldMessages(LABELS);

function numberOrText(s: string): number | string {
  const t = s.trim();
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : t;
}

/** "a, b c" → ["a", "b", "c"]: commas or spaces separate model names (which have no whitespace). */
const modelList = (s: string) => s.split(/[\s,]+/).filter(Boolean);

function initialValues(p: PoolView | null): PoolFormValues {
  return {
    name: p?.name ?? "",
    models: p?.models.join(", ") ?? "",
    blockHours: String(p?.blockHours ?? 6),
    capacity: p ? String(p.capacity) : "",
    pricePerBlockUsd: p ? String(p.pricePerBlockUsd) : "",
    active: p?.active ?? true,
  };
}

const formShape = z.object({
  name: z.string(),
  models: z.string(),
  blockHours: z.string(),
  capacity: z.string(),
  pricePerBlockUsd: z.string(),
  active: z.boolean(),
});

const createFormSchema = formShape
  .transform(
    (v) =>
      ({
        name: v.name,
        models: modelList(v.models),
        blockHours: Number(v.blockHours),
        capacity: numberOrText(v.capacity),
        pricePerBlockUsd: numberOrText(v.pricePerBlockUsd),
      }) as z.input<typeof createPoolSchema>,
  )
  .pipe(createPoolSchema);

/** An edit sends only the fields that changed (a new block length is refused while subscriptions are active, so it is not sent unless changed). */
function editFormSchema(p: PoolView) {
  const before = initialValues(p);
  return (
    formShape
      .transform((v) => {
        const patch: Record<string, unknown> = {};
        if (v.name.trim() !== before.name) patch.name = v.name;
        if (modelList(v.models).join(",") !== p.models.join(",")) patch.models = modelList(v.models);
        if (v.blockHours !== before.blockHours) patch.blockHours = Number(v.blockHours);
        if (v.capacity.trim() !== before.capacity) patch.capacity = numberOrText(v.capacity);
        if (v.pricePerBlockUsd.trim() !== before.pricePerBlockUsd) patch.pricePerBlockUsd = numberOrText(v.pricePerBlockUsd);
        if (v.active !== before.active) patch.active = v.active;
        return patch as z.input<typeof updatePoolSchema>;
      })
      // The API's fields without its "send at least one" rule: nothing changed means no request at all.
      .pipe(z.strictObject(updatePoolSchema.shape))
  );
}

export interface PoolDialogProps {
  open: boolean;
  /** The pool being edited; null to create one. */
  pool: PoolView | null;
  pending: boolean;
  error?: string;
  onClose: () => void;
  onCreate: (body: CreatePoolInput) => void;
  /** Only the fields that changed; never called with an empty patch. */
  onUpdate: (patch: UpdatePoolInput) => void;
}

export function PoolDialog({ open, pool, pending, error, onClose, onCreate, onUpdate }: PoolDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={pool ? `Edit pool “${pool.name}”` : "Create a pool"}
      description={`A pool sells seats in blocks of the UTC day, per ${PERIOD_DAYS}-day period. Subscribers' keys may call its models during their blocks.`}
      testId="pool-dialog"
      className="sm:max-w-2xl"
    >
      {open && <PoolForm key={pool?.id ?? "new"} pool={pool} pending={pending} error={error} onClose={onClose} onCreate={onCreate} onUpdate={onUpdate} />}
    </Dialog>
  );
}

function PoolForm({ pool, pending, error, onClose, onCreate, onUpdate }: Omit<PoolDialogProps, "open">) {
  const schema = useMemo(() => (pool ? editFormSchema(pool) : createFormSchema), [pool]);
  const {
    register,
    handleSubmit,
    formState: { errors, submitCount },
  } = useForm<PoolFormValues, unknown, Record<string, unknown>>({
    resolver: zodResolver(schema as z.ZodType<Record<string, unknown>, PoolFormValues>),
    defaultValues: initialValues(pool),
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);
  const blockId = useId();
  const message = (f: FieldName) => fieldMessage(f, errors[f]?.message);

  return (
    <form
      ref={formRef}
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit((body) => {
        if (!pool) return onCreate(body as CreatePoolInput);
        if (Object.keys(body).length === 0) return onClose();
        onUpdate(body as UpdatePoolInput);
      })}
    >
      <Field label="Name" placeholder="e.g. Night owls" autoComplete="off" autoFocus maxLength={100} error={message("name")} {...register("name")} />
      <Field
        label="Models"
        placeholder="e.g. gpt-4o-mini, claude-3-5-haiku"
        autoComplete="off"
        hint="Model names from the catalogue (or keygate/echo), separated by commas."
        error={message("models")}
        {...register("models")}
      />
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
        <div>
          <label htmlFor={blockId} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Block length
          </label>
          <select
            id={blockId}
            className={inputClassName}
            aria-describedby={pool ? `${blockId}-hint` : undefined}
            aria-invalid={errors.blockHours ? true : undefined}
            {...register("blockHours")}
          >
            {BLOCK_HOURS.map((h) => (
              <option key={h} value={String(h)}>
                {h} {h === 1 ? "hour" : "hours"} ({24 / h} {24 / h === 1 ? "block" : "blocks"} a day)
              </option>
            ))}
          </select>
          {pool && (
            <p id={`${blockId}-hint`} className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
              Only while no subscription is active.
            </p>
          )}
          {errors.blockHours && <p className="mt-1.5 text-xs text-red-700 dark:text-red-400">{message("blockHours")}</p>}
        </div>
        <Field label="Seats per block" inputMode="numeric" autoComplete="off" error={message("capacity")} {...register("capacity")} />
        <Field
          label="Price per block (USD)"
          inputMode="decimal"
          autoComplete="off"
          hint={`Per ${PERIOD_DAYS}-day period.`}
          error={message("pricePerBlockUsd")}
          {...register("pricePerBlockUsd")}
        />
      </div>
      {pool && <ActiveCheckbox register={register("active")} />}
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel={pool ? "Save changes" : "Create pool"} pendingLabel="Saving…" />
    </form>
  );
}

function ActiveCheckbox({ register }: { register: UseFormRegisterReturn }) {
  const id = useId();
  return (
    <div className="flex items-start gap-2">
      <input id={id} type="checkbox" aria-describedby={`${id}-hint`} className="mt-0.5 size-4 accent-indigo-600" {...register} />
      <div>
        <label htmlFor={id} className="text-sm font-medium text-zinc-800 dark:text-zinc-200">
          On sale
        </label>
        <p id={`${id}-hint`} className="text-xs text-zinc-600 dark:text-zinc-400">
          Off: no new sales or renewals, hidden from the Pools page, and its subscriptions&apos; keys stop working.
        </p>
      </div>
    </div>
  );
}
