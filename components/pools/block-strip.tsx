"use client";

import { cn } from "@/components/ui/cn";
import { localRange, utcRange, utcRangeLong } from "@/lib/client/blocks";
import type { PoolBlockView } from "@/lib/pools/schemas";

/** free: for sale; full: no seat left; yours: held by one of your active subscriptions. */
export type BlockState = "free" | "full" | "yours";

export interface BlockStripProps {
  /** Names the group, e.g. "Blocks of Demo pool". */
  label: string;
  blocks: PoolBlockView[];
  stateOf: (block: PoolBlockView) => BlockState;
  picked: ReadonlySet<number>;
  onToggle: (index: number) => void;
  /** The block that contains the current time: its key works right away. */
  nowIndex: number;
  /** The viewer's time zone, for the local-time hint. */
  timeZone: string;
}

const TONE: Record<BlockState | "picked", string> = {
  free: "border-zinc-300 bg-white text-zinc-900 hover:border-indigo-400 hover:bg-indigo-50 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100 dark:hover:border-indigo-500 dark:hover:bg-indigo-950/40",
  picked: "border-indigo-600 bg-indigo-600 text-white shadow-sm hover:bg-indigo-700 dark:border-indigo-500 dark:bg-indigo-600",
  full: "cursor-not-allowed border-zinc-200 bg-zinc-100 text-zinc-600 dark:border-zinc-800 dark:bg-zinc-800/60 dark:text-zinc-400",
  yours: "cursor-default border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/40 dark:text-emerald-200",
};

/**
 * The day's blocks in equal columns, at most `max` to a row, and rows of
 * equal length: 6 blocks on a phone are two rows of 3, 24 on a screen two
 * of 12.
 */
function columns(count: number, max: number): string {
  const perRow = count <= max ? count : count % max === 0 ? max : max - 1;
  return `repeat(${perRow}, minmax(0, 1fr))`;
}

/**
 * The UTC day as a strip of toggle buttons, one per block. Full blocks and
 * your own stay focusable (aria-disabled, not disabled) so a screen reader
 * user hears why they cannot be picked. Each block's name is its UTC hours;
 * its title (and description) says the same hours on the viewer's clock.
 */
export function BlockStrip({ label, blocks, stateOf, picked, onToggle, nowIndex, timeZone }: BlockStripProps) {
  return (
    <div
      role="group"
      aria-label={label}
      className="grid grid-cols-(--strip-cols) gap-2 pt-1.5 sm:grid-cols-(--strip-cols-sm)"
      style={{ "--strip-cols": columns(blocks.length, 4), "--strip-cols-sm": columns(blocks.length, 12) } as React.CSSProperties}
    >
      {blocks.map((b) => {
        const state = stateOf(b);
        const isPicked = state === "free" && picked.has(b.index);
        const isNow = b.index === nowIndex;
        const range = utcRange(b.startHourUtc, b.endHourUtc);
        const seats = state === "full" ? "full" : state === "yours" ? "yours" : `${b.remaining} of ${b.capacity} seats left`;
        const status = isPicked ? "Picked" : state === "free" ? `${b.remaining} left` : state === "full" ? "Full" : "Yours";
        return (
          <button
            key={b.index}
            type="button"
            data-testid="pool-block"
            data-index={b.index}
            data-state={state}
            aria-label={`${range}, ${seats}${isNow ? ", now" : ""}`}
            aria-pressed={isPicked}
            aria-disabled={state !== "free" || undefined}
            title={`${utcRangeLong(b.startHourUtc, b.endHourUtc)} · ${localRange(b.startHourUtc, b.endHourUtc)} your time (${timeZone}) · ${
              state === "yours" ? "already yours" : state === "full" ? "no seat left" : `${b.remaining} of ${b.capacity} seats left`
            }`}
            onClick={() => state === "free" && onToggle(b.index)}
            className={cn(
              "relative flex min-h-16 flex-col items-start justify-between gap-1 rounded-lg border px-2.5 py-2 text-left transition-colors",
              "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:focus-visible:outline-indigo-400",
              TONE[isPicked ? "picked" : state],
            )}
          >
            <span className="font-mono text-xs font-semibold tabular-nums">{range}</span>
            <span className="flex items-center gap-1 text-xs">
              {isPicked && (
                <svg
                  aria-hidden
                  viewBox="0 0 16 16"
                  className="size-3.5"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth="2"
                  strokeLinecap="round"
                  strokeLinejoin="round"
                >
                  <path d="M3.5 8.5l3 3 6-7" />
                </svg>
              )}
              {status}
            </span>
            {isNow && (
              // On the cell's top edge, like a tab: it fits however narrow the cell is.
              <span className="absolute -top-2 right-1.5 rounded bg-amber-100 px-1 text-[10px] font-semibold uppercase leading-4 tracking-wide text-amber-900 ring-1 ring-amber-300 dark:bg-amber-900 dark:text-amber-50 dark:ring-amber-700">
                Now
              </span>
            )}
          </button>
        );
      })}
    </div>
  );
}
