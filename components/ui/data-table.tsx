import type { UseQueryResult } from "@tanstack/react-query";
import { EmptyState, ErrorState, LoadingRows } from "@/components/ui/states";

export interface QueryTableProps<T> {
  query: UseQueryResult<T[], Error>;
  /** Column headings; "" is the unlabelled actions column (named for screen readers). */
  columns: string[];
  /** A literal Tailwind class, e.g. "min-w-[40rem]": below it the table scrolls in its own box. */
  minWidth: string;
  loadingLabel: string;
  empty: { title: string; body: React.ReactNode };
  children: (rows: T[]) => React.ReactNode;
}

/** A list screen's table with its loading, error and empty states. */
export function QueryTable<T>({ query, columns, minWidth, loadingLabel, empty, children }: QueryTableProps<T>) {
  if (query.isPending) return <LoadingRows label={loadingLabel} />;
  if (query.isError) return <ErrorState message={query.error.message} onRetry={() => query.refetch()} />;
  if (query.data.length === 0) return <EmptyState title={empty.title}>{empty.body}</EmptyState>;
  return (
    // `relative` makes this scroller the containing block of the absolutely
    // positioned sr-only header, which otherwise escapes it and makes the
    // whole page scroll sideways on a phone.
    <div className="relative overflow-x-auto">
      <table className={`w-full ${minWidth} text-left text-sm`}>
        <thead className="border-b border-zinc-200 bg-zinc-50 text-xs uppercase tracking-wide text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950 dark:text-zinc-400">
          <tr>
            {columns.map((c) => (
              <th key={c || "actions"} scope="col" className="px-4 py-3 font-medium">
                {c || <span className="sr-only">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">{children(query.data)}</tbody>
      </table>
    </div>
  );
}
