"use client";

import { useRef, useState } from "react";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Card, CardFact, Cell, CopyableId, KeyCardActions, QueryTable, Row, StatusBadge, keyStatus } from "@/components/ui/data-table";
import { ActionMenu } from "@/components/ui/dropdown-menu";
import { formatCount, formatExact, formatRelative } from "@/components/ui/format";
import { RelativeTime } from "@/components/ui/relative-time";
import { CreateCreditKeyDialog } from "@/components/keys/create-credit-key-dialog";
import { EditKeyDialog } from "@/components/keys/edit-key-dialog";
import { KeySnippets } from "@/components/keys/key-snippets";
import { SecretModal } from "@/components/keys/secret-modal";
import { useBillingStatus, useCreateCreditKey, useDeleteKey, useKeys, useUpdateKey } from "@/components/keys/use-keys";
import { formatDollars } from "@/lib/billing/money";
import { formatSpend, formatUsdShort } from "@/lib/client/money";
import type { ApiKeyView } from "@/lib/keys/schemas";

const COLUMNS = [
  { label: "Name" },
  { label: "Key" },
  { label: "Status" },
  { label: "Limits" },
  { label: "Spend", className: "text-right" },
  { label: "Last used" },
  { label: "Created" },
  { label: "", className: "w-12" },
];

export interface KeysPageProps {
  /** The address this browser reaches Keygate at, for the new key's code snippets. */
  origin: string;
  /** The model the snippets call: one the gateway serves on /v1/chat/completions. */
  model: string;
}

