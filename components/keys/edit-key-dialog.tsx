"use client";

import { useMemo } from "react";
import { Controller, useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { isoToLocalInput, localInputToIso } from "@/components/ui/format";
import { updateKeySchema, type ApiKeyView } from "@/lib/keys/schemas";
import type { UpdateKeyBody } from "@/components/keys/use-keys";
import { FormFooter } from "@/components/ui/form-footer";
import { BudgetPeriodSelect } from "@/components/keys/budget-period-select";
import { allowlistMessage, ModelAllowlistField } from "@/components/keys/model-allowlist-field";
import { fieldMessages } from "@/lib/client/field-message";

export interface EditKeyDialogProps {
  /** The key being edited; null when the dialog is closed. */
  apiKey: ApiKeyView | null;
  pending: boolean;
  /** The API's refusal of the last save, shown inside the dialog (and nowhere else). */
  error?: string;
  onClose: () => void;
  /** Only the fields the user changed; never called with an empty patch. */
  onSave: (patch: UpdateKeyBody) => void;
}

/** What the inputs hold: text, as typed. */
interface EditKeyFormValues {
  name: string;
  maxBudget: string;
  budgetPeriod: string;
  rpm: string;
  tpm: string;
  expiresAt: string;
  /** null: every model. */
  allowedModels: string[] | null;
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

function initialValues(key: ApiKeyView): EditKeyFormValues {
  return {
    name: key.name,
    maxBudget: key.maxBudget === null ? "" : String(key.maxBudget),
    budgetPeriod: key.budgetPeriod ?? "",
    rpm: key.rpmLimit === null ? "" : String(key.rpmLimit),
    tpm: key.tpmLimit === null ? "" : String(key.tpmLimit),
    expiresAt: isoToLocalInput(key.expiresAt),
    allowedModels: key.allowedModels,
  };
}

/** The same allowlist, whatever the order the models were ticked in. */
function sameModels(a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

/** "" clears the limit (null); text that is not a number goes through as is, for the schema to refuse in words. */
function numberOrNull(s: string): number | string | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/**
 * The form's schema, derived from the API's: the text inputs become the PUT
 * body with only the fields that changed, and that body is checked by the
 * fields of `updateKeySchema` itself. Unchanged fields are left out, so a key
 * that expired yesterday can still be renamed, and the API's "send at least
 * one field" rule is met by not sending a request at all when nothing changed.
 */
function editKeySchema(key: ApiKeyView) {
  const before = initialValues(key);
  return z
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
      const patch: Record<string, unknown> = {};
      if (v.name.trim() !== key.name) patch.name = v.name;
      // A subscription key takes only name and isActive: its limits come from its pool.
      if (key.keyType === "credit") {
        if (v.maxBudget.trim() !== before.maxBudget) patch.maxBudget = numberOrNull(v.maxBudget);
        if (v.budgetPeriod !== before.budgetPeriod) patch.budgetPeriod = v.budgetPeriod || null;
        if (v.rpm.trim() !== before.rpm) patch.rpm = numberOrNull(v.rpm) ?? "";
        if (v.tpm.trim() !== before.tpm) patch.tpm = numberOrNull(v.tpm);
        if (v.expiresAt !== before.expiresAt) patch.expiresAt = v.expiresAt ? localInputToIso(v.expiresAt) : null;
        if (!sameModels(v.allowedModels, before.allowedModels)) patch.allowedModels = v.allowedModels;
      }
      return patch as z.input<typeof updateKeySchema.in>;
    })
    .pipe(updateKeySchema.in);
}

/**
 * The schema speaks API ("rpm must be at least 1", or just "must be in the
 * future"); the form says it with the label the user sees.
 */
const fieldMessage = fieldMessages(LABELS);

/** One dialog edits any consumption key: its name, and a credit key's limits and expiry. */
export function EditKeyDialog({ apiKey, pending, error, onClose, onSave }: EditKeyDialogProps) {
  return (
    <Dialog
      open={apiKey !== null}
      onClose={onClose}
      title={apiKey ? `Edit “${apiKey.name}”` : "Edit key"}
      description={
        apiKey?.keyType === "subscription"
          ? "A subscription key's limits come from its pool; you can rename it."
          : "Changes apply from the key's next request. Leave a limit empty to remove it."
      }
      testId="edit-key-dialog"
    >
      {/* Keyed by the key: every opening starts from that key's saved values. */}
      {apiKey && <EditKeyForm key={apiKey.id} apiKey={apiKey} pending={pending} error={error} onClose={onClose} onSave={onSave} />}
    </Dialog>
  );
}

function EditKeyForm({ apiKey, pending, error, onClose, onSave }: EditKeyDialogProps & { apiKey: ApiKeyView }) {
  const schema = useMemo(() => editKeySchema(apiKey), [apiKey]);
  const {
    register,
    handleSubmit,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(schema), defaultValues: initialValues(apiKey) });
  const credit = apiKey.keyType === "credit";
  const message = (f: FieldName) => fieldMessage(f, errors[f]?.message);

  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit((patch) => {
        // Nothing changed: nothing to send (the API would refuse an empty update).
        if (Object.keys(patch).length === 0) return onClose();
        // The form sent the fields as the API spells them; Dates serialise to ISO 8601.
        onSave(patch as UpdateKeyBody);
      })}
    >
      <Field label="Name" maxLength={100} autoFocus error={message("name")} {...register("name")} />
      {credit && (
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <Field label="Max budget (USD)" inputMode="decimal" placeholder="No cap" error={message("maxBudget")} {...register("maxBudget")} />
          <BudgetPeriodSelect {...register("budgetPeriod")} />
          <Field label="Requests per minute" inputMode="numeric" error={message("rpm")} {...register("rpm")} />
          <Field label="Tokens per minute" inputMode="numeric" placeholder="No limit" error={message("tpm")} {...register("tpm")} />
          <Field label="Expires" type="datetime-local" hint="Leave empty to never expire." error={message("expiresAt")} {...register("expiresAt")} />
        </div>
      )}
      {credit && (
        <Controller
          control={control}
          name="allowedModels"
          render={({ field }) => <ModelAllowlistField value={field.value} onChange={field.onChange} error={allowlistMessage(errors.allowedModels?.message)} />}
        />
      )}
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel="Save changes" pendingLabel="Saving…" />
    </form>
  );
}
