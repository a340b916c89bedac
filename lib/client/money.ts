/**
 * Money as the dashboard shows it. Runs in the browser: no server imports.
 */

/**
 * A key's spend: cents from a dollar up ("$3.22"), three significant digits
 * below it, down to the micro-dollar the ledger counts in ("$0.0123",
 * "$0.000123"), so one cheap request visibly moves a new key off "$0.00".
 */
export function formatSpend(usd: number): string {
  const abs = Math.abs(usd);
  const decimals = abs >= 1 || abs === 0 ? 2 : Math.min(6, Math.max(2, 2 - Math.floor(Math.log10(abs))));
  return usd.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: decimals });
}
