"use client";

import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { formatDate } from "@/components/ui/format";
import { formatUsdShort } from "@/lib/client/money";
import { hoursCovered } from "@/lib/client/blocks";
import type { PoolView } from "@/lib/pools/schemas";
import type { SubscriptionView } from "@/lib/subscriptions/schemas";

export interface RenewDialogProps {
  /** The subscription to renew; null closes the dialog. */
  sub: SubscriptionView | null;
  /** Its pool, for the price; undefined when the pool is no longer listed. */
  pool: PoolView | undefined;
  pending: boolean;
  /** The API's refusal (e.g. a short balance), shown inside the dialog. */
  error?: string;
  onClose: () => void;
  onConfirm: () => void;
}

/**
 * Renewing charges money now, so it is confirmed with the price and with
 * when the new period starts: at the current period's end while that is
 * still ahead (renewing early loses nothing), else now.
 */
export function RenewDialog({ sub, pool, pending, error, onClose, onConfirm }: RenewDialogProps) {
  const price = sub?.renewalPriceUsd;
  // The API calls a subscription expired as soon as its period has ended.
  const running = sub?.status === "active";
  const days = pool?.periodDays ?? 30;

  return (
    <Dialog
      open={sub !== null}
      onClose={onClose}
      title={sub ? `Renew ${sub.poolName}?` : ""}
      testId="renew-dialog"
      description={
        sub && (
          <div className="space-y-2">
            <p>
              {price !== undefined ? (
                <>
                  <strong className="font-semibold text-zinc-900 dark:text-zinc-100">{formatUsdShort(price)}</strong> ({sub.blocks.length}{" "}
                  {sub.blocks.length === 1 ? "block" : "blocks"} × {formatUsdShort(sub.renewalPriceUsd / sub.blocks.length)})
                </>
              ) : (
                "The pool's current price"
              )}{" "}
              is charged to your credit balance now, for another {days} days
              {` of ${hoursCovered(sub.blocks, sub.blockHours)}`}.
            </p>
            <p>
              {running
                ? `The new period starts when the current one ends (${formatDate(sub.periodEnd)}), so renewing early loses nothing.`
                : "The period has ended, so the new one starts now."}{" "}
              Its keys keep working with it.
            </p>
          </div>
        )
      }
    >
      {error && (
        <p
          role="alert"
          className="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-300"
        >
          {error}
        </p>
      )}
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={onClose} autoFocus>
          Cancel
        </Button>
        <Button onClick={onConfirm} disabled={pending}>
          {pending ? "Renewing…" : price !== undefined ? `Renew for ${formatUsdShort(price)}` : "Renew"}
        </Button>
      </div>
    </Dialog>
  );
}
