/**
 * Block arithmetic for pools. A pool divides the UTC day into equal blocks of
 * `blockHours` hours (a divisor of 24): block i covers hours
 * [i*blockHours, (i+1)*blockHours) UTC of every day. Pure functions of `now`,
 * so tests can move the clock. The dashboard imports this too (through
 * lib/client/blocks.ts), so it imports nothing.
 */

export const BLOCK_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;
export const PERIOD_DAYS = 30;
export const PERIOD_MS = PERIOD_DAYS * 24 * 3600_000;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

export function blockCount(blockHours: number): number {
  return 24 / blockHours;
}

/** The block that contains `now` (ms since epoch). */
export function blockIndexAt(now: number, blockHours: number): number {
  const msIntoDay = ((now % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.floor(msIntoDay / (blockHours * HOUR_MS));
}

export function blockHoursUtc(index: number, blockHours: number): { startHourUtc: number; endHourUtc: number } {
  return { startHourUtc: index * blockHours, endHourUtc: (index + 1) * blockHours };
}

/**
 * When the next of `blocks` starts after `now` (ms), or null when there is
 * none before `until` (the subscription's period end). A block that contains
 * `now` does not count: it has already started.
 */
export function nextBlockStart(now: number, blocks: readonly number[], blockHours: number, until: number): number | null {
  if (!blocks.length) return null;
  const dayStart = now - (((now % DAY_MS) + DAY_MS) % DAY_MS);
  let best: number | null = null;
  for (const day of [0, 1]) {
    for (const b of blocks) {
      const start = dayStart + day * DAY_MS + b * blockHours * HOUR_MS;
      if (start > now && start < until && (best === null || start < best)) best = start;
    }
  }
  return best;
}

export type BlockHours = (typeof BLOCK_HOURS)[number];

export function isBlockHours(n: number): n is BlockHours {
  return (BLOCK_HOURS as readonly number[]).includes(n);
}

/** Every block of a day, in order: index and its UTC hours. */
export function dayBlocks(blockHours: number): Array<{ index: number; startHourUtc: number; endHourUtc: number }> {
  return Array.from({ length: blockCount(blockHours) }, (_, index) => ({ index, ...blockHoursUtc(index, blockHours) }));
}

/** The block indices a subscription may name for this layout: 0 to blockCount − 1. */
export function blocksOutOfRange(blocks: readonly number[], blockHours: number): number[] {
  const count = blockCount(blockHours);
  return blocks.filter((b) => !Number.isInteger(b) || b < 0 || b >= count);
}

/** The end of one period that starts at `start` (ms). */
export function periodEndFrom(start: number): number {
  return start + PERIOD_MS;
}

/**
 * Where a renewal's paid period starts: at the old period end while it is
 * still ahead, so an early renewal loses nothing; otherwise now, so nobody
 * pays for days that have already passed.
 */
export function renewalStart(oldPeriodEnd: number, now: number): number {
  return oldPeriodEnd > now ? oldPeriodEnd : now;
}

/**
 * Where an automatic renewal's period starts: at the old period end, so the
 * periods join up even when the sweep runs a little late; but never so late
 * that the new period would already be over (the server was down for a whole
 * period), in which case it starts now.
 */
export function autoRenewalStart(oldPeriodEnd: number, now: number): number {
  return periodEndFrom(oldPeriodEnd) > now ? oldPeriodEnd : now;
}
