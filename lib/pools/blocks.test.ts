import { describe, expect, it } from "vitest";
import {
  autoRenewalStart,
  BLOCK_HOURS,
  blockCount,
  blockHoursUtc,
  blockIndexAt,
  blocksOutOfRange,
  dayBlocks,
  isBlockHours,
  nextBlockStart,
  PERIOD_MS,
  periodEndFrom,
  renewalStart,
} from "@/lib/pools/blocks";

const at = (iso: string) => Date.parse(iso);
const HOUR = 3600_000;

describe("block arithmetic", () => {
  it("divides the UTC day into 24/blockHours blocks for every allowed length, and nothing else is allowed", () => {
    for (const h of BLOCK_HOURS) {
      expect(isBlockHours(h)).toBe(true);
      expect(blockCount(h) * h).toBe(24);
      const blocks = dayBlocks(h);
      expect(blocks).toHaveLength(24 / h);
      expect(blocks[0]).toEqual({ index: 0, startHourUtc: 0, endHourUtc: h });
      expect(blocks.at(-1)!.endHourUtc).toBe(24);
      for (let i = 1; i < blocks.length; i++) expect(blocks[i].startHourUtc).toBe(blocks[i - 1].endHourUtc);
    }
    for (const bad of [0, 5, 7, 9, 10, 16, 48, 1.5, -6]) expect(isBlockHours(bad)).toBe(false);
  });

  it("puts a block's first millisecond in the block and its end in the next one", () => {
    expect(blockIndexAt(at("2026-11-24T06:00:00.000Z"), 6)).toBe(1);
    expect(blockIndexAt(at("2026-11-24T05:59:59.999Z"), 6)).toBe(0);
    expect(blockIndexAt(at("2026-11-24T11:59:59.999Z"), 6)).toBe(1);
    expect(blockIndexAt(at("2026-11-24T12:00:00.000Z"), 6)).toBe(2);
    expect(blockIndexAt(at("2026-11-24T13:30:00.000Z"), 1)).toBe(13);
    expect(blockIndexAt(at("2026-11-24T23:00:00.000Z"), 8)).toBe(2);
  });

  it("starts block 0 at midnight UTC and ends the last block there", () => {
    expect(blockIndexAt(at("2026-11-24T00:00:00.000Z"), 6)).toBe(0);
    expect(blockIndexAt(at("2026-11-23T23:59:59.999Z"), 6)).toBe(3);
    expect(blockIndexAt(at("2026-11-23T23:59:59.999Z"), 1)).toBe(23);
    expect(blockHoursUtc(3, 6)).toEqual({ startHourUtc: 18, endHourUtc: 24 });
    // Before 1970 the modulo is negative; the block is still the hour of the UTC day.
    expect(blockIndexAt(at("1969-12-31T23:30:00.000Z"), 6)).toBe(3);
  });

  it("has a single block covering the whole day for 24-hour blocks", () => {
    expect(dayBlocks(24)).toEqual([{ index: 0, startHourUtc: 0, endHourUtc: 24 }]);
    for (const t of ["2026-11-24T00:00:00.000Z", "2026-11-24T12:00:00.000Z", "2026-11-24T23:59:59.999Z"]) expect(blockIndexAt(at(t), 24)).toBe(0);
    // The next start of the only block is the next midnight.
    const now = at("2026-11-24T10:00:00.000Z");
    expect(nextBlockStart(now, [0], 24, now + PERIOD_MS)).toBe(at("2026-11-25T00:00:00.000Z"));
  });

  it("finds the next block start later the same day, and does not count a block that has already started", () => {
    const now = at("2026-11-24T07:00:00.000Z");
    expect(nextBlockStart(now, [1, 2], 6, now + PERIOD_MS)).toBe(at("2026-11-24T12:00:00.000Z"));
    expect(nextBlockStart(now, [3, 2], 6, now + PERIOD_MS)).toBe(at("2026-11-24T12:00:00.000Z"));
    // Exactly at a block's start, that block has started: the next one is tomorrow's.
    const atStart = at("2026-11-24T12:00:00.000Z");
    expect(nextBlockStart(atStart, [2], 6, atStart + PERIOD_MS)).toBe(at("2026-11-25T12:00:00.000Z"));
  });

  it("carries the next block start across midnight, into the next day (and the next month)", () => {
    const late = at("2026-11-30T22:00:00.000Z");
    expect(nextBlockStart(late, [0], 6, late + PERIOD_MS)).toBe(at("2026-12-01T00:00:00.000Z"));
    expect(nextBlockStart(late, [1, 3], 6, late + PERIOD_MS)).toBe(at("2026-12-01T06:00:00.000Z"));
    expect(nextBlockStart(late, [23], 1, late + PERIOD_MS)).toBe(at("2026-11-30T23:00:00.000Z"));
  });

  it("answers null when the next block would start at or after the period end, or when there are no blocks", () => {
    const now = at("2026-11-24T07:00:00.000Z");
    expect(nextBlockStart(now, [2], 6, at("2026-11-24T12:00:00.000Z"))).toBeNull();
    expect(nextBlockStart(now, [2], 6, at("2026-11-24T12:00:00.001Z"))).toBe(at("2026-11-24T12:00:00.000Z"));
    expect(nextBlockStart(now, [0], 6, at("2026-11-24T23:00:00.000Z"))).toBeNull();
    expect(nextBlockStart(now, [], 6, now + PERIOD_MS)).toBeNull();
  });

  it("names the block indices a layout does not have", () => {
    expect(blocksOutOfRange([0, 3], 6)).toEqual([]);
    expect(blocksOutOfRange([0, 4, 7], 6)).toEqual([4, 7]);
    expect(blocksOutOfRange([23], 1)).toEqual([]);
    expect(blocksOutOfRange([1], 24)).toEqual([1]);
    expect(blocksOutOfRange([-1, 0.5], 6)).toEqual([-1, 0.5]);
  });
});

describe("periods", () => {
  it("last 30 days", () => {
    const start = at("2026-11-24T17:45:12.000Z");
    expect(periodEndFrom(start)).toBe(at("2026-12-24T17:45:12.000Z"));
  });

  it("renew from the old period end while it is ahead, otherwise from now", () => {
    const now = at("2026-11-24T12:00:00.000Z");
    expect(renewalStart(now + HOUR, now)).toBe(now + HOUR);
    expect(renewalStart(now, now)).toBe(now);
    expect(renewalStart(now - HOUR, now)).toBe(now);
  });

  it("auto-renew from the old period end even when the sweep is late, unless a whole period has passed since", () => {
    const now = at("2026-11-24T12:00:00.000Z");
    expect(autoRenewalStart(now + 30_000, now)).toBe(now + 30_000);
    expect(autoRenewalStart(now - 30_000, now)).toBe(now - 30_000);
    expect(autoRenewalStart(now - PERIOD_MS + 1, now)).toBe(now - PERIOD_MS + 1);
    expect(autoRenewalStart(now - PERIOD_MS, now)).toBe(now);
    expect(autoRenewalStart(now - 3 * PERIOD_MS, now)).toBe(now);
  });
});
