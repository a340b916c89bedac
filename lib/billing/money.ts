import { z } from "zod";
import { formatDollars } from "@/lib/client/money";

/** USD amounts live as integer micro-dollars (BigInt) in storage and arithmetic. */
export const MICROS_PER_USD = 1_000_000;

export function usdToMicros(usd: number): bigint {
  return BigInt(Math.round(usd * MICROS_PER_USD));
}

/** For JSON responses only: a float is fine for display, never for arithmetic. */
export function microsToUsd(micros: bigint): number {
  return Number(micros) / MICROS_PER_USD;
}

/** Micro-dollars to the cent, as refusals and reasons say them: "$3.22" (the dashboard's own formatter). */
export function formatUsd(micros: bigint): string {
  return formatDollars(microsToUsd(micros), { max: 2 });
}

/** A positive USD amount with at most 6 decimals (one micro-dollar). */
export function usdAmount(field: string, max = 1_000_000) {
  return (
    z
      .number({ error: `${field} must be a number of US dollars, e.g. 25 or 12.50` })
      .positive(`${field} must be greater than 0`)
      .max(max, `${field} must be at most ${max.toLocaleString("en-US")}`)
      // Exact: n has at most 6 decimals iff the nearest micro-dollar converts back to
      // the same double. (A tolerance on n * 1e6 refuses valid amounts above ~100k,
      // where the float product is off by more than the tolerance.)
      .refine((n) => Math.round(n * MICROS_PER_USD) / MICROS_PER_USD === n, {
        message: `${field} can have at most 6 decimal places`,
      })
  );
}
