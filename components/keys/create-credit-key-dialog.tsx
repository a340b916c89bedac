"use client";

import { Controller, useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { localInputToIso } from "@/components/ui/format";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { createCreditKeySchema } from "@/lib/keys/schemas";
import type { CreateCreditKeyBody } from "@/components/keys/use-keys";
import { FormFooter } from "@/components/ui/form-footer";
import { BudgetPeriodSelect } from "@/components/keys/budget-period-select";
import { allowlistMessage, ModelAllowlistField } from "@/components/keys/model-allowlist-field";

export interface CreateCreditKeyDialogProps {
  open: boolean;
  pending: boolean;
  /**
   * The API's refusal of the last submit, shown inside the dialog, where it
   * is seen and announced while the modal makes the rest of the page inert.
   */
  error?: string;
  /** Names of the user's keys: a new key with the same name gets a (non-blocking) warning. */
  existingNames?: string[];
  onClose: () => void;
  onCreate: (body: CreateCreditKeyBody) => void;
}

const LABELS = {
  name: "Name",
  maxBudget: "Max budget",
  budgetPeriod: "Budget period",
  rpm: "Requests per minute",
  tpm: "Tokens per minute",
  expiresAt: "Expiry",
} as const;
type FieldName = keyof typeof LABELS;

/** What the inputs hold: text, as typed, and the models chosen (null: all). */
type FormValues = Record<FieldName, string> & { allowedModels: string[] | null };

function numberOrText(s: string): number | string | undefined {
  const t = s.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/**
 * The inputs' text turned into the API's body, then checked by the API's own
 * schema: the form cannot accept what the server would refuse. Its output
 * is the schema's (a Date expiry, the default rpm filled in).
 */
const formSchema = z
  .object({
    name: z.string(),
    maxBudget: z.string(),
    budgetPeriod: z.string(),
    rpm: z.string(),
    tpm: z.string(),
    expiresAt: z.string(),
    allowedModels: z.array(z.string()).nullable(),
  })
  .transform((v) => {
    const body = {
      name: v.name,
      maxBudget: numberOrText(v.maxBudget),
      budgetPeriod: v.budgetPeriod || undefined,
      rpm: numberOrText(v.rpm),
      tpm: numberOrText(v.tpm),
      expiresAt: localInputToIso(v.expiresAt),
      // null (all models) is the default: left out.
      allowedModels: v.allowedModels ?? undefined,
    };
    // Absent, not undefined: the schema is strict about what is sent.
    return Object.fromEntries(Object.entries(body).filter(([, x]) => x !== undefined)) as unknown as z.input<typeof createCreditKeySchema>;
  })
  .pipe(createCreditKeySchema);

/**
 * The schema speaks API ("rpm must be at least 1", or just "must be in the
 * future"); the form says it with the label the user sees.
 */
function fieldMessage(field: FieldName, message: string | undefined): string | undefined {
  if (!message) return undefined;
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return /^(must|can) /.test(rest) ? `${LABELS[field]} ${rest}` : rest.charAt(0).toUpperCase() + rest.slice(1);
}

export function CreateCreditKeyDialog({ open, pending, error, existingNames, onClose, onCreate }: CreateCreditKeyDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create a credit key"
      description="Credit keys share your account's balance. Limits are optional."
      testId="create-key-dialog"
    >
      {/* Mounted with the dialog's content: every opening starts with a fresh form. */}
      <CreateCreditKeyForm pending={pending} error={error} existingNames={existingNames} onCancel={onClose} onCreate={onCreate} />
    </Dialog>
  );
}

interface CreateCreditKeyFormProps {
  pending: boolean;
  error?: string;
  existingNames?: string[];
  onCancel: () => void;
  onCreate: (body: CreateCreditKeyBody) => void;
}

function CreateCreditKeyForm({ pending, error, existingNames, onCancel, onCreate }: CreateCreditKeyFormProps) {
  const {
    register,
    handleSubmit,
    control,
    formState: { errors, submitCount },
  } = useForm<FormValues, unknown, z.output<typeof formSchema>>({
    resolver: zodResolver(formSchema),
    defaultValues: { name: "", maxBudget: "", budgetPeriod: "", rpm: "60", tpm: "", expiresAt: "", allowedModels: null },
    // Focus moves after the errors render (useFocusFirstInvalid), so the
    // field is announced with its error, not before it exists.
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);

  const name = useWatch({ control, name: "name" }).trim().toLowerCase();
  const duplicate = name !== "" && existingNames?.find((n) => n.trim().toLowerCase() === name);

  const submit = handleSubmit((key) => onCreate({ ...key, expiresAt: key.expiresAt?.toISOString() }));

  return (
    <form ref={formRef} noValidate onSubmit={submit} className="space-y-4">
      <Field
        label="Name"
        placeholder="e.g. client_42"
        maxLength={100}
        autoFocus
        autoComplete="off"
        error={fieldMessage("name", errors.name?.message)}
        warning={duplicate ? `You already have a key named “${duplicate.trim()}”. A distinct name makes keys easier to tell apart.` : undefined}
        {...register("name")}
      />
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <Field
          label="Max budget (USD)"
          inputMode="decimal"
          placeholder="No cap"
          autoComplete="off"
          error={fieldMessage("maxBudget", errors.maxBudget?.message)}
          {...register("maxBudget")}
        />
        <BudgetPeriodSelect {...register("budgetPeriod")} />
        <Field label="Requests per minute" inputMode="numeric" autoComplete="off" error={fieldMessage("rpm", errors.rpm?.message)} {...register("rpm")} />
        <Field
          label="Tokens per minute"
          inputMode="numeric"
          placeholder="No limit"
          autoComplete="off"
          error={fieldMessage("tpm", errors.tpm?.message)}
          {...register("tpm")}
        />
        <Field
          label="Expires"
          type="datetime-local"
          hint="Leave empty to never expire."
          error={fieldMessage("expiresAt", errors.expiresAt?.message)}
          {...register("expiresAt")}
        />
      </div>
      <Controller
        control={control}
        name="allowedModels"
        render={({ field }) => <ModelAllowlistField value={field.value} onChange={field.onChange} error={allowlistMessage(errors.allowedModels?.message)} />}
      />
      <FormFooter error={error} onCancel={onCancel} pending={pending} submitLabel="Create key" pendingLabel="Creating…" />
    </form>
  );
}
