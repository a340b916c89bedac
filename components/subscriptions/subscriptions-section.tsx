"use client";

import { useState } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { Switch } from "radix-ui";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Card, CardFact, Cell, QueryTable, Row, StatusBadge } from "@/components/ui/data-table";
import { formatDate } from "@/components/ui/format";
import { SectionHeader } from "@/components/ui/headings";
import { RelativeTime } from "@/components/ui/relative-time";
import { KeySnippets } from "@/components/keys/key-snippets";
import { SecretModal } from "@/components/keys/secret-modal";
import { RenewDialog } from "@/components/subscriptions/renew-dialog";
import { useCreateSubscriptionKey, useRenewSubscription, useSetAutoRenew } from "@/components/subscriptions/use-subscriptions";
import { hoursCovered } from "@/lib/client/blocks";
import type { PoolView } from "@/lib/pools/schemas";
import type { SubscriptionView } from "@/lib/subscriptions/schemas";

const COLUMNS = [
  { label: "Pool" },
  { label: "Hours" },
  { label: "Status" },
  { label: "Period" },
  { label: "Auto-renew" },
  { label: "Keys", className: "text-right" },
  { label: "", className: "text-right" },
];

export interface SubscriptionsSectionProps {
  subscriptions: UseQueryResult<SubscriptionView[], Error>;
  /** The pools on sale: a subscription's hours, price and models come from its pool. */
  pools: PoolView[];
  origin: string;
  chatModels: string[];
}

/** The new key and what it needs said beside it, until the modal closes. */
interface NewKey {
  secret: string;
  sub: SubscriptionView;
}

/** A subscription's hours: its blocks joined into UTC ranges (also for a pool no longer on sale). */
function hoursOf(sub: SubscriptionView): string {
  return hoursCovered(sub.blocks, sub.blockHours);
}

export function SubscriptionsSection({ subscriptions, pools, origin, chatModels }: SubscriptionsSectionProps) {
  const autoRenew = useSetAutoRenew();
  const renew = useRenewSubscription();
  const createKey = useCreateSubscriptionKey();
  const [renewing, setRenewing] = useState<SubscriptionView | null>(null);
  const [newKey, setNewKey] = useState<NewKey | null>(null);

  const poolOf = (sub: SubscriptionView) => pools.find((p) => p.id === sub.poolId);

  const actions = (sub: SubscriptionView) => ({
    toggleAutoRenew: (on: boolean) => autoRenew.mutate({ id: sub.id, autoRenew: on }),
    renew: () => setRenewing(sub),
    createKey: () =>
      createKey.mutate(sub, {
        onSuccess: (key) => {
          setNewKey({ secret: key.apiKey, sub });
          createKey.reset();
        },
      }),
    creatingKey: createKey.isPending && createKey.variables?.id === sub.id,
  });

  const keyPool = newKey ? poolOf(newKey.sub) : undefined;
  const snippetModel = keyPool?.models.find((m) => chatModels.includes(m));

  return (
    <section aria-labelledby="subscriptions-heading" className="space-y-4">
      <SectionHeader id="subscriptions-heading" title="Your subscriptions">
        A subscription&apos;s keys work during its hours until its period ends. Renewing charges the next period now; auto-renew charges it from your credit
        balance when the period ends.
      </SectionHeader>
      <div className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={subscriptions}
          columns={COLUMNS}
          label="Your subscriptions"
          loadingLabel="Loading subscriptions"
          empty={{ title: "No subscriptions yet", body: "Pick blocks in a pool above and subscribe; then create keys for the subscription here." }}
          cards={(rows) => rows.map((sub) => <SubscriptionCard key={sub.id} sub={sub} hours={hoursOf(sub)} {...actions(sub)} />)}
        >
          {(rows) =>
            rows.map((sub) => {
              const a = actions(sub);
              return (
                <Row key={sub.id} data-testid="subscription-row" data-pool-name={sub.poolName}>
                  <Cell className="max-w-[14rem]">
                    <p className="truncate font-medium" title={sub.poolName}>
                      {sub.poolName}
                    </p>
                  </Cell>
                  <Cell className="font-mono text-xs" data-testid="subscription-hours">
                    {hoursOf(sub)}
                  </Cell>
                  <Cell className="max-w-[16rem] whitespace-normal">
                    <StatusBadge status={sub.status} />
                    {sub.endedReason && <span className="mt-0.5 block text-xs leading-5 text-zinc-600 dark:text-zinc-400">{sub.endedReason}</span>}
                  </Cell>
                  <Cell className="text-zinc-700 dark:text-zinc-300">
                    <PeriodEnd sub={sub} />
                  </Cell>
                  <Cell>
                    <AutoRenewSwitch sub={sub} onChange={a.toggleAutoRenew} />
                  </Cell>
                  <Cell className="text-right tabular-nums" data-testid="subscription-keys">
                    {sub.keyCount}
                  </Cell>
                  <Cell className="text-right">
                    <RowActions sub={sub} {...a} />
                  </Cell>
                </Row>
              );
            })
          }
        </QueryTable>
      </div>

      <RenewDialog
        sub={renewing}
        pool={renewing ? poolOf(renewing) : undefined}
        pending={renew.isPending}
        error={renew.error?.message}
        onClose={() => {
          setRenewing(null);
          renew.reset();
        }}
        onConfirm={() => {
          if (!renewing) return;
          renew.mutate(renewing, {
            onSuccess: () => {
              setRenewing(null);
              renew.reset();
            },
          });
        }}
      />
      <SecretModal
        secret={newKey?.secret ?? null}
        title={newKey ? `Your new key for ${newKey.sub.poolName}` : ""}
        onClose={() => setNewKey(null)}
        className={snippetModel ? "sm:max-w-2xl" : undefined}
      >
        {(reportCopy) =>
          newKey && (
            <div className="space-y-4">
              <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="subscription-key-note">
                It works during {hoursOf(newKey.sub)} every day until {formatDate(newKey.sub.periodEnd)}
                {keyPool ? `, for ${keyPool.models.join(", ")}` : ""}, one request at a time. Outside those hours it is refused with the time its next block
                starts.
              </p>
              {snippetModel && <KeySnippets origin={origin} model={snippetModel} apiKey={newKey.secret} onCopy={reportCopy} />}
            </div>
          )
        }
      </SecretModal>
    </section>
  );
}

