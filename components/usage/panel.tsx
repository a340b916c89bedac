import { cn } from "@/components/ui/cn";
import { ErrorState, LoadingRows } from "@/components/ui/states";

/** A titled card on the usage screens: a section named by its heading. */
export function Panel({
  id,
  title,
  action,
  className,
  children,
}: {
  id: string;
  title: string;
  action?: React.ReactNode;
  className?: string;
  children: React.ReactNode;
}) {
  return (
    <section
      aria-labelledby={id}
      className={cn("min-w-0 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900", className)}
    >
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id={id} className="text-base font-semibold tracking-tight">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}

/** One big figure and what it is. */
export function Stat({ label, value, testId, hint }: { label: string; value: React.ReactNode; testId: string; hint?: React.ReactNode }) {
  return (
    <div className="min-w-0 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <dt className="text-sm text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 truncate text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {hint && <dd className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">{hint}</dd>}
    </div>
  );
}

/** A query's loading and error states around what it draws once it has data. */
export function QueryState<T>({
  query,
  label,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: Error | null; data: T | undefined; refetch: () => unknown };
  label: string;
  children: (data: T) => React.ReactNode;
}) {
  if (query.isPending) return <LoadingRows label={label} />;
  if (query.isError || query.data === undefined) return <ErrorState message={query.error?.message ?? "Could not load this."} onRetry={() => query.refetch()} />;
  return <>{children(query.data)}</>;
}
