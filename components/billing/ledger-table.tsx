"use client";

import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Card, Cell, QueryTable, Row } from "@/components/ui/data-table";
import { formatDate, formatExact } from "@/components/ui/format";
import { useLedger } from "@/components/billing/use-billing";
import { formatDollars, formatSpend } from "@/lib/client/money";
import type { LedgerEntryView } from "@/lib/billing/schemas";

const COLUMNS = [{ label: "Date" }, { label: "Kind" }, { label: "Note" }, { label: "Amount", className: "text-right" }];

const KINDS: Record<LedgerEntryView["kind"], string> = {
  grant: "Credit grant",
  topup: "Card top-up",
  usage: "Usage",
  subscription: "Subscription",
};

/**
 * "+$25.00", "−$1.00", "−$0.000021": signed, with a real minus sign, and
 * small usage debits to the micro-dollar so they do not read "$0.00".
 */
export function signedUsd(amount: number): string {
  if (amount === 0) return formatSpend(0);
  return `${amount > 0 ? "+" : "−"}${formatSpend(Math.abs(amount))}`;
}

function Amount({ amount }: { amount: number }) {
  return (
    <span
      title={formatDollars(amount)}
      className={cn(
        "font-medium tabular-nums",
        amount > 0 ? "text-emerald-700 dark:text-emerald-400" : amount < 0 ? "text-red-700 dark:text-red-400" : undefined,
      )}
    >
      {signedUsd(amount)}
    </span>
  );
}

function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatDate(iso)}
    </time>
  );
}

export function LedgerTable({ refetchInterval }: { refetchInterval?: number | false }) {
  const ledger = useLedger({ refetchInterval });
  return (
    <div className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <QueryTable
        query={ledger}
        columns={COLUMNS}
        label="Credit history"
        loadingLabel="Loading credit history"
        empty={{ title: "No credit history yet", body: "Grants, top-ups, usage and subscription charges appear here." }}
        cards={(rows) =>
          rows.map((e) => (
            <Card key={e.id} data-testid="ledger-row" data-kind={e.kind} className="space-y-1">
              <div className="flex items-baseline justify-between gap-3">
                <span className="font-medium">{KINDS[e.kind]}</span>
                <Amount amount={e.amount} />
              </div>
              {e.note && <p className="text-xs text-zinc-700 dark:text-zinc-300">{e.note}</p>}
              <p className="text-xs text-zinc-600 dark:text-zinc-400">
                <When iso={e.createdAt} />
              </p>
            </Card>
          ))
        }
      >
        {(rows) =>
          rows.map((e) => (
            <Row key={e.id} data-testid="ledger-row" data-kind={e.kind}>
              <Cell className="text-zinc-700 dark:text-zinc-300">
                <When iso={e.createdAt} />
              </Cell>
              <Cell>{KINDS[e.kind]}</Cell>
              <Cell className="max-w-[24rem] truncate text-zinc-700 dark:text-zinc-300" title={e.note ?? undefined}>
                {e.note ?? <span className="text-zinc-500 dark:text-zinc-400">—</span>}
              </Cell>
              <Cell className="text-right" data-testid="ledger-amount">
                <Amount amount={e.amount} />
              </Cell>
            </Row>
          ))
        }
      </QueryTable>
      {ledger.hasNextPage && !ledger.isError && (
        <div className="flex justify-center border-t border-zinc-200 p-3 dark:border-zinc-800">
          <Button variant="secondary" size="sm" onClick={() => ledger.fetchNextPage()} disabled={ledger.isFetchingNextPage}>
            {ledger.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </div>
  );
}