function PeriodEnd({ sub }: { sub: SubscriptionView }) {
  return (
    <span>
      {sub.status === "active" ? "Ends " : "Ended "}
      <RelativeTime iso={sub.periodEnd} />
    </span>
  );
}

/**
 * Auto-renew applies to a running period: once a period has ended the
 * subscription is renewed by hand, so the switch is off and says why.
 */
function AutoRenewSwitch({ sub, onChange }: { sub: SubscriptionView; onChange: (on: boolean) => void }) {
  const usable = sub.status === "active";
  return (
    <Switch.Root
      checked={sub.autoRenew && usable}
      onCheckedChange={onChange}
      disabled={!usable}
      aria-label={`Auto-renew ${sub.poolName}`}
      title={usable ? undefined : sub.status === "expired" ? "Renew it by hand: the period has ended." : "A cancelled subscription cannot be renewed."}
      data-testid="auto-renew"
      className={cn(
        "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full border-2 border-transparent transition-colors",
        "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:focus-visible:outline-indigo-400",
        "bg-zinc-300 data-[state=checked]:bg-indigo-600 disabled:cursor-not-allowed disabled:opacity-50 dark:bg-zinc-600 dark:data-[state=checked]:bg-indigo-500",
      )}
    >
      <Switch.Thumb className="block size-4 rounded-full bg-white shadow transition-transform data-[state=checked]:translate-x-4" />
    </Switch.Root>
  );
}

interface RowActionsProps {
  sub: SubscriptionView;
  renew: () => void;
  createKey: () => void;
  creatingKey: boolean;
}

/** Create key while the subscription runs; Renew unless it was cancelled (its pool's blocks changed meaning). */
function RowActions({ sub, renew, createKey, creatingKey }: RowActionsProps) {
  return (
    <div className="flex justify-end gap-2">
      {sub.status === "active" && (
        <Button size="sm" variant="secondary" onClick={createKey} disabled={creatingKey} aria-label={`Create key for ${sub.poolName}`}>
          {creatingKey ? "Creating…" : "Create key"}
        </Button>
      )}
      {sub.status !== "cancelled" && (
        <Button size="sm" variant="secondary" onClick={renew} aria-label={`Renew ${sub.poolName}`}>
          Renew
        </Button>
      )}
    </div>
  );
}

function SubscriptionCard({
  sub,
  hours,
  toggleAutoRenew,
  ...actions
}: { sub: SubscriptionView; hours: string; toggleAutoRenew: (on: boolean) => void } & Omit<RowActionsProps, "sub">) {
  return (
    <Card data-testid="subscription-row" data-pool-name={sub.poolName}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="truncate font-medium">{sub.poolName}</p>
          <p className="font-mono text-xs text-zinc-600 dark:text-zinc-400">{hours}</p>
        </div>
        <StatusBadge status={sub.status} />
      </div>
      {sub.endedReason && <p className="text-xs text-zinc-600 dark:text-zinc-400">{sub.endedReason}</p>}
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1.5 text-xs">
        <CardFact term={sub.status === "active" ? "Ends" : "Ended"}>
          <RelativeTime iso={sub.periodEnd} />
        </CardFact>
        <CardFact term="Keys">{sub.keyCount}</CardFact>
      </dl>
      <div className="flex items-center gap-2 text-xs">
        <AutoRenewSwitch sub={sub} onChange={toggleAutoRenew} />
        <span aria-hidden className="text-zinc-700 dark:text-zinc-300">
          Auto-renew
        </span>
      </div>
      <div className="flex pt-1">
        <RowActions sub={sub} {...actions} />
      </div>
    </Card>
  );
}
