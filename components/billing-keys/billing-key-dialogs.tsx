"use client";

import { useMemo } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { localInputToIso } from "@/components/ui/format";
import { createManagementKeySchema, updateManagementKeySchema, type ManagementKeyView } from "@/lib/keys/schemas";
import { FormFooter } from "@/components/ui/form-footer";

/**
 * The schemas speak API ("name must not be empty", or just "must be in the
 * future"); the forms say it with the label the user sees.
 */
function fieldMessage(label: string, field: string, message: string | undefined): string | undefined {
  if (!message) return undefined;
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return /^(must|can) /.test(rest) ? `${label} ${rest}` : rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** Not an error: two keys may share a name, but it is usually a mistake worth a word. */
function duplicateWarning(name: string, existingNames: string[]): string | undefined {
  const wanted = name.trim().toLowerCase();
  const clash = wanted && existingNames.find((n) => n.toLowerCase() === wanted);
  return clash ? `You already have a billing key named “${clash}”. You can still use the name.` : undefined;
}

/**
 * The create form's schema is the API's: the datetime-local text becomes the
 * ISO 8601 time the API wants, then `createManagementKeySchema` checks it.
 */
const createFormSchema = z
  .object({ name: z.string(), expiresAt: z.string() })
  .transform((v) => ({ name: v.name, ...(v.expiresAt && { expiresAt: localInputToIso(v.expiresAt) }) }))
  .pipe(createManagementKeySchema);

export interface CreateBillingKeyDialogProps {
  open: boolean;
  pending: boolean;
  /** The API's refusal of the last submit, shown in the dialog (and nowhere else). */
  error?: string;
  existingNames: string[];
  onClose: () => void;
  onCreate: (body: { name: string; expiresAt?: string }) => void;
}

export function CreateBillingKeyDialog({ open, onClose, ...form }: CreateBillingKeyDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create a billing key"
      description="For one script or CI job, so you can revoke it alone."
      testId="create-billing-key-dialog"
    >
      {/* The dialog's content mounts on each opening, so the form starts blank. */}
      <CreateBillingKeyForm onClose={onClose} {...form} />
    </Dialog>
  );
}

function CreateBillingKeyForm({ pending, error, existingNames, onClose, onCreate }: Omit<CreateBillingKeyDialogProps, "open">) {
  const {
    register,
    handleSubmit,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(createFormSchema), defaultValues: { name: "", expiresAt: "" } });
  const name = useWatch({ control, name: "name" });
  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit((body) => onCreate({ name: body.name, ...(body.expiresAt && { expiresAt: body.expiresAt.toISOString() }) }))}
    >
      <Field
        label="Name"
        placeholder="e.g. CI pipeline"
        maxLength={100}
        autoFocus
        error={fieldMessage("Name", "name", errors.name?.message)}
        warning={duplicateWarning(name, existingNames)}
        {...register("name")}
      />
      <Field
        label="Expires"
        type="datetime-local"
        hint="Leave empty to never expire."
        error={fieldMessage("Expiry", "expiresAt", errors.expiresAt?.message)}
        {...register("expiresAt")}
      />
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel="Create key" pendingLabel="Creating…" />
    </form>
  );
}

export interface RenameBillingKeyDialogProps {
  /** The key being renamed; null when the dialog is closed. */
  billingKey: ManagementKeyView | null;
  pending: boolean;
  error?: string;
  existingNames: string[];
  onClose: () => void;
  onRename: (name: string) => void;
}

export function RenameBillingKeyDialog({ billingKey, onClose, ...form }: RenameBillingKeyDialogProps) {
  return (
    <Dialog
      open={billingKey !== null}
      onClose={onClose}
      title={billingKey ? `Rename billing key “${billingKey.name}”` : "Rename billing key"}
      description="Scripts using it keep working: the key itself does not change."
      testId="rename-billing-key-dialog"
    >
      {billingKey && <RenameBillingKeyForm key={billingKey.id} billingKey={billingKey} onClose={onClose} {...form} />}
    </Dialog>
  );
}

function RenameBillingKeyForm({
  billingKey,
  pending,
  error,
  existingNames,
  onClose,
  onRename,
}: Omit<RenameBillingKeyDialogProps, "billingKey"> & { billingKey: ManagementKeyView }) {
  const {
    register,
    handleSubmit,
    control,
    formState: { errors },
  } = useForm({ resolver: zodResolver(updateManagementKeySchema), defaultValues: { name: billingKey.name } });
  const name = useWatch({ control, name: "name" });
  const others = useMemo(() => existingNames.filter((n) => n !== billingKey.name), [existingNames, billingKey.name]);
  return (
    <form
      noValidate
      className="space-y-4"
      // Unchanged: nothing to send.
      onSubmit={handleSubmit((patch) => (patch.name === undefined || patch.name === billingKey.name ? onClose() : onRename(patch.name)))}
    >
      <Field
        label="Name"
        maxLength={100}
        autoFocus
        error={fieldMessage("Name", "name", errors.name?.message)}
        warning={duplicateWarning(name ?? "", others)}
        {...register("name")}
      />
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel="Save" pendingLabel="Saving…" />
    </form>
  );
}
