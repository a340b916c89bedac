import { describe, expect, it } from "vitest";
import { formatUsd } from "@/lib/billing/money";
import { formatDollars } from "@/lib/client/money";

describe("formatDollars", () => {
  it("shows an amount in full, to the micro-dollar, the way the dashboard's balance and titles read", () => {
    expect(formatDollars(25)).toBe("$25.00");
    expect(formatDollars(0.000125)).toBe("$0.000125");
    expect(formatDollars(1234.5)).toBe("$1,234.50");
    expect(formatDollars(-2)).toBe("-$2.00");
  });
});

describe("formatUsd", () => {
  it("says micro-dollars to the cent in a message", () => {
    expect(formatUsd(3_221_999n)).toBe("$3.22");
    expect(formatUsd(2_000_000n)).toBe("$2.00");
    expect(formatUsd(0n)).toBe("$0.00");
  });
});
