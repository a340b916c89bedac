/**
 * Money as people read it: the one USD formatter (`formatDollars`), and the
 * dashboard's shorter forms of it. Runs in the browser and imports nothing,
 * so the server's messages use it too (lib/billing/money's `formatUsd`)
 * without putting zod in every page that shows a price.
 */

/**
 * "$1,234.50", "-$2.00", "$0.000125": between `min` and `max` decimals; six
 * is the micro-dollar the ledger counts in.
 */
export function formatDollars(usd: number, { min = 2, max = 6 }: { min?: number; max?: number } = {}): string {
  return usd.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: min, maximumFractionDigits: max });
}

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
