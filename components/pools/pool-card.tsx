"use client";

import { useId, useState } from "react";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { formatDollars, formatUsdShort } from "@/lib/client/money";
import { BlockStrip, type BlockState } from "@/components/pools/block-strip";
import { useSubscribe } from "@/components/pools/use-pools";
import { ApiError } from "@/lib/client/api";
import { blockIndexAt, blockList, localRange, utcRange } from "@/lib/client/blocks";
import type { PoolBlockView, PoolView } from "@/lib/pools/schemas";

export interface PoolCardProps {
  pool: PoolView;
  /** Blocks of this pool held by your active subscriptions. */
  yours: ReadonlySet<number>;
  /** Your credit balance, when known: subscriptions are charged to it. */
  balance?: number;
  timeZone: string;
}

type Refusal = { message: string; needsCredit: boolean };

/**
 * The blocks a 409 `block_full` names. Each of its `details` is one full
 * block: `path` is `blocks.<position in the request>`, and the message
 * starts "Block <index> (…)". Should neither say, every block that was
 * asked for is taken to be the problem (the refreshed strip shows which).
 */
function fullBlocks(err: ApiError, asked: number[]): number[] {
  const named = new Set<number>();
  for (const d of err.details ?? []) {
    const position = /^blocks\.(\d+)$/.exec(d.path ?? "");
    if (position && asked[Number(position[1])] !== undefined) named.add(asked[Number(position[1])]);
    const index = /^Block (\d+)\b/.exec(d.message);
    if (index && asked.includes(Number(index[1]))) named.add(Number(index[1]));
  }
  return named.size ? [...named] : asked;
}

/**
 * The picked hours on the viewer's clock, "06–12 UTC is 07:00–13:00 in
 * Europe/Berlin", or just the zone where that clock is UTC.
 */
function localHours(blocks: PoolBlockView[], timeZone: string): string {
  const same = blocks.every((b) => localRange(b.startHourUtc, b.endHourUtc) === localRange(b.startHourUtc, b.endHourUtc, { timeZone: "UTC" }));
  if (same) return "Your clock is on UTC.";
  const ranges = blocks.map((b) => `${utcRange(b.startHourUtc, b.endHourUtc)} is ${localRange(b.startHourUtc, b.endHourUtc)}`);
  return `${ranges.join(", ")} in ${timeZone}.`;
}

export function PoolCard({ pool, yours, balance, timeZone }: PoolCardProps) {
  const titleId = useId();
  const subscribe = useSubscribe();
  const [picked, setPicked] = useState<number[]>([]);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  // Read once: which block is "now" does not need to tick while the page is open.
  const [now] = useState(() => Date.now());

  const stateOf = (b: PoolBlockView): BlockState => (yours.has(b.index) ? "yours" : b.remaining > 0 ? "free" : "full");
  // A picked block that has since filled up (the list refreshes) drops out of the order by itself.
  const selected = picked.filter((i) => pool.blocks.some((b) => b.index === i && stateOf(b) === "free")).sort((a, b) => a - b);
  const total = selected.length * pool.pricePerBlockUsd;
  const short = balance !== undefined && selected.length > 0 && balance < total;

  function toggle(index: number) {
    setRefusal(null);
    setPicked((p) => (p.includes(index) ? p.filter((i) => i !== index) : [...p, index]));
  }

  function submit() {
    if (!selected.length) return;
    setRefusal(null);
    subscribe.mutate(
      { pool, blocks: selected },
      {
        onSuccess: () => setPicked([]),
        onError: (err) => {
          if (err instanceof ApiError && err.status === 409 && err.code === "block_full") {
            const full = fullBlocks(err, selected);
            setPicked((p) => p.filter((i) => !full.includes(i)));
            setRefusal({
              message: `${blockList(full, pool.blockHours)} just filled up; pick ${full.length > 1 ? "others" : "another"}. Nothing was charged.`,
              needsCredit: false,
            });
          } else {
            setRefusal({ message: err.message, needsCredit: err instanceof ApiError && err.status === 402 });
          }
        },
      },
    );
  }

  const pickedBlocks = pool.blocks.filter((b) => selected.includes(b.index));

  return (
    <section
      aria-labelledby={titleId}
      data-testid="pool-card"
      data-pool-name={pool.name}
      className="space-y-4 rounded-xl border border-zinc-200 bg-white p-5 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-start justify-between gap-x-6 gap-y-2">
        <div className="min-w-0 space-y-1.5">
          <h3 id={titleId} className="text-base font-semibold">
            {pool.name}
          </h3>
          <ul aria-label="Models" className="flex flex-wrap gap-1.5">
            {pool.models.map((m) => (
              <li key={m}>
                <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">{m}</code>
              </li>
            ))}
          </ul>
        </div>
        <div className="sm:text-right">
          <p className="text-lg font-semibold tabular-nums" data-testid="pool-price">
            {formatUsdShort(pool.pricePerBlockUsd)}
            <span className="text-sm font-normal text-zinc-600 dark:text-zinc-400"> per block</span>
          </p>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            per {pool.periodDays}-day period · {pool.blockHours}-hour blocks · {pool.capacity} {pool.capacity === 1 ? "seat" : "seats"} each
          </p>
        </div>
      </div>

      <BlockStrip
        label={`Blocks of ${pool.name}`}
        blocks={pool.blocks}
        stateOf={stateOf}
        picked={new Set(selected)}
        onToggle={toggle}
        nowIndex={blockIndexAt(now, pool.blockHours)}
        timeZone={timeZone}
      />

      <div className="flex flex-col gap-3 border-t border-zinc-200 pt-4 sm:flex-row sm:items-end sm:justify-between dark:border-zinc-800">
        <div aria-live="polite" className="min-w-0 space-y-0.5 text-sm" data-testid="pool-total">
          {selected.length === 0 ? (
            <p className="text-zinc-600 dark:text-zinc-400">Pick one or more free blocks. Your key works during them, every day of the period.</p>
          ) : (
            <>
              <p>
                {selected.length} {selected.length === 1 ? "block" : "blocks"} × {formatUsdShort(pool.pricePerBlockUsd)} ={" "}
                <strong className="font-semibold tabular-nums">{formatUsdShort(total)}</strong> for {pool.periodDays} days
              </p>
              <p className="text-xs text-zinc-600 dark:text-zinc-400">{localHours(pickedBlocks, timeZone)}</p>
              {balance !== undefined && (
                <p className={short ? "text-xs font-medium text-amber-800 dark:text-amber-300" : "text-xs text-zinc-600 dark:text-zinc-400"}>
                  Charged now to your credit balance ({formatDollars(balance)}).
                </p>
              )}
            </>
          )}
        </div>
        <Button onClick={submit} disabled={selected.length === 0 || subscribe.isPending} className="sm:min-w-36">
          {subscribe.isPending ? "Subscribing…" : selected.length ? `Subscribe for ${formatUsdShort(total)}` : "Subscribe"}
        </Button>
      </div>

      {refusal && (
        <div
          role="alert"
          data-testid="pool-refusal"
          className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-300"
        >
          <p>{refusal.message}</p>
          {refusal.needsCredit && (
            <Link href="/billing" className="mt-1 inline-flex items-center gap-1 font-medium underline underline-offset-4 hover:no-underline">
              Add credit on the Billing page <span aria-hidden>→</span>
            </Link>
          )}
        </div>
      )}
    </section>
  );
}
