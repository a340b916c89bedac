"use client";

import { formatUsd, formatUtcDay } from "@/components/ui/format";
import { ErrorState, LoadingRows } from "@/components/ui/states";
import { useBillingStatus } from "@/components/keys/use-keys";

export function BillingPage() {
  const status = useBillingStatus();
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Billing</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Your credit balance is shared by all your credit keys.</p>
      </div>
      {status.isPending ? (
        <LoadingRows label="Loading billing status" />
      ) : status.isError ? (
        <ErrorState message={status.error.message} onRetry={() => status.refetch()} />
      ) : (
        <>
          <dl className="grid grid-cols-1 gap-4 sm:grid-cols-3">
            <Stat label="Credit balance" value={formatUsd(status.data.balance)} testId="balance" />
            <Stat label="Spent this period" value={formatUsd(status.data.spendThisPeriod)} />
            <Stat
              label="Active keys"
              value={`${status.data.keys.credit.active + status.data.keys.subscription.active} of ${status.data.keys.credit.total + status.data.keys.subscription.total}`}
            />
          </dl>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {/* The API's end is exclusive (the next month's first instant); people read the last day. */}
            Period: {formatUtcDay(status.data.period.start)} – {formatUtcDay(new Date(Date.parse(status.data.period.end) - 1).toISOString())} (UTC
            calendar month).
          </p>
          <section className="rounded-xl border border-zinc-200 bg-white p-6 text-sm dark:border-zinc-800 dark:bg-zinc-900">
            <h2 className="mb-2 text-base font-medium">Adding credit</h2>
            <p className="text-zinc-600 dark:text-zinc-400">
              On this Keygate, the operator grants credit with <code className="font-mono">POST /api/admin/credits</code>. Card top-ups
              appear here when the operator enables Stripe.
            </p>
          </section>
        </>
      )}
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="rounded-xl border border-zinc-200 bg-white p-5 dark:border-zinc-800 dark:bg-zinc-900">
      <dt className="text-sm text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold" data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}