export function KeysPage({ origin, model }: KeysPageProps) {
  const keys = useKeys();
  const billing = useBillingStatus();
  const create = useCreateCreditKey();
  const toggle = useUpdateKey();
  const edit = useUpdateKey({ inlineErrors: true });
  const remove = useDeleteKey();

  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [editing, setEditing] = useState<ApiKeyView | null>(null);
  const [deleting, setDeleting] = useState<ApiKeyView | null>(null);
  const billingLink = useRef<HTMLAnchorElement>(null);

  // Said before any form: a new account learns it needs credit here, not from a refused create.
  // While the balance is unknown (loading, or its request failed) nothing is blocked.
  const noCredit = billing.data !== undefined && billing.data.balance <= 0;

  const actions = (k: ApiKeyView) => ({
    edit: () => setEditing(k),
    toggle: () => toggle.mutate({ id: k.id, patch: { isActive: !k.isActive } }),
    remove: () => setDeleting(k),
  });

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="max-w-2xl">
          <h1 className="text-2xl font-semibold tracking-tight">API keys</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Keys your apps use to call the inference API. Credit keys draw on your balance; subscription keys come from pool subscriptions.
          </p>
        </div>
        <Button
          onClick={() => (noCredit ? billingLink.current?.focus() : setCreating(true))}
          // aria-disabled, not disabled: the button stays focusable, and says why it does nothing.
          aria-disabled={noCredit || undefined}
          aria-describedby={noCredit ? "credit-notice-body" : undefined}
          className="aria-disabled:cursor-not-allowed aria-disabled:opacity-60"
        >
          Create credit key
        </Button>
      </div>

      {noCredit && <CreditNotice balance={billing.data.balance} linkRef={billingLink} />}

      <section aria-label="Your API keys" className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={keys}
          columns={COLUMNS}
          label="API keys"
          loadingLabel="Loading keys"
          empty={{
            title: "No API keys yet",
            body: noCredit
              ? "Add credit first, then create a credit key to call the inference API."
              : "Create a credit key to call the inference API. You will see its secret once.",
          }}
          cards={(rows) =>
            rows.map((k) => (
              <KeyCard key={k.id} k={k} {...actions(k)} />
            ))
          }
        >
          {(rows) =>
            rows.map((k) => {
              const a = actions(k);
              return (
                <Row key={k.id} data-testid="key-row" data-key-name={k.name}>
                  <Cell className="max-w-[16rem]">
                    <p className="truncate font-medium leading-5" title={k.name}>
                      {k.name}
                    </p>
                    <CopyableId id={k.id} name={k.name} />
                  </Cell>
                  <Cell>
                    <code className="block font-mono text-xs leading-5">{k.keyPrefix}…</code>
                    <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">{keyTypeLabel(k)}</span>
                  </Cell>
                  <Cell>
                    <StatusBadge status={keyStatus(k)} />
                    {k.expiresAt && <Expiry iso={k.expiresAt} />}
                  </Cell>
                  <Cell className="text-zinc-700 dark:text-zinc-300">{limitsText(k)}</Cell>
                  <Cell className="text-right tabular-nums" data-testid="key-spend">
                    <Spend usd={k.spend} />
                  </Cell>
                  <Cell className="text-zinc-600 dark:text-zinc-400" data-testid="key-last-used">
                    <LastUsed iso={k.lastUsedAt} />
                  </Cell>
                  <Cell className="text-zinc-600 dark:text-zinc-400">
                    <RelativeTime iso={k.createdAt} />
                  </Cell>
                  <Cell className="py-0 text-right">
                    <ActionMenu
                      label={`Actions for ${k.name}`}
                      items={[
                        { label: "Edit", onSelect: a.edit },
                        { label: k.isActive ? "Pause" : "Resume", onSelect: a.toggle },
                        { label: "Delete", onSelect: a.remove, destructive: true },
                      ]}
                    />
                  </Cell>
                </Row>
              );
            })
          }
        </QueryTable>
      </section>

      <CreateCreditKeyDialog
        open={creating}
        pending={create.isPending}
        error={create.error?.message}
        existingNames={keys.data?.map((k) => k.name)}
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
      <SecretModal secret={secret} title="Your new credit key" onClose={() => setSecret(null)} className="sm:max-w-2xl">
        {(reportCopy) => secret && <KeySnippets origin={origin} model={model} apiKey={secret} onCopy={reportCopy} />}
      </SecretModal>
      <EditKeyDialog
        apiKey={editing}
        pending={edit.isPending}
        error={edit.error?.message}
        onClose={() => {
          setEditing(null);
          edit.reset();
        }}
        onSave={(patch) => {
          if (!editing) return;
          edit.mutate(
            { id: editing.id, patch },
            {
              onSuccess: () => {
                setEditing(null);
                edit.reset();
              },
            },
          );
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete “${deleting.name}” (${deleting.keyPrefix}…)?` : ""}
        description="Apps using it stop working at once. This cannot be undone; to stop it for a while instead, pause it."
        confirmLabel="Delete key"
        pending={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting, { onSettled: () => setDeleting(null) });
        }}
      />
    </div>
  );
}

function CreditNotice({ balance, linkRef }: { balance: number; linkRef: React.Ref<HTMLAnchorElement> }) {
  return (
    <section
      aria-labelledby="credit-notice-title"
      data-testid="credit-notice"
      className="flex gap-3 rounded-xl border border-amber-200 bg-amber-50 p-4 text-sm dark:border-amber-900/60 dark:bg-amber-950/30"
    >
      <svg aria-hidden viewBox="0 0 20 20" fill="currentColor" className="mt-0.5 size-5 shrink-0 text-amber-600 dark:text-amber-400">
        <path
          fillRule="evenodd"
          d="M8.485 2.495c.673-1.167 2.357-1.167 3.03 0l6.28 10.875c.673 1.167-.17 2.625-1.516 2.625H3.72c-1.347 0-2.189-1.458-1.515-2.625L8.485 2.495ZM10 6a.75.75 0 0 1 .75.75v3.5a.75.75 0 0 1-1.5 0v-3.5A.75.75 0 0 1 10 6Zm0 9a1 1 0 1 0 0-2 1 1 0 0 0 0 2Z"
          clipRule="evenodd"
        />
      </svg>
      <div className="min-w-0 space-y-1">
        <h2 id="credit-notice-title" className="font-medium text-amber-950 dark:text-amber-100">
          Add credit before you create a key
        </h2>
        <p id="credit-notice-body" className="text-amber-900 dark:text-amber-200/90">
          Your balance is {formatDollars(balance)}, and credit keys draw on it. Top up by card on the Billing page where card top-ups are enabled, or
          ask your operator to grant credit (<code className="font-mono text-xs">POST /api/admin/credits</code>).
        </p>
        <Link
          ref={linkRef}
          href="/billing"
          className="inline-flex items-center gap-1 font-medium text-amber-950 underline underline-offset-4 hover:no-underline dark:text-amber-100"
        >
          Go to Billing <span aria-hidden>→</span>
        </Link>
      </div>
    </section>
  );
}

function keyTypeLabel(k: ApiKeyView): string {
  return k.keyType === "credit" ? "Credit" : "Subscription";
}

/** "120 rpm · 50K tpm · $25 budget", or "unlimited": one line, the way a person would say it. */
export function limitsText(k: ApiKeyView): string {
  if (k.keyType === "subscription") return "1 concurrent";
  const parts = [
    k.rpmLimit !== null && `${formatCount(k.rpmLimit)} rpm`,
    k.tpmLimit !== null && `${formatCount(k.tpmLimit)} tpm`,
    k.maxBudget !== null && `${formatUsdShort(k.maxBudget)} budget`,
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "unlimited";
}

function Expiry({ iso }: { iso: string }) {
  const [now] = useState(() => Date.now());
  const past = new Date(iso).getTime() <= now;
  return (
    <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">
      {past ? "Expired " : "Expires "}
      <RelativeTime iso={iso} />
    </span>
  );
}

function KeyCard({ k, edit, toggle, remove }: { k: ApiKeyView; edit: () => void; toggle: () => void; remove: () => void }) {
  return (
    <Card data-testid="key-row" data-key-name={k.name}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="truncate font-medium">{k.name}</p>
          <p className="text-xs text-zinc-500 dark:text-zinc-400">
            <code className="font-mono">{k.keyPrefix}…</code> · {keyTypeLabel(k)}
          </p>
        </div>
        <StatusBadge status={keyStatus(k)} />
      </div>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1.5 text-xs">
        <CardFact term="Limits">{limitsText(k)}</CardFact>
        <CardFact term="Spend">
          <Spend usd={k.spend} />
        </CardFact>
        <CardFact term="Last used">
          <LastUsed iso={k.lastUsedAt} />
        </CardFact>
        <CardFact term={k.expiresAt ? "Expires" : "Created"}>
          <RelativeTime iso={k.expiresAt ?? k.createdAt} />
        </CardFact>
      </dl>
      <CopyableId id={k.id} name={k.name} />
      <KeyCardActions k={k} first={{ label: "Edit", onClick: edit }} toggle={toggle} remove={remove} />
    </Card>
  );
}

/** Small enough to read ("$0.000123"), with the exact amount in the title. */
function Spend({ usd }: { usd: number }) {
  return <span title={formatDollars(usd)}>{formatSpend(usd)}</span>;
}

/**
 * "just now", "3 minutes ago". The list refreshes while it is open, so a new
 * use remounts this (keyed by the time) and it is read against the moment it
 * arrived, not against when the page opened, which would make it "in 5
 * minutes". A server clock a little ahead of this browser's reads "just now".
 */
function LastUsed({ iso }: { iso: string | null }) {
  return <LastUsedTime key={iso ?? "never"} iso={iso} />;
}

function LastUsedTime({ iso }: { iso: string | null }) {
  const [now] = useState(() => Date.now());
  if (!iso) return <span>never</span>;
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatRelative(iso, Math.max(now, new Date(iso).getTime()))}
    </time>
  );
}
