"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { localInputToIso } from "@/components/ui/format";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { createCreditKeySchema } from "@/lib/keys/schemas";
import type { CreateCreditKeyBody } from "@/components/keys/use-keys";

export interface CreateCreditKeyDialogProps {
  open: boolean;
  pending: boolean;
  /**
   * The API's refusal of the last submit. Shown inside the dialog: the modal
   * makes the rest of the page inert, so a toast behind it is neither visible
   * nor announced.
   */
  error?: string;
  onClose: () => void;
  onCreate: (body: CreateCreditKeyBody) => void;
}

const LABELS = {
  name: "Name",
  maxBudget: "Max budget",
  rpm: "Requests per minute",
  tpm: "Tokens per minute",
  expiresAt: "Expiry",
} as const;
type FieldName = keyof typeof LABELS;
type Errors = Partial<Record<FieldName | "form", string>>;

/**
 * The schema speaks API ("rpm must be at least 1", or just "must be in the
 * future"); the form says it with the label the user sees.
 */
function fieldMessage(field: FieldName, message: string): string {
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return /^(must|can) /.test(rest) ? `${LABELS[field]} ${rest}` : rest.charAt(0).toUpperCase() + rest.slice(1);
}

function numberOrUndefined(v: FormDataEntryValue | null): number | string | undefined {
  const s = String(v ?? "").trim();
  if (s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

export function CreateCreditKeyDialog({ open, pending, error, onClose, onCreate }: CreateCreditKeyDialogProps) {
  const [errors, setErrors] = useState<Errors>({});
  const { ref: formRef, refused: focusFirstInvalid } = useFocusFirstInvalid();

  // Cancel, Escape and the backdrop all start the next opening afresh.
  function close() {
    setErrors({});
    onClose();
  }

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = {
      name: String(form.get("name") ?? ""),
      maxBudget: numberOrUndefined(form.get("maxBudget")),
      rpm: numberOrUndefined(form.get("rpm")),
      tpm: numberOrUndefined(form.get("tpm")),
      expiresAt: localInputToIso(String(form.get("expiresAt") ?? "")),
    };
    // The API's own schema: the form cannot accept what the server would refuse.
    const parsed = createCreditKeySchema.safeParse(Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)));
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues) {
        const key = issue.path[0] === "expires_at" ? "expiresAt" : issue.path[0];
        if (typeof key === "string" && key in LABELS) next[key as FieldName] ??= fieldMessage(key as FieldName, issue.message);
        else next.form ??= issue.message;
      }
      setErrors(next);
      focusFirstInvalid();
      return;
    }
    setErrors({});
    onCreate(body as CreateCreditKeyBody);
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Create a credit key"
      description="Credit keys share your account's balance. Limits are optional."
      testId="create-key-dialog"
    >
      <form ref={formRef} noValidate onSubmit={submit} className="space-y-4">
        <Field label="Name" name="name" placeholder="e.g. client_42" maxLength={100} autoFocus error={errors.name} />
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <Field label="Max budget (USD)" name="maxBudget" inputMode="decimal" placeholder="No cap" error={errors.maxBudget} />
          <Field label="Requests per minute" name="rpm" inputMode="numeric" defaultValue="60" error={errors.rpm} />
          <Field label="Tokens per minute" name="tpm" inputMode="numeric" placeholder="No limit" error={errors.tpm} />
          <Field label="Expires" name="expiresAt" type="datetime-local" hint="Leave empty to never expire." error={errors.expiresAt} />
        </div>
        {(errors.form ?? error) && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {errors.form ?? error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" disabled={pending}>
            {pending ? "Creating…" : "Create key"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
