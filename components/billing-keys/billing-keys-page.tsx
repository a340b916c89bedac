"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { formatDate, localInputToIso } from "@/components/ui/format";
import { QueryTable } from "@/components/ui/data-table";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { SecretModal } from "@/components/keys/secret-modal";
import { useCreateManagementKey, useDeleteManagementKey, useManagementKeys } from "@/components/keys/use-keys";
import { createManagementKeySchema, type ManagementKeyView } from "@/lib/keys/schemas";

export function BillingKeysPage({ origin }: { origin: string }) {
  const keys = useManagementKeys();
  const create = useCreateManagementKey();
  const remove = useDeleteManagementKey();
  const [creating, setCreating] = useState(false);
  const [errors, setErrors] = useState<{ name?: string; expiresAt?: string }>({});
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ManagementKeyView | null>(null);
  const { ref: formRef, refused: focusFirstInvalid } = useFocusFirstInvalid();

  // Cancel, Escape and the backdrop all start the next opening afresh.
  function closeCreate() {
    setErrors({});
    setCreating(false);
    create.reset();
  }

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { name: String(form.get("name") ?? ""), expiresAt: localInputToIso(String(form.get("expiresAt") ?? "")) };
    const parsed = createManagementKeySchema.safeParse(body.expiresAt ? body : { name: body.name });
    if (!parsed.success) {
      const next: typeof errors = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] === "name" ? "name" : "expiresAt";
        const m = issue.message.replace(/^must/, `${field === "name" ? "Name" : "Expiry"} must`);
        next[field] ??= m.charAt(0).toUpperCase() + m.slice(1);
      }
      setErrors(next);
      focusFirstInvalid();
      return;
    }
    setErrors({});
    create.mutate(body.expiresAt ? body : { name: body.name }, {
      onSuccess: (key) => {
        setCreating(false);
        setSecret(key.apiKey);
        create.reset();
      },
    });
  }

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div className="max-w-2xl">
          <h1 className="text-2xl font-semibold">Billing keys</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Management keys (<code className="font-mono">mk_…</code>) let scripts and CI manage your account: list and create API keys,
            check billing. They cannot be used for inference, and they cannot create or delete other management keys. Only you, signed
            in, can.
          </p>
        </div>
        <Button onClick={() => setCreating(true)}>Create billing key</Button>
      </div>

      <section aria-label="Your billing keys" className="overflow-hidden rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={keys}
          columns={["Name", "Key", "Expires", "Created", "Last used", ""]}
          minWidth="min-w-[40rem]"
          loadingLabel="Loading billing keys"
          empty={{ title: "No billing keys yet", body: "Create one to manage your keys from a script." }}
        >
          {(rows) =>
            rows.map((k) => (
              <tr key={k.id} data-testid="billing-key-row" data-key-name={k.name}>
                <td className="px-4 py-3 font-medium">{k.name}</td>
                <td className="px-4 py-3 font-mono text-xs">{k.keyPrefix}…</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.expiresAt, "Never")}</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.createdAt)}</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.lastUsedAt, "Never")}</td>
                <td className="px-4 py-3 text-right">
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(k)} aria-label={`Delete ${k.name}`} className="text-red-700 dark:text-red-400">
                    Delete
                  </Button>
                </td>
              </tr>
            ))
          }
        </QueryTable>
      </section>

      <Dialog
        open={creating}
        onClose={closeCreate}
        title="Create a billing key"
        testId="create-billing-key-dialog"
      >
        <form ref={formRef} noValidate onSubmit={submit} className="space-y-4">
          <Field label="Name" name="name" placeholder="e.g. CI pipeline" maxLength={100} autoFocus error={errors.name} />
          <Field label="Expires" name="expiresAt" type="datetime-local" hint="Leave empty to never expire." error={errors.expiresAt} />
          {/* Inside the dialog: the toast behind the modal is inert, so neither seen nor announced. */}
          {create.error && (
            <p role="alert" className="text-sm text-red-700 dark:text-red-400">
              {create.error.message}
            </p>
          )}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={closeCreate}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create key"}
            </Button>
          </div>
        </form>
      </Dialog>

      <SecretModal secret={secret} title="Your new billing key" onClose={() => setSecret(null)}>
        {secret && (
          <div>
            <div className="mb-1 flex items-center justify-between gap-2">
              <p className="text-sm font-medium">Try it:</p>
              <CopyButton text={curlExample(origin, secret)} label="Copy curl command" copiedMessage="Curl command copied." />
            </div>
            {/* Focusable and named, so keyboard users can scroll a long line. */}
            <pre
              data-testid="curl-example"
              tabIndex={0}
              role="region"
              aria-label="curl example"
              className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950"
            >
              {curlExample(origin, secret)}
            </pre>
          </div>
        )}
      </SecretModal>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.name ?? ""}”?`}
        description="Scripts using this billing key will get 401 from their next request on. This cannot be undone."
        confirmLabel="Delete billing key"
        pending={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting, { onSettled: () => setDeleting(null) });
        }}
      />
    </div>
  );
}

function curlExample(origin: string, key: string): string {
  return `curl ${origin}/api/keys \\\n  -H "Authorization: Bearer ${key}"`;
}
