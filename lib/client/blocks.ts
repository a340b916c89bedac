/**
 * A pool's blocks as the dashboard names them. Runs in the browser: no
 * server imports. Block i of a pool covers hours [i×blockHours,
 * (i+1)×blockHours) UTC of every day; the UTC name is the one that never
 * changes, and the viewer's own clock is said beside it. The arithmetic is
 * the server's own (lib/pools/blocks.ts, pure), so the strip's "now" is the
 * block the gateway admits.
 */

export { blockIndexAt } from "@/lib/pools/blocks";

const HOUR_MS = 3_600_000;

const pad = (h: number) => String(h).padStart(2, "0");

/** "06–12 UTC": short enough for a cell of the day's strip. The day ends at 24, not 00. */
export function utcRange(startHourUtc: number, endHourUtc: number): string {
  return `${pad(startHourUtc)}–${pad(endHourUtc)} UTC`;
}

/** "06:00–12:00 UTC". */
export function utcRangeLong(startHourUtc: number, endHourUtc: number): string {
  return `${pad(startHourUtc)}:00–${pad(endHourUtc)}:00 UTC`;
}

/**
 * The same hours on the viewer's clock today, e.g. "08:00–14:00" (or, in
 * `timeZone`, for tests). Read for today's date, so summer time is right
 * for today; a range that wraps past the viewer's midnight reads so
 * ("22:00–04:00").
 */
export function localRange(startHourUtc: number, endHourUtc: number, options: { now?: number; timeZone?: string } = {}): string {
  const now = options.now ?? Date.now();
  const midnightUtc = now - (now % (24 * HOUR_MS));
  const fmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: options.timeZone });
  return `${fmt.format(midnightUtc + startHourUtc * HOUR_MS)}–${fmt.format(midnightUtc + endHourUtc * HOUR_MS)}`;
}

/** The viewer's time zone, e.g. "Europe/Berlin". */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
}

/** "Block 06–12 UTC", "Blocks 00–06 UTC and 12–18 UTC", "Blocks 00–06, 06–12 and 12–18 UTC". */
export function blockList(blocks: readonly number[], blockHours: number): string {
  const names = [...blocks].sort((a, b) => a - b).map((b) => `${pad(b * blockHours)}–${pad((b + 1) * blockHours)}`);
  if (names.length === 0) return "";
  if (names.length === 1) return `Block ${names[0]} UTC`;
  return `Blocks ${names.slice(0, -1).join(", ")} and ${names.at(-1)} UTC`;
}

/**
 * A subscription's hours with neighbouring blocks joined: [0, 1, 3] of
 * 6-hour blocks is "00–12, 18–24 UTC", the way a person would say when
 * their key works.
 */
export function hoursCovered(blocks: readonly number[], blockHours: number): string {
  const sorted = [...new Set(blocks)].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const b of sorted) {
    const last = runs.at(-1);
    if (last && last[1] === b) last[1] = b + 1;
    else runs.push([b, b + 1]);
  }
  if (runs.length === 0) return "";
  return `${runs.map(([from, to]) => `${pad(from * blockHours)}–${pad(to * blockHours)}`).join(", ")} UTC`;
}
