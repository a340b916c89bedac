import { QueryClient } from "@tanstack/react-query";
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
