"use client";

import { useMemo, type ComponentProps } from "react";
import { useForm, useWatch } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { localInputToIso } from "@/components/ui/format";
import {
  createManagementKeySchema,
  SCOPE_DESCRIPTIONS,
  SCOPE_GROUPS,
  SCOPES,
  updateManagementKeySchema,
  type ManagementKeyView,
  type Scope,
} from "@/lib/keys/schemas";
import { FormFooter } from "@/components/ui/form-footer";
import { fieldMessage } from "@/lib/client/field-message";

/** Not an error: two keys may share a name, but it is usually a mistake worth a word. */
function duplicateWarning(name: string, existingNames: string[]): string | undefined {
  const wanted = name.trim().toLowerCase();
  const clash = wanted && existingNames.find((n) => n.toLowerCase() === wanted);
  return clash ? `You already have a billing key named “${clash}”. You can still use the name.` : undefined;
}

/**
 * The create form's schema is the API's: the datetime-local text becomes the
 * ISO 8601 time the API wants, then `createManagementKeySchema` checks it
 * (the scopes' checkboxes give the list of those checked).
 */
const createFormSchema = z
  .object({ name: z.string(), expiresAt: z.string(), scopes: z.array(z.enum(SCOPES)) })
  .transform((v): z.input<typeof createManagementKeySchema> => ({
    name: v.name,
    scopes: v.scopes,
    ...(v.expiresAt && { expiresAt: localInputToIso(v.expiresAt) }),
  }))
  .pipe(createManagementKeySchema);

export interface CreateBillingKeyDialogProps {
  open: boolean;
  pending: boolean;
  /** The API's refusal of the last submit, shown in the dialog (and nowhere else). */
  error?: string;
  existingNames: string[];
  onClose: () => void;
  onCreate: (body: { name: string; expiresAt?: string; scopes: Scope[] }) => void;
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
  } = useForm({ resolver: zodResolver(createFormSchema), defaultValues: { name: "", expiresAt: "", scopes: [...SCOPES] } });
  const name = useWatch({ control, name: "name" });
  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit((body) => onCreate({ name: body.name, scopes: body.scopes, ...(body.expiresAt && { expiresAt: body.expiresAt.toISOString() }) }))}
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
      <fieldset aria-describedby={errors.scopes ? "billing-key-scopes-hint billing-key-scopes-error" : "billing-key-scopes-hint"}>
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Scopes</legend>
        <p id="billing-key-scopes-hint" className="mb-2 text-xs text-zinc-600 dark:text-zinc-400">
          What the key may do. Uncheck what it does not need: scopes cannot be changed later.
        </p>
        <div className="grid gap-3 sm:grid-cols-3">
          {SCOPE_GROUPS.map((group) => (
            <fieldset key={group.label}>
              <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">{group.label}</legend>
              <div className="space-y-1.5">
                {group.scopes.map((scope) => (
                  <ScopeCheckbox key={scope} scope={scope} {...register("scopes")} />
                ))}
              </div>
            </fieldset>
          ))}
        </div>
        {errors.scopes && (
          <p id="billing-key-scopes-error" className="mt-1.5 text-xs text-red-700 dark:text-red-400">
            Choose at least one scope: a key without any could do nothing.
          </p>
        )}
      </fieldset>
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel="Create key" pendingLabel="Creating…" />
    </form>
  );
}

/** One scope's checkbox: named by the scope, described by what it allows. */
function ScopeCheckbox({ scope, ...input }: { scope: Scope } & ComponentProps<"input">) {
  const id = `billing-key-scope-${scope.replace(":", "-")}`;
  return (
    <div className="flex items-start gap-2">
      <input id={id} type="checkbox" value={scope} aria-describedby={`${id}-hint`} className="mt-0.5 size-4 shrink-0 accent-indigo-600" {...input} />
      <div className="min-w-0">
        <label htmlFor={id} className="font-mono text-xs">
          {scope}
        </label>
        <p id={`${id}-hint`} className="text-xs text-zinc-600 dark:text-zinc-400">
          {SCOPE_DESCRIPTIONS[scope]}
        </p>
      </div>
    </div>
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
