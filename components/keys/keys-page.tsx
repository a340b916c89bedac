"use client";

import { useRef, useState } from "react";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { CardFact, Cell, QueryTable, Row } from "@/components/ui/data-table";
import type { ActionMenuItem } from "@/components/ui/dropdown-menu";
import { formatCount, formatExact, formatRelative, formatUtcDay } from "@/components/ui/format";
import { PageHeader } from "@/components/ui/headings";
import { CreateCreditKeyDialog } from "@/components/keys/create-credit-key-dialog";
import { EditKeyDialog } from "@/components/keys/edit-key-dialog";
import { DeleteKeyDialog, KeyCard, KeyNameCell, KeyRowTail, KeyStatusCell, KeyTimeFacts } from "@/components/keys/key-list";
import { KeySnippets } from "@/components/keys/key-snippets";
import { RotateKeyDialog, RotatedSecretModal } from "@/components/keys/rotate-key-dialog";
import { SecretModal } from "@/components/keys/secret-modal";
import { useCreateKeyFlow, useEditKeyDialog, useKeyActions, useRotateKeyFlow } from "@/components/keys/use-key-actions";
import { useBillingStatus, useCreateCreditKey, useDeleteKey, useKeys, useRotateKey, useUpdateKey } from "@/components/keys/use-keys";
import { formatDollars, formatSpend, formatUsdShort } from "@/lib/client/money";
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
  const create = useCreateKeyFlow(useCreateCreditKey());
  const edit = useEditKeyDialog(useUpdateKey({ inlineErrors: true }));
  const rotate = useRotateKeyFlow<ApiKeyView, unknown>(useRotateKey());
  const row = useKeyActions<ApiKeyView>({
    first: { label: "Edit", onSelect: edit.start },
    rotate: rotate.start,
    toggle: useUpdateKey(),
    remove: useDeleteKey(),
  });
  const billingLink = useRef<HTMLAnchorElement>(null);
  const { secret } = create.secretModal;

  // Said before any form: a new account learns it needs credit here, not from a refused create.
  // While the balance is unknown (loading, or its request failed) nothing is blocked.
  const noCredit = billing.data !== undefined && billing.data.balance <= 0;

  return (
    <div className="space-y-6">
      <PageHeader
        title="API keys"
        action={
          <Button
            onClick={() => (noCredit ? billingLink.current?.focus() : create.start())}
            // aria-disabled, not disabled: the button stays focusable, and says why it does nothing.
            aria-disabled={noCredit || undefined}
            aria-describedby={noCredit ? "credit-notice-body" : undefined}
            className="aria-disabled:cursor-not-allowed aria-disabled:opacity-60"
          >
            Create credit key
          </Button>
        }
      >
        Keys your apps use to call the inference API. Credit keys draw on your balance; subscription keys come from pool subscriptions.
      </PageHeader>

      {noCredit && <CreditNotice balance={billing.data.balance} linkRef={billingLink} />}

      <section
        aria-label="Your API keys"
        className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
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
          cards={(rows) => rows.map((k) => <CreditKeyCard key={k.id} k={k} items={row.items(k)} />)}
        >
          {(rows) =>
            rows.map((k) => (
              <Row key={k.id} data-testid="key-row" data-key-name={k.name}>
                <KeyNameCell k={k} className="max-w-[16rem]" href={keyDetailHref(k)} />
                <Cell>
                  <code className="block font-mono text-xs leading-5">{k.keyPrefix}…</code>
                  <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">{keyTypeLabel(k)}</span>
                </Cell>
                <KeyStatusCell k={k} />
                <Cell className="text-zinc-700 dark:text-zinc-300">{limitsText(k)}</Cell>
                <Cell className="text-right tabular-nums" data-testid="key-spend">
                  <Spend usd={k.spend} />
                  <Resets k={k} />
                </Cell>
                <KeyRowTail k={k} items={row.items(k)} lastUsed={<LastUsed iso={k.lastUsedAt} />} />
              </Row>
            ))
          }
        </QueryTable>
      </section>

      <CreateCreditKeyDialog {...create.dialog} existingNames={keys.data?.map((k) => k.name)} />
      <SecretModal {...create.secretModal} title="Your new credit key" className="sm:max-w-2xl">
        {(reportCopy) => secret && <KeySnippets origin={origin} model={model} apiKey={secret} onCopy={reportCopy} />}
      </SecretModal>
      <RotateKeyDialog {...rotate.dialog} what="key" users="apps" />
      <RotatedSecretModal flow={rotate} what="key" className="sm:max-w-2xl">
        {(rotated, reportCopy) => <KeySnippets origin={origin} model={model} apiKey={rotated.secret} onCopy={reportCopy} />}
      </RotatedSecretModal>
      <EditKeyDialog apiKey={edit.editing} pending={edit.pending} error={edit.error} onClose={edit.onClose} onSave={edit.save} />
      <DeleteKeyDialog
        {...row.deleteDialog}
        description="Apps using it stop working at once. This cannot be undone; to stop it for a while instead, pause it."
        confirmLabel="Delete key"
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
          Your balance is {formatDollars(balance)}, and credit keys draw on it. Top up by card on the Billing page where card top-ups are enabled, or ask your
          operator to grant credit (<code className="font-mono text-xs">POST /api/admin/credits</code>).
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

/** A credit key's detail page (its spend and budget); a subscription key has none. */
export function keyDetailHref(k: ApiKeyView): string | undefined {
  return k.keyType === "credit" ? `/keys/${encodeURIComponent(k.id)}` : undefined;
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
    k.maxBudget !== null && `${formatUsdShort(k.maxBudget)} ${k.budgetPeriod ? `${PERIOD_ADJECTIVES[k.budgetPeriod]} ` : ""}budget`,
    k.allowedModels !== null && (k.allowedModels.length === 1 ? k.allowedModels[0] : `${k.allowedModels.length} models`),
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "unlimited";
}

function CreditKeyCard({ k, items }: { k: ApiKeyView; items: ActionMenuItem[] }) {
  return (
    <KeyCard
      k={k}
      testId="key-row"
      items={items}
      href={keyDetailHref(k)}
      subtitle={
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          <code className="font-mono">{k.keyPrefix}…</code> · {keyTypeLabel(k)}
        </p>
      }
    >
      <CardFact term="Limits">{limitsText(k)}</CardFact>
      <CardFact term="Spend">
        <Spend usd={k.spend} />
        <Resets k={k} />
      </CardFact>
      <KeyTimeFacts k={k} lastUsed={<LastUsed iso={k.lastUsedAt} />} />
    </KeyCard>
  );
}

export const PERIOD_ADJECTIVES = { day: "daily", week: "weekly", month: "monthly" } as const;

/** "resets Dec 1, 2026": when a key with a budget period starts its spend from zero again (UTC midnight). */
function Resets({ k }: { k: ApiKeyView }) {
  if (!k.budgetResetsAt) return null;
  return (
    <span className="block text-xs text-zinc-500 dark:text-zinc-400" data-testid="key-budget-resets" title={formatExact(k.budgetResetsAt)}>
      resets {formatUtcDay(k.budgetResetsAt)}
    </span>
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
