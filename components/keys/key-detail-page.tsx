"use client";

import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { StatusBadge } from "@/components/ui/data-table";
import { formatExact, formatUtcDay } from "@/components/ui/format";
import { PageHeader } from "@/components/ui/headings";
import { EmptyState } from "@/components/ui/states";
import { keyStatus } from "@/components/keys/key-list";
import { KeySnippets } from "@/components/keys/key-snippets";
import { limitsText, PERIOD_ADJECTIVES } from "@/components/keys/keys-page";
import { RotateKeyDialog, RotatedSecretModal } from "@/components/keys/rotate-key-dialog";
import { useRotateKeyFlow } from "@/components/keys/use-key-actions";
import { useKeys, useRotateKey } from "@/components/keys/use-keys";
import { auditQueries } from "@/components/audit/use-audit";
import { BUDGET_WARNING } from "@/components/usage/budget-banner";
import { Sparkline, dailyPoints } from "@/components/usage/charts";
import { Panel, QueryState } from "@/components/usage/panel";
import { AuditLog } from "@/components/audit/audit-log";
import { useUsage } from "@/components/usage/use-usage";
import { formatDollars, formatSpend, formatUsdShort } from "@/lib/client/money";
import type { ApiKeyView } from "@/lib/keys/schemas";

/**
 * A credit key's page: its 30 days of spend, its budget, and its history
 * from the audit log, with Rotate at hand (the same dialog and show-once
 * modal as the keys list). The key comes from the keys list the keys page
 * already keeps (one cache entry), so opening it from there asks only for
 * its usage.
 */
export function KeyDetailPage({ keyId, origin, model }: { keyId: string; origin: string; model: string }) {
  const keys = useKeys();
  const k = keys.data?.find((x) => x.id === keyId);
  return (
    <div className="space-y-6">
      <Link href="/keys" className="text-sm font-medium text-indigo-700 underline-offset-4 hover:underline dark:text-indigo-300">
        <span aria-hidden>←</span> API keys
      </Link>
      <QueryState query={keys} label="Loading the key">
        {() =>
          k ? (
            <KeyDetail k={k} origin={origin} model={model} />
          ) : (
            <EmptyState title="No such key">It may have been deleted, or belong to another account.</EmptyState>
          )
        }
      </QueryState>
    </div>
  );
}

function KeyDetail({ k, origin, model }: { k: ApiKeyView; origin: string; model: string }) {
  const usage = useUsage({ groupBy: "day", keyId: k.id });
  const points = dailyPoints(usage.data, 30);
  const qc = useQueryClient();
  const rotate = useRotateKeyFlow<ApiKeyView, unknown>(useRotateKey());
  const expired = keyStatus(k) === "expired";
  return (
    <>
      <PageHeader
        title={k.name}
        action={
          <div className="flex items-center gap-3">
            <StatusBadge status={keyStatus(k)} />
            {/* An expired key cannot be rotated (the API answers 409): move its expiry first, from the keys list. */}
            {!expired && (
              <Button variant="secondary" size="sm" onClick={() => rotate.start(k)}>
                Rotate…
              </Button>
            )}
          </div>
        }
      >
        <code className="font-mono text-xs">{k.keyPrefix}…</code> · {k.keyType === "credit" ? "Credit key" : "Subscription key"} · {limitsText(k)}
      </PageHeader>
      <div className="grid gap-6 md:grid-cols-2">
        <Panel id="key-spend-title" title="Spend, last 30 days">
          <QueryState query={usage} label="Loading the key's spend">
            {(report) => (
              <>
                <p className="mb-2 text-sm text-zinc-600 dark:text-zinc-400">
                  <span className="font-medium text-zinc-900 dark:text-zinc-100" data-testid="key-30-day-spend">
                    {formatSpend(report.totals.costUsd)}
                  </span>{" "}
                  in {report.totals.requests} requests
                </p>
                <Sparkline points={points} label={`${k.name}: spend per day, last 30 days`} />
              </>
            )}
          </QueryState>
        </Panel>
        <Panel id="key-budget-title" title="Budget">
          <BudgetBar k={k} />
        </Panel>
      </div>
      <AuditLog scope="own" id="key-history-title" title="History" fixed={{ targetId: k.id }} />
      <RotateKeyDialog {...rotate.dialog} what="key" users="apps" />
      <RotatedSecretModal
        flow={rotate}
        what="key"
        // The rotation is the newest line of the key's history.
        onClosed={() => void qc.invalidateQueries({ queryKey: auditQueries.all })}
        className="sm:max-w-2xl"
      >
        {(rotated, reportCopy) => <KeySnippets origin={origin} model={model} apiKey={rotated.secret} onCopy={reportCopy} />}
      </RotatedSecretModal>
    </>
  );
}

/** Spend against maxBudget: the period's spend when the budget has a period. */
function BudgetBar({ k }: { k: ApiKeyView }) {
  if (k.maxBudget === null) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="key-budget">
        No budget: {formatSpend(k.spend)} spent. Edit the key to cap its spend.
      </p>
    );
  }
  const share = Math.min(1, k.spend / k.maxBudget);
  const percent = Math.floor((k.spend / k.maxBudget) * 100);
  const colour = share >= 1 ? "bg-red-600 dark:bg-red-500" : share >= BUDGET_WARNING ? "bg-amber-500 dark:bg-amber-400" : "bg-indigo-600 dark:bg-indigo-400";
  const what = k.budgetPeriod ? `${PERIOD_ADJECTIVES[k.budgetPeriod]} budget` : "lifetime budget";
  return (
    <div data-testid="key-budget" className="space-y-2 text-sm">
      <p>
        <span className="font-medium" data-testid="key-budget-spend" title={formatDollars(k.spend)}>
          {formatSpend(k.spend)}
        </span>{" "}
        of {formatUsdShort(k.maxBudget)} {what} ({percent} %)
      </p>
      <div
        role="progressbar"
        aria-label={`Budget used: ${what}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, percent)}
        aria-valuetext={`${formatSpend(k.spend)} of ${formatUsdShort(k.maxBudget)}, ${percent} %`}
        className="h-2.5 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div className={`h-full rounded-full ${colour}`} style={{ width: `${share * 100}%` }} />
      </div>
      {k.budgetResetsAt && (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="key-budget-resets">
          Resets{" "}
          <time dateTime={k.budgetResetsAt} title={formatExact(k.budgetResetsAt)}>
            {formatUtcDay(k.budgetResetsAt)}
          </time>{" "}
          (00:00 UTC)
        </p>
      )}
    </div>
  );
}
