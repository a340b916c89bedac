"use client";

import Link from "next/link";
import { PageHeader } from "@/components/ui/headings";
import { EmptyState } from "@/components/ui/states";
import { useBillingStatus, useKeys } from "@/components/keys/use-keys";
import { BudgetBanner } from "@/components/usage/budget-banner";
import { DailySpendChart, dailyPoints } from "@/components/usage/charts";
import { Panel, QueryState, Stat } from "@/components/usage/panel";
import { useUsage } from "@/components/usage/use-usage";
import { formatDollars, formatSpend } from "@/lib/client/money";

const TOP_KEYS = 5;

/**
 * The first page after sign-in: the balance, what was spent today and this
 * month, the last 30 days, and the keys that spent most. Four requests
 * (balance, keys, the daily and the per-key report), each shared with the
 * other screens that ask the same.
 */
export function OverviewPage() {
  const billing = useBillingStatus();
  const keys = useKeys();
  const daily = useUsage({ groupBy: "day" });
  const byKey = useUsage({ groupBy: "key" });
  const points = dailyPoints(daily.data, 30);
  const today = points[points.length - 1];

  return (
    <div className="space-y-6">
      <PageHeader title="Overview">Your balance and what your keys spent over the last 30 days (UTC days).</PageHeader>

      <BudgetBanner keys={keys.data} />

      <dl className="grid gap-4 sm:grid-cols-3">
        <Stat label="Balance" testId="overview-balance" value={billing.data ? formatDollars(billing.data.balance, { max: 2 }) : "…"} />
        <Stat label="Spent today" testId="overview-spend-today" value={daily.data ? formatSpend(today.costUsd) : "…"} hint="Since 00:00 UTC" />
        <Stat
          label="Spent this month"
          testId="overview-spend-month"
          value={billing.data ? formatSpend(billing.data.spendThisPeriod) : "…"}
          hint="Usage and subscriptions, this calendar month (UTC)"
        />
      </dl>

      <Panel id="overview-chart-title" title="Spend, last 30 days">
        <QueryState query={daily} label="Loading the last 30 days">
          {() => <DailySpendChart points={points} label="Spend per day, last 30 days" />}
        </QueryState>
      </Panel>

      <Panel
        id="top-keys-title"
        title="Top keys"
        action={
          <Link href="/usage" className="text-sm font-medium text-indigo-700 underline-offset-4 hover:underline dark:text-indigo-300">
            All usage <span aria-hidden>→</span>
          </Link>
        }
      >
        <QueryState query={byKey} label="Loading the top keys">
          {(report) =>
            report.rows.length === 0 ? (
              <EmptyState title="No requests in the last 30 days">Requests your keys make show up here about a second after they finish.</EmptyState>
            ) : (
              <ol aria-labelledby="top-keys-title" className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {report.rows.slice(0, TOP_KEYS).map((r) =>
                  "keyId" in r ? (
                    <li key={r.keyId} data-testid="top-key" className="flex items-center justify-between gap-3 py-2 text-sm">
                      {r.keyName === null ? (
                        <span className="truncate text-zinc-500 dark:text-zinc-400">deleted key</span>
                      ) : (
                        <Link href={`/keys/${encodeURIComponent(r.keyId)}`} className="truncate font-medium underline-offset-4 hover:underline">
                          {r.keyName}
                        </Link>
                      )}
                      <span className="shrink-0 tabular-nums text-zinc-700 dark:text-zinc-300">
                        <span className="text-zinc-500 dark:text-zinc-400">{r.requests} requests · </span>
                        <span data-testid="top-key-spend" title={formatDollars(r.costUsd)}>
                          {formatSpend(r.costUsd)}
                        </span>
                      </span>
                    </li>
                  ) : null,
                )}
              </ol>
            )
          }
        </QueryState>
      </Panel>
    </div>
  );
}
