"use client";

import { useMemo, useSyncExternalStore } from "react";
import { ErrorState, EmptyState, LoadingRows } from "@/components/ui/states";
import { PoolCard } from "@/components/pools/pool-card";
import { usePools } from "@/components/pools/use-pools";
import { SubscriptionsSection } from "@/components/subscriptions/subscriptions-section";
import { useSubscriptions } from "@/components/subscriptions/use-subscriptions";
import { useBillingStatus } from "@/components/keys/use-keys";
import { viewerTimeZone } from "@/lib/client/blocks";

export interface PoolsPageProps {
  /** The address this browser reaches Keygate at, for a new key's code snippets. */
  origin: string;
  /** Models served on /v1/chat/completions: a new key's snippets call the first of its pool's models among them. */
  chatModels: string[];
}

const noSubscribe = () => () => {};

export function PoolsPage({ origin, chatModels }: PoolsPageProps) {
  const pools = usePools();
  const subscriptions = useSubscriptions();
  const billing = useBillingStatus();
  // The server has no idea of the viewer's zone; it renders "UTC" until the browser says.
  const timeZone = useSyncExternalStore(noSubscribe, viewerTimeZone, () => "UTC");

  // The blocks of each pool you already hold: shown as yours, not for sale to you again.
  const yours = useMemo(() => {
    const map = new Map<string, Set<number>>();
    for (const s of subscriptions.data ?? []) {
      if (s.status !== "active") continue;
      const set = map.get(s.poolId) ?? new Set<number>();
      s.blocks.forEach((b) => set.add(b));
      map.set(s.poolId, set);
    }
    return map;
  }, [subscriptions.data]);

  return (
    <div className="space-y-10">
      <div className="max-w-2xl">
        <h1 className="text-2xl font-semibold tracking-tight">Pools</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Reserve hours of the day in a pool, for a flat price per 30 days, and call its models as much as you like during them, one request at a time. Pick
          blocks and subscribe, then create a key for the subscription.
        </p>
      </div>

      <section aria-labelledby="pools-heading" className="space-y-4">
        <h2 id="pools-heading" className="text-lg font-semibold tracking-tight">
          Available pools
        </h2>
        {pools.isPending ? (
          <LoadingRows label="Loading pools" />
        ) : pools.isError ? (
          <ErrorState message={pools.error.message} onRetry={() => pools.refetch()} />
        ) : pools.data.length === 0 ? (
          <div className="rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
            <EmptyState title="No pools on sale">
              The operator of this Keygate creates pools with <code className="font-mono text-xs">POST /api/admin/pools</code>.
            </EmptyState>
          </div>
        ) : (
          <div className="space-y-4">
            {pools.data.map((pool) => (
              <PoolCard key={pool.id} pool={pool} yours={yours.get(pool.id) ?? new Set()} balance={billing.data?.balance} timeZone={timeZone} />
            ))}
          </div>
        )}
      </section>

      <SubscriptionsSection subscriptions={subscriptions} pools={pools.data ?? []} origin={origin} chatModels={chatModels} />
    </div>
  );
}
