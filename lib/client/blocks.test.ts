import { describe, expect, it } from "vitest";
import { blockIndexAt, blockList, hoursCovered, localRange, utcRange, utcRangeLong } from "@/lib/client/blocks";

describe("block names", () => {
  it("names a block by its UTC hours, two digits each, with the day ending at 24", () => {
    expect(utcRange(6, 12)).toBe("06–12 UTC");
    expect(utcRange(18, 24)).toBe("18–24 UTC");
    expect(utcRangeLong(0, 6)).toBe("00:00–06:00 UTC");
  });

  it("says the same hours on the viewer's clock, for today's offset, wrapping past midnight", () => {
    const winter = Date.UTC(2026, 0, 15, 10);
    const summer = Date.UTC(2026, 6, 15, 10);
    expect(localRange(6, 12, { now: winter, timeZone: "Europe/Berlin" })).toBe("07:00–13:00");
    expect(localRange(6, 12, { now: summer, timeZone: "Europe/Berlin" })).toBe("08:00–14:00");
    expect(localRange(0, 6, { now: winter, timeZone: "America/New_York" })).toBe("19:00–01:00");
    expect(localRange(18, 24, { now: winter, timeZone: "Asia/Kolkata" })).toBe("23:30–05:30");
    expect(localRange(6, 12, { now: winter, timeZone: "UTC" })).toBe("06:00–12:00");
  });

  it("finds the block that contains now", () => {
    expect(blockIndexAt(Date.UTC(2026, 0, 1, 0, 0), 6)).toBe(0);
    expect(blockIndexAt(Date.UTC(2026, 0, 1, 5, 59, 59), 6)).toBe(0);
    expect(blockIndexAt(Date.UTC(2026, 0, 1, 6), 6)).toBe(1);
    expect(blockIndexAt(Date.UTC(2026, 0, 1, 23, 30), 1)).toBe(23);
    expect(blockIndexAt(Date.UTC(2026, 0, 1, 23, 30), 24)).toBe(0);
  });

  it("lists blocks for a sentence, in order", () => {
    expect(blockList([1], 6)).toBe("Block 06–12 UTC");
    expect(blockList([2, 0], 6)).toBe("Blocks 00–06 and 12–18 UTC");
    expect(blockList([0, 1, 2], 6)).toBe("Blocks 00–06, 06–12 and 12–18 UTC");
    expect(blockList([], 6)).toBe("");
  });

  it("joins neighbouring blocks into the hours a subscription covers", () => {
    expect(hoursCovered([0, 1, 3], 6)).toBe("00–12, 18–24 UTC");
    expect(hoursCovered([3, 1], 6)).toBe("06–12, 18–24 UTC");
    expect(hoursCovered([0, 1, 2, 3], 6)).toBe("00–24 UTC");
    expect(hoursCovered([5], 1)).toBe("05–06 UTC");
  });
});
