import { QueryClient, type QueryKey } from "@tanstack/react-query";
import { ApiError } from "@/lib/client/api";

// t3's pattern: one factory, a short staleTime so navigation doesn't refetch
// everything, and no retries for answers that a retry cannot change.
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
      },
    },
  });
}

/** What `patchCachedRow` saved, for `restoreCachedList` to put back. */
export interface CachedList<T> {
  previous?: T[];
}

/**
 * An optimistic edit of one row of a cached list (a mutation's onMutate):
 * the row changes on screen at once. A poll in flight is cancelled first, or
 * its older answer would flip the row back.
 */
export async function patchCachedRow<T extends { id: string }>(qc: QueryClient, queryKey: QueryKey, id: string, patch: (row: T) => T): Promise<CachedList<T>> {
  await qc.cancelQueries({ queryKey });
  const previous = qc.getQueryData<T[]>(queryKey);
  qc.setQueryData<T[]>(queryKey, (rows) => rows?.map((row) => (row.id === id ? patch(row) : row)));
  return { previous };
}

/** The server refused the edit (a mutation's onError): the list as it was before it. */
export function restoreCachedList<T>(qc: QueryClient, queryKey: QueryKey, saved: CachedList<T> | undefined): void {
  if (saved?.previous) qc.setQueryData(queryKey, saved.previous);
}
