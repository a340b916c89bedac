"use client";

import { useId, useState } from "react";
import { buttonVariants } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { inputClassName } from "@/components/ui/field";
import { formatCount, formatExact, formatDate } from "@/components/ui/format";
import { PageHeader } from "@/components/ui/headings";
import { EmptyState, ErrorState, LoadingRows } from "@/components/ui/states";
import { useKeys } from "@/components/keys/use-keys";
import { DailySpendChart, RankedSpendChart, dailyPoints, rankedPoints } from "@/components/usage/charts";
import { LoadMoreFooter } from "@/components/ui/load-more";
import { Panel, QueryState } from "@/components/usage/panel";
import { requestLogQuery, useRequestLog, useUsage, type RequestLogFilters } from "@/components/usage/use-usage";
import { formatDollars, formatSpend } from "@/lib/client/money";

const WINDOWS = [7, 30, 90] as const;
type WindowDays = (typeof WINDOWS)[number];

/** The statuses worth filtering on: success, the upstream errors, a client that went away. */
const STATUSES = [200, 400, 401, 404, 408, 429, 499, 500, 502, 503, 504];

export function UsagePage() {
  const [days, setDays] = useState<WindowDays>(30);
  const daily = useUsage({ groupBy: "day", days });
  const byKey = useUsage({ groupBy: "key", days });
  const byModel = useUsage({ groupBy: "model", days });

  return (
    <div className="space-y-6">
      <PageHeader title="Usage" action={<WindowSelector days={days} onChange={setDays} />}>
        What your keys spent, per UTC day, key and model, and every request they made.
      </PageHeader>

      <Panel id="usage-daily-title" title={`Spend per day, last ${days} days`}>
        <QueryState query={daily} label="Loading spend per day">
          {(report) => (
            <>
              <Totals report={report} />
              <DailySpendChart points={dailyPoints(report, days)} label={`Spend per day, last ${days} days`} />
            </>
          )}
        </QueryState>
      </Panel>

      <div className="grid gap-6 lg:grid-cols-2">
        <RankedPanel by="key" query={byKey} days={days} />
        <RankedPanel by="model" query={byModel} days={days} />
      </div>

      <RequestLog models={byModel.data?.rows.flatMap((r) => ("model" in r ? [r.model] : [])) ?? []} />
    </div>
  );
}

/** Spend by key or by model over the window, largest first: the two panels beside each other. */
function RankedPanel({ by, query, days }: { by: "key" | "model"; query: ReturnType<typeof useUsage>; days: WindowDays }) {
  const name = by === "key" ? "Key" : "Model";
  return (
    <Panel id={`usage-${by}s-title`} title={`By ${by}`}>
      <QueryState query={query} label={`Loading spend by ${by}`}>
        {(report) =>
          report.rows.length ? (
            <RankedSpendChart points={rankedPoints(report)} label={`Spend by ${by}, last ${days} days`} nameHeading={name} testId={`${by}-chart`} />
          ) : (
            <EmptyState title="No requests in this window" />
          )
        }
      </QueryState>
    </Panel>
  );
}

function WindowSelector({ days, onChange }: { days: WindowDays; onChange: (d: WindowDays) => void }) {
  return (
    <div role="radiogroup" aria-label="Window" className="inline-flex rounded-md border border-zinc-300 p-0.5 dark:border-zinc-700">
      {WINDOWS.map((d) => (
        <button
          key={d}
          type="button"
          role="radio"
          aria-checked={days === d}
          onClick={() => onChange(d)}
          className={cn(
            "h-8 rounded px-3 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-600",
            days === d ? "bg-indigo-600 text-white" : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800",
          )}
        >
          {d} days
        </button>
      ))}
    </div>
  );
}

function Totals({
  report,
}: {
  report: { totals: { requests: number; costUsd: number; inputTokens: number; outputTokens: number; refused: Record<string, number> } };
}) {
  const t = report.totals;
  const refused = Object.values(t.refused).reduce((a, b) => a + b, 0);
  return (
    <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400" data-testid="usage-totals">
      <span className="font-medium text-zinc-900 dark:text-zinc-100">{formatSpend(t.costUsd)}</span> · {formatCount(t.requests)} requests ·{" "}
      {formatCount(t.inputTokens)} input and {formatCount(t.outputTokens)} output tokens
      {refused > 0 && ` · ${formatCount(refused)} refused before any upstream`}
    </p>
  );
}

