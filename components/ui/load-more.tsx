import { Button } from "@/components/ui/button";

/** The part of an infinite query a "Load more" footer needs (TanStack Query's useInfiniteQuery result). */
interface PagedQuery {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/**
 * Under a keyset-paged table (the request log, the audit log): how many rows
 * are shown, announced to screen readers as it changes, and "Load more" while
 * older pages remain.
 */
export function LoadMoreFooter({ shown, noun, query }: { shown: number; noun: { one: string; other: string }; query: PagedQuery }) {
  return (
    <div className="mt-3 flex items-center justify-between gap-3 text-sm text-zinc-600 dark:text-zinc-400">
      <span role="status">
        {shown} {shown === 1 ? noun.one : noun.other} shown
      </span>
      {query.hasNextPage && (
        <Button variant="secondary" size="sm" onClick={() => query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? "Loading…" : "Load more"}
        </Button>
      )}
    </div>
  );
}
