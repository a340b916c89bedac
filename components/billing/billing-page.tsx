"use client";

import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { formatUtcDay } from "@/components/ui/format";
import { formatDollars } from "@/lib/client/money";
import { SectionHeader } from "@/components/ui/headings";
import { ErrorState, LoadingRows } from "@/components/ui/states";
import { useBillingStatus } from "@/components/keys/use-keys";
import { LedgerTable } from "@/components/billing/ledger-table";
import { TopUpDialog } from "@/components/billing/top-up-dialog";

export interface BillingPageProps {
  /** Card top-ups are on: the operator configured Stripe. */
  topUps: boolean;
  /** Where Stripe sent the browser back from: a paid or an abandoned checkout. */
  returnedFromCheckout?: "success" | "cancelled";
}

/** How long the page keeps looking for a paid top-up to land after Stripe sends the browser back, and how often. */
const TOP_UP_WATCH_MS = 60_000;
const TOP_UP_POLL_MS = 3_000;

export function BillingPage({ topUps, returnedFromCheckout }: BillingPageProps) {
  const status = useBillingStatus();
  const [toppingUp, setToppingUp] = useState(false);
  const watching = useTopUpWatch(returnedFromCheckout === "success");

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Billing</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Your credit balance is shared by all your credit keys, and pays for pool subscriptions.
          </p>
        </div>
        {topUps && <Button onClick={() => setToppingUp(true)}>Top up</Button>}
      </div>

      {returnedFromCheckout && <CheckoutNotice result={returnedFromCheckout} watching={watching} />}

      {status.isPending ? (
        <LoadingRows label="Loading billing status" />
      ) : status.isError ? (
        <ErrorState message={status.error.message} onRetry={() => status.refetch()} />
      ) : (
        <>
          <dl className="grid grid-cols-1 gap-4 sm:grid-cols-3">
            <Stat label="Credit balance" value={formatDollars(status.data.balance)} testId="balance" />
            <Stat label="Spent this period" value={formatDollars(status.data.spendThisPeriod)} />
            <Stat
              label="Active keys"
              value={`${status.data.keys.credit.active + status.data.keys.subscription.active} of ${status.data.keys.credit.total + status.data.keys.subscription.total}`}
            />
          </dl>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {/* The API's end is exclusive (the next month's first instant); people read the last day. */}
            Period: {formatUtcDay(status.data.period.start)} – {formatUtcDay(new Date(Date.parse(status.data.period.end) - 1).toISOString())} (UTC calendar
            month).
          </p>
        </>
      )}

      {!topUps && (
        <section className="rounded-xl border border-zinc-200 bg-white p-6 text-sm dark:border-zinc-800 dark:bg-zinc-900">
          <h2 className="mb-2 text-base font-medium">Adding credit</h2>
          <p className="text-zinc-600 dark:text-zinc-400">
            On this Keygate, the operator grants credit with <code className="font-mono">POST /api/admin/credits</code>. Card top-ups appear here when the
            operator enables Stripe.
          </p>
        </section>
      )}

      <section aria-labelledby="ledger-heading" className="space-y-3">
        <SectionHeader id="ledger-heading" title="Credit history">
          Every change to your balance, newest first. Usage is charged a second&apos;s requests at a time.
        </SectionHeader>
        <LedgerTable refetchInterval={watching ? TOP_UP_POLL_MS : false} />
      </section>

      {topUps && <TopUpDialog open={toppingUp} onClose={() => setToppingUp(false)} />}
    </div>
  );
}

/**
 * After a paid checkout the credit arrives with Stripe's webhook, usually a
 * few seconds after the browser: the balance and history are refetched
 * every few seconds for a minute, so it shows up without a reload.
 */
function useTopUpWatch(on: boolean): boolean {
  const qc = useQueryClient();
  const [watching, setWatching] = useState(on);
  useEffect(() => {
    if (!on) return;
    const poll = setInterval(() => void qc.invalidateQueries({ queryKey: ["billing", "status"] }), TOP_UP_POLL_MS);
    const stop = setTimeout(() => {
      clearInterval(poll);
      setWatching(false);
    }, TOP_UP_WATCH_MS);
    return () => {
      clearInterval(poll);
      clearTimeout(stop);
    };
  }, [on, qc]);
  return watching;
}

function CheckoutNotice({ result, watching }: { result: "success" | "cancelled"; watching: boolean }) {
  const paid = result === "success";
  return (
    <p
      role="status"
      data-testid="checkout-notice"
      className={
        paid
          ? "rounded-lg border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900 dark:border-emerald-900/60 dark:bg-emerald-950/30 dark:text-emerald-200"
          : "rounded-lg border border-zinc-200 bg-zinc-50 px-4 py-3 text-sm text-zinc-800 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-200"
      }
    >
      {paid
        ? `Thank you: Stripe took the payment. The credit is added as soon as Stripe confirms it, usually within seconds${watching ? "; this page updates by itself" : ""}.`
        : "Top-up cancelled: nothing was charged."}
    </p>
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
