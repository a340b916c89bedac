"use client";

import { useSyncExternalStore } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { cn } from "@/components/ui/cn";
import { EmptyState, ErrorState, LoadingRows } from "@/components/ui/states";

export interface Column {
  /** The heading; "" is the unlabelled actions column (named for screen readers). */
  label: string;
  /** Width and alignment, e.g. "w-12 text-right". */
  className?: string;
}

export interface QueryTableProps<T> {
  query: UseQueryResult<T[], Error>;
  columns: Array<string | Column>;
  /** Names the table and, on a phone, the list of cards. */
  label: string;
  loadingLabel: string;
  empty: { title: string; body: React.ReactNode };
  /** The table's rows (`<tr>`), from 640 px up. */
  children: (rows: T[]) => React.ReactNode;
  /** One card (`<li>`) per row, below 640 px: a phone reads a list, not a table it has to scroll sideways. */
  cards?: (rows: T[]) => React.ReactNode;
}

const PHONE = "(max-width: 639.98px)";

function subscribe(onChange: () => void): () => void {
  const query = window.matchMedia(PHONE);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

/**
 * Which layout to render. One layout at a time, not both hidden by CSS: the
 * rows exist once in the DOM, for screen readers and for tests alike. The
 * server renders the table (the list only ever arrives on the client anyway).
 */
function useIsPhone(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => window.matchMedia(PHONE).matches,
    () => false,
  );
}

/** A list screen's table (or cards, on a phone) with its loading, error and empty states. */
export function QueryTable<T>({ query, columns, label, loadingLabel, empty, children, cards }: QueryTableProps<T>) {
  const phone = useIsPhone();
  if (query.isPending) return <LoadingRows label={loadingLabel} />;
  if (query.isError) return <ErrorState message={query.error.message} onRetry={() => query.refetch()} />;
  if (query.data.length === 0) return <EmptyState title={empty.title}>{empty.body}</EmptyState>;
  if (phone && cards) {
    return (
      <ul aria-label={label} className="divide-y divide-zinc-200 dark:divide-zinc-800">
        {cards(query.data)}
      </ul>
    );
  }
  return (
    // `relative` makes this scroller the containing block of the absolutely
    // positioned sr-only header, which otherwise escapes it and makes the
    // whole page scroll sideways.
    <div className="relative overflow-x-auto">
      <table aria-label={label} className="w-full text-left text-sm">
        <thead className="border-b border-zinc-200 bg-zinc-50/80 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950/40 dark:text-zinc-400">
          <tr>
            {columns.map((c) => {
              const col = typeof c === "string" ? { label: c } : c;
              return (
                <th key={col.label || "actions"} scope="col" className={cn("h-10 whitespace-nowrap px-4 font-medium", col.className)}>
                  {col.label || <span className="sr-only">Actions</span>}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">{children(query.data)}</tbody>
      </table>
    </div>
  );
}

/** A body row: the hover tint helps the eye follow a wide row. */
export function Row({ className, ...props }: React.HTMLAttributes<HTMLTableRowElement>) {
  return <tr className={cn("transition-colors hover:bg-zinc-50 dark:hover:bg-zinc-800/40", className)} {...props} />;
}

/** A body cell: one line where it can, so rows stay about 56 px tall. */
export function Cell({ className, ...props }: React.TdHTMLAttributes<HTMLTableCellElement>) {
  return <td className={cn("whitespace-nowrap px-4 py-2 align-middle", className)} {...props} />;
}

/** A card on a phone: the same data as a row, with its actions in view. */
export function Card({ className, ...props }: React.LiHTMLAttributes<HTMLLIElement>) {
  return <li className={cn("space-y-2 px-4 py-4", className)} {...props} />;
}

/** A label and its value inside a phone card. */
export function CardFact({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-zinc-500 dark:text-zinc-400">{term}</dt>
      <dd className="truncate text-zinc-800 dark:text-zinc-200">{children}</dd>
    </div>
  );
}

/** A key's status (see `keyStatus` in components/keys/key-list.tsx). */
export type RowStatus = "active" | "paused" | "expired";

/** What a badge can say: a key's status, or a pool subscription's (which can also be cancelled). */
export type BadgeStatus = RowStatus | "cancelled";

const STATUS: Record<BadgeStatus, [string, string, string]> = {
  active: [
    "Active",
    "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-950/50 dark:text-emerald-300 dark:ring-emerald-400/20",
    "bg-emerald-500",
  ],
  paused: ["Paused", "bg-amber-50 text-amber-900 ring-amber-600/20 dark:bg-amber-950/50 dark:text-amber-300 dark:ring-amber-400/20", "bg-amber-500"],
  expired: ["Expired", "bg-zinc-100 text-zinc-700 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-400/20", "bg-zinc-400"],
  cancelled: ["Cancelled", "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-950/50 dark:text-red-300 dark:ring-red-400/20", "bg-red-500"],
};

export function StatusBadge({ status }: { status: BadgeStatus }) {
  const [label, tone, dot] = STATUS[status];
  return (
    <span className={cn("inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium leading-4 ring-1 ring-inset", tone)}>
      <span aria-hidden className={cn("size-1.5 rounded-full", dot)} />
      {label}
    </span>
  );
}
