"use client";

import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import type { ActionMenuItem } from "@/components/ui/dropdown-menu";
import { PageHeader } from "@/components/ui/headings";
import { Cell, QueryTable, Row } from "@/components/ui/data-table";
import { CreateBillingKeyDialog, RenameBillingKeyDialog } from "@/components/billing-keys/billing-key-dialogs";
import { DeleteKeyDialog, KeyCard, KeyNameCell, KeyRowTail, KeyStatusCell, KeyTimeFacts } from "@/components/keys/key-list";
import { RotateKeyDialog, rotatedNotice } from "@/components/keys/rotate-key-dialog";
import { SecretModal } from "@/components/keys/secret-modal";
import { useCreateKeyFlow, useEditKeyDialog, useKeyActions, useRotateKeyFlow } from "@/components/keys/use-key-actions";
import { useCreateManagementKey, useDeleteManagementKey, useManagementKeys, useRotateManagementKey, useUpdateManagementKey } from "@/components/keys/use-keys";
import type { ManagementKeyView } from "@/lib/keys/schemas";

const COLUMNS = [{ label: "Name" }, { label: "Key" }, { label: "Status" }, { label: "Last used" }, { label: "Created" }, { label: "", className: "w-12" }];

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

  return (
    <div className="space-y-6">
      <PageHeader title="Billing keys" action={<Button onClick={create.start}>Create billing key</Button>}>
        Billing keys are management keys (<code className="font-mono text-xs">mk_…</code>) for scripts and CI: they list and create your API keys and check
        billing. They cannot be used for inference, and they cannot create, change or delete other billing keys; only you, signed in, can.
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
                <KeyStatusCell k={k} />
                <KeyRowTail k={k} items={row.items(k)} />
              </Row>
            ))
          }
        </QueryTable>
      </section>

      <CreateBillingKeyDialog {...create.dialog} existingNames={names} />

      <RenameBillingKeyDialog
        billingKey={rename.editing}
        pending={rename.pending}
        error={rename.error}
        existingNames={names}
        onClose={rename.onClose}
        onRename={(name) => rename.save({ name })}
      />

      <SecretModal {...create.secretModal} title="Your new billing key">
        {secret && <CurlExample origin={origin} secret={secret} />}
      </SecretModal>

      <RotateKeyDialog {...rotate.dialog} what="billing key" users="scripts" />
      <SecretModal
        {...rotate.secretModal}
        title={rotate.rotated ? `New secret for “${rotate.rotated.name}”` : ""}
        notice={rotate.rotated ? rotatedNotice("billing key", rotate.rotated.previousKeyExpiresAt) : undefined}
      >
        {rotate.rotated && <CurlExample origin={origin} secret={rotate.rotated.secret} />}
      </SecretModal>

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
      <KeyTimeFacts k={k} />
    </KeyCard>
  );
}

function CurlExample({ origin, secret }: { origin: string; secret: string }) {
  return (
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
  );
}

function curlExample(origin: string, key: string): string {
  return `curl ${origin}/api/keys \\\n  -H "Authorization: Bearer ${key}"`;
}
