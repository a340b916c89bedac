"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import type { ActionMenuItem } from "@/components/ui/dropdown-menu";
import { PageHeader } from "@/components/ui/headings";
import { CardFact, Cell, QueryTable, Row } from "@/components/ui/data-table";
import { CreateBillingKeyDialog, RenameBillingKeyDialog } from "@/components/billing-keys/billing-key-dialogs";
import { DeleteKeyDialog, KeyCard, KeyNameCell, KeyRowTail, KeyStatusCell, KeyTimeFacts } from "@/components/keys/key-list";
import { RotateKeyDialog, RotatedSecretModal } from "@/components/keys/rotate-key-dialog";
import { SecretModal } from "@/components/keys/secret-modal";
import { useCreateKeyFlow, useEditKeyDialog, useKeyActions, useRotateKeyFlow } from "@/components/keys/use-key-actions";
import { useCreateManagementKey, useDeleteManagementKey, useManagementKeys, useRotateManagementKey, useUpdateManagementKey } from "@/components/keys/use-keys";
import { hasAllScopes, type ManagementKeyView, type Scope } from "@/lib/keys/schemas";

const COLUMNS = [
  { label: "Name" },
  { label: "Key" },
  { label: "Scopes" },
  { label: "Status" },
  { label: "Last used" },
  { label: "Created" },
  { label: "", className: "w-12" },
];

/**
 * Billing keys are what the API calls management keys (mk_…). The page says
 * so once, at the top; everything after that says "billing key".
 */
export function BillingKeysPage({ origin }: { origin: string }) {
  const keys = useManagementKeys();
  const create = useCreateKeyFlow(useCreateManagementKey());
  const rename = useEditKeyDialog(useUpdateManagementKey({ inlineErrors: true }));
  const rotate = useRotateKeyFlow<ManagementKeyView, unknown>(useRotateManagementKey());
  const row = useKeyActions<ManagementKeyView>({
    first: { label: "Rename", onSelect: rename.start },
    rotate: rotate.start,
    toggle: useUpdateManagementKey(),
    remove: useDeleteManagementKey(),
  });
  const names = keys.data?.map((k) => k.name) ?? [];
  const { secret } = create.secretModal;
  // The scopes of the key being created, for a "Try it" command that the key may run.
  const [createdScopes, setCreatedScopes] = useState<Scope[]>([]);

  return (
    <div className="space-y-6">
      <PageHeader title="Billing keys" action={<Button onClick={create.start}>Create billing key</Button>}>
        Billing keys are management keys (<code className="font-mono text-xs">mk_…</code>) for scripts and CI: they list and create your API keys and check
        billing, within the scopes you give each one. They cannot be used for inference, and they cannot create, change or delete other billing keys; only you,
        signed in, can.
      </PageHeader>

      <section
        aria-label="Your billing keys"
        className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        <QueryTable
          query={keys}
          columns={COLUMNS}
          label="Billing keys"
          loadingLabel="Loading billing keys"
          empty={{ title: "No billing keys yet", body: "Create one for each script or CI job that manages your API keys." }}
          cards={(rows) => rows.map((k) => <BillingKeyCard key={k.id} k={k} items={row.items(k)} />)}
        >
          {(rows) =>
            rows.map((k) => (
              <Row key={k.id} data-testid="billing-key-row" data-key-name={k.name}>
                <KeyNameCell k={k} className="max-w-[18rem]" />
                <Cell>
                  <code className="font-mono text-xs">{k.keyPrefix}…</code>
                </Cell>
                <Cell className="max-w-[16rem]">
                  <ScopeList scopes={k.scopes} />
                </Cell>
                <KeyStatusCell k={k} />
                <KeyRowTail k={k} items={row.items(k)} />
              </Row>
            ))
          }
        </QueryTable>
      </section>

      <CreateBillingKeyDialog
        {...create.dialog}
        onCreate={(body) => {
          setCreatedScopes(body.scopes);
          create.dialog.onCreate(body);
        }}
        existingNames={names}
      />

      <RenameBillingKeyDialog
        billingKey={rename.editing}
        pending={rename.pending}
        error={rename.error}
        existingNames={names}
        onClose={rename.onClose}
        onRename={(name) => rename.save({ name })}
      />

      <SecretModal {...create.secretModal} title="Your new billing key">
        {secret && <CurlExample origin={origin} secret={secret} scopes={createdScopes} />}
      </SecretModal>

      <RotateKeyDialog {...rotate.dialog} what="billing key" users="scripts" />
      <RotatedSecretModal flow={rotate} what="billing key">
        {(rotated) => <CurlExample origin={origin} secret={rotated.secret} scopes={rotated.key.scopes} />}
      </RotatedSecretModal>

      <DeleteKeyDialog
        {...row.deleteDialog}
        description="Scripts using this billing key get 401 from their next request on. This cannot be undone; to stop it for a while instead, pause it."
        confirmLabel="Delete billing key"
      />
    </div>
  );
}

function BillingKeyCard({ k, items }: { k: ManagementKeyView; items: ActionMenuItem[] }) {
  return (
    <KeyCard k={k} testId="billing-key-row" items={items} subtitle={<code className="font-mono text-xs text-zinc-500 dark:text-zinc-400">{k.keyPrefix}…</code>}>
      <CardFact term="Scopes">
        <ScopeList scopes={k.scopes} />
      </CardFact>
      <KeyTimeFacts k={k} />
    </KeyCard>
  );
}

/** The new key's "Try it" command, when one of its scopes has a read to show. */
function CurlExample({ origin, secret, scopes }: { origin: string; secret: string; scopes: readonly Scope[] }) {
  const example = curlExample(origin, secret, scopes);
  if (!example) return null;
  return (
    <div>
      <div className="mb-1 flex items-center justify-between gap-2">
        <p className="text-sm font-medium">Try it:</p>
        <CopyButton text={example} label="Copy curl command" copiedMessage="Curl command copied." />
      </div>
      {/* Focusable and named, so keyboard users can scroll a long line. */}
      <pre
        data-testid="curl-example"
        tabIndex={0}
        role="region"
        aria-label="curl example"
        className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950"
      >
        {example}
      </pre>
    </div>
  );
}

/** A key's scopes, compactly: "All" for a key that holds every one, else each scope's name. */
function ScopeList({ scopes }: { scopes: readonly Scope[] }) {
  if (hasAllScopes(scopes)) {
    return (
      <span data-testid="billing-key-scopes" className="text-xs text-zinc-700 dark:text-zinc-300">
        All scopes
      </span>
    );
  }
  return (
    <ul data-testid="billing-key-scopes" aria-label="Scopes" className="flex flex-wrap gap-1">
      {scopes.map((scope) => (
        <li key={scope} className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] leading-4 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
          {scope}
        </li>
      ))}
    </ul>
  );
}

/** A read each scope allows, for the new key's "Try it" command (pools:write and audit:read have none here). */
const TRY_IT: Partial<Record<Scope, string>> = {
  "keys:read": "/api/keys",
  "billing:read": "/api/billing/status",
  "usage:read": "/api/usage",
  "webhooks:write": "/api/webhooks",
};

/** A command the new key may run, or null when none of its scopes has a read to show. */
function curlExample(origin: string, key: string, scopes: readonly Scope[]): string | null {
  const path = scopes.map((s) => TRY_IT[s]).find(Boolean);
  return path ? `curl ${origin}${path} \\\n  -H "Authorization: Bearer ${key}"` : null;
}
