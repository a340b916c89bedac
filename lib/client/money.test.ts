import { describe, expect, it } from "vitest";
import { formatSpend, formatUsdShort } from "@/lib/client/money";

describe("formatSpend", () => {
  it("shows a tiny spend to the micro-dollar, so one cheap request moves a key off $0.00", () => {
    expect(formatSpend(0.000001)).toBe("$0.000001");
    expect(formatSpend(0.000123)).toBe("$0.000123");
    expect(formatSpend(0.00012345)).toBe("$0.000123");
    expect(formatSpend(0.0123456)).toBe("$0.0123");
  });

  it("shows cents from a dollar up, and at least two decimals always", () => {
    expect(formatSpend(0)).toBe("$0.00");
    expect(formatSpend(0.5)).toBe("$0.50");
    expect(formatSpend(3.2212)).toBe("$3.22");
    expect(formatSpend(1234.567)).toBe("$1,234.57");
  });
});

describe("formatUsdShort", () => {
  it("drops the cents of a whole price, and keeps a fraction to the micro-dollar", () => {
    expect(formatUsdShort(25)).toBe("$25");
    expect(formatUsdShort(2.5)).toBe("$2.50");
    expect(formatUsdShort(0.000125)).toBe("$0.000125");
    expect(formatUsdShort(12000)).toBe("$12,000");
  });
});