function RequestLog({ models }: { models: string[] }) {
  const keys = useKeys();
  const [filters, setFilters] = useState<RequestLogFilters>({});
  const log = useRequestLog(filters);
  const ids = { key: useId(), model: useId(), status: useId() };
  const rows = log.data?.pages.flatMap((p) => p.data) ?? [];
  const csv = `/api/usage/requests?${requestLogQuery(filters, { format: "csv" })}`;
  // A model filter stays listed even when the window's report does not name it.
  const modelOptions = filters.model && !models.includes(filters.model) ? [...models, filters.model] : models;

  return (
    <Panel
      id="request-log-title"
      title="Requests"
      action={
        <a href={csv} download className={buttonVariants({ variant: "secondary", size: "sm" })} data-testid="download-csv">
          Download CSV
        </a>
      }
    >
      <div className="mb-3 grid gap-3 sm:grid-cols-3">
        <div>
          <label htmlFor={ids.key} className="mb-1 block text-sm font-medium">
            Key
          </label>
          <select
            id={ids.key}
            className={inputClassName}
            value={filters.keyId ?? ""}
            onChange={(e) => setFilters((f) => ({ ...f, keyId: e.target.value || undefined }))}
          >
            <option value="">All keys</option>
            {keys.data?.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.model} className="mb-1 block text-sm font-medium">
            Model
          </label>
          <select
            id={ids.model}
            className={inputClassName}
            value={filters.model ?? ""}
            onChange={(e) => setFilters((f) => ({ ...f, model: e.target.value || undefined }))}
          >
            <option value="">All models</option>
            {modelOptions.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.status} className="mb-1 block text-sm font-medium">
            Status
          </label>
          <select
            id={ids.status}
            className={inputClassName}
            value={filters.status ?? ""}
            onChange={(e) => setFilters((f) => ({ ...f, status: e.target.value ? Number(e.target.value) : undefined }))}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>

      {log.isPending ? (
        <LoadingRows label="Loading requests" />
      ) : log.isError ? (
        <ErrorState message={log.error.message} onRetry={() => log.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No requests">Requests show up here about a second after they finish, and are kept for 30 days (as your operator sets).</EmptyState>
      ) : (
        <>
          <div className="relative -mx-4 overflow-x-auto">
            <table aria-label="Requests, newest first" className="w-full text-left text-sm">
              <thead className="border-y border-zinc-200 bg-zinc-50/80 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950/40 dark:text-zinc-400">
                <tr>
                  {["Time", "Key", "Model", "Status", "Tokens in / out", "Cost", "Latency"].map((h) => (
                    <th key={h} scope="col" className={cn("h-9 whitespace-nowrap px-4 font-medium", (h === "Cost" || h === "Latency") && "text-right")}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {rows.map((r) => (
                  <tr key={r.id} data-testid="request-row" data-request-id={r.id}>
                    <td className="whitespace-nowrap px-4 py-2">
                      <time dateTime={r.at} title={formatExact(r.at)}>
                        {formatDate(r.at)}
                      </time>
                    </td>
                    <td className="max-w-[12rem] truncate whitespace-nowrap px-4 py-2" data-testid="request-key">
                      {r.keyName ?? <span className="text-zinc-500 dark:text-zinc-400">deleted key</span>}
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 font-mono text-xs">{r.model}</td>
                    <td className="whitespace-nowrap px-4 py-2" data-testid="request-status">
                      <span className={r.status < 400 ? "text-emerald-700 dark:text-emerald-400" : "text-red-700 dark:text-red-400"}>{r.status}</span>
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 tabular-nums">
                      {formatCount(r.inputTokens)} / {formatCount(r.outputTokens)}
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 text-right tabular-nums" data-testid="request-cost" title={formatDollars(r.costUsd)}>
                      {formatSpend(r.costUsd)}
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 text-right tabular-nums">{formatCount(r.latencyMs)} ms</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMoreFooter shown={rows.length} noun={{ one: "request", other: "requests" }} query={log} />
        </>
      )}
    </Panel>
  );
}
