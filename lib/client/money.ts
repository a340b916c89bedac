/**
 * Money as the dashboard shows it. Runs in the browser: no server imports.
 * Both are lib/billing/money's one formatter with the digits their place
 * needs; an amount shown in full is `formatDollars` itself.
 */

import { formatDollars } from "@/lib/billing/money";

/**
 * A key's spend: cents from a dollar up ("$3.22"), three significant digits
 * below it, down to the micro-dollar the ledger counts in ("$0.0123",
 * "$0.000123"), so one cheap request visibly moves a new key off "$0.00".
 */
export function formatSpend(usd: number): string {
  const abs = Math.abs(usd);
  const decimals = abs >= 1 || abs === 0 ? 2 : Math.min(6, Math.max(2, 2 - Math.floor(Math.log10(abs))));
  return formatDollars(usd, { max: decimals });
}

/** "$25", "$2.50", "$0.000125": prices and budgets, with no trailing ".00" where the amount is whole. */
export function formatUsdShort(usd: number): string {
  return formatDollars(usd, { min: Number.isInteger(usd) ? 0 : 2 });
}
