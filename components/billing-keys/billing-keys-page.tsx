"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Card, Cell, CopyableId, KeyCardActions, KeyRowTail, KeyTimeFacts, QueryTable, Row, StatusBadge, keyStatus } from "@/components/ui/data-table";
import { RelativeTime } from "@/components/ui/relative-time";
import { CreateBillingKeyDialog, RenameBillingKeyDialog } from "@/components/billing-keys/billing-key-dialogs";
import { SecretModal } from "@/components/keys/secret-modal";
import {
  useCreateManagementKey,
  useDeleteManagementKey,
  useManagementKeys,
  useUpdateManagementKey,
} from "@/components/keys/use-keys";
import type { ManagementKeyView } from "@/lib/keys/schemas";

const COLUMNS = [{ label: "Name" }, { label: "Key" }, { label: "Status" }, { label: "Last used" }, { label: "Created" }, { label: "", className: "w-12" }];

/**
 * Billing keys are what the API calls management keys (mk_…). The page says
 * so once, at the top; everything after that says "billing key".
 */
export function BillingKeysPage({ origin }: { origin: string }) {
  const keys = useManagementKeys();
  const create = useCreateManagementKey();
  const toggle = useUpdateManagementKey();
  const rename = useUpdateManagementKey({ inlineErrors: true });
  const remove = useDeleteManagementKey();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<ManagementKeyView | null>(null);
  const [deleting, setDeleting] = useState<ManagementKeyView | null>(null);
  const names = keys.data?.map((k) => k.name) ?? [];

  const actions = (k: ManagementKeyView) => ({
    rename: () => setRenaming(k),
    toggle: () => toggle.mutate({ id: k.id, patch: { isActive: !k.isActive } }),
    remove: () => setDeleting(k),
  });

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="max-w-2xl">
          <h1 className="text-2xl font-semibold tracking-tight">Billing keys</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Billing keys are management keys (<code className="font-mono text-xs">mk_…</code>) for scripts and CI: they list and create your API
            keys and check billing. They cannot be used for inference, and they cannot create, change or delete other billing keys; only you,
            signed in, can.
          </p>
        </div>
        <Button onClick={() => setCreating(true)}>Create billing key</Button>
      </div>

      <section aria-label="Your billing keys" className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={keys}
          columns={COLUMNS}
          label="Billing keys"
          loadingLabel="Loading billing keys"
          empty={{ title: "No billing keys yet", body: "Create one for each script or CI job that manages your API keys." }}
          cards={(rows) => rows.map((k) => <BillingKeyCard key={k.id} k={k} {...actions(k)} />)}
        >
          {(rows) =>
            rows.map((k) => {
              const a = actions(k);
              return (
                <Row key={k.id} data-testid="billing-key-row" data-key-name={k.name}>
                  <Cell className="max-w-[18rem]">
                    <p className="truncate font-medium leading-5" title={k.name}>
                      {k.name}
                    </p>
                    <CopyableId id={k.id} name={k.name} />
                  </Cell>
                  <Cell>
                    <code className="font-mono text-xs">{k.keyPrefix}…</code>
                  </Cell>
                  <Cell>
                    <StatusBadge status={keyStatus(k)} />
                    {k.expiresAt && (
                      <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">
                        {keyStatus(k) === "expired" ? "Expired " : "Expires "}
                        <RelativeTime iso={k.expiresAt} />
                      </span>
                    )}
                  </Cell>
                  <KeyRowTail
                    k={k}
                    actions={[
                      { label: "Rename", onSelect: a.rename },
                      { label: k.isActive ? "Pause" : "Resume", onSelect: a.toggle },
                      { label: "Delete", onSelect: a.remove, destructive: true },
                    ]}
                  />
                </Row>
              );
            })
          }
        </QueryTable>
      </section>

      <CreateBillingKeyDialog
        open={creating}
        pending={create.isPending}
        error={create.error?.message}
        existingNames={names}
        onClose={() => {
          setCreating(false);
          create.reset();
        }}
        onCreate={(body) =>
          create.mutate(body, {
            onSuccess: (key) => {
              setCreating(false);
              setSecret(key.apiKey);
              create.reset();
            },
          })
        }
      />

      <RenameBillingKeyDialog
        billingKey={renaming}
        pending={rename.isPending}
        error={rename.error?.message}
        existingNames={names}
        onClose={() => {
          setRenaming(null);
          rename.reset();
        }}
        onRename={(name) => {
          if (!renaming) return;
          rename.mutate(
            { id: renaming.id, patch: { name } },
            {
              onSuccess: () => {
                setRenaming(null);
                rename.reset();
              },
            },
          );
        }}
      />

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
        title={deleting ? `Delete “${deleting.name}” (${deleting.keyPrefix}…)?` : ""}
        description="Scripts using this billing key get 401 from their next request on. This cannot be undone; to stop it for a while instead, pause it."
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

function BillingKeyCard({ k, rename, toggle, remove }: { k: ManagementKeyView; rename: () => void; toggle: () => void; remove: () => void }) {
  return (
    <Card data-testid="billing-key-row" data-key-name={k.name}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="truncate font-medium">{k.name}</p>
          <code className="font-mono text-xs text-zinc-500 dark:text-zinc-400">{k.keyPrefix}…</code>
        </div>
        <StatusBadge status={keyStatus(k)} />
      </div>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1.5 text-xs">
        <KeyTimeFacts k={k} />
      </dl>
      <CopyableId id={k.id} name={k.name} />
      <KeyCardActions k={k} first={{ label: "Rename", onClick: rename }} toggle={toggle} remove={remove} />
    </Card>
  );
}

function curlExample(origin: string, key: string): string {
  return `curl ${origin}/api/keys \\\n  -H "Authorization: Bearer ${key}"`;
}
