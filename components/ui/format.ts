export function formatDate(iso: string | null, empty = "—"): string {
  if (!iso) return empty;
  return new Date(iso).toLocaleString("en-US", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function formatUsd(n: number | null, empty = "—"): string {
  if (n === null) return empty;
  return n.toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 });
}

/**
 * A UTC calendar day, e.g. "Nov 30, 2026". For periods defined in UTC: the
 * viewer's own time zone would move a month's first midnight to the last
 * evening of the month before.
 */
export function formatUtcDay(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

/** datetime-local gives local time without a zone; the API wants ISO 8601 with one. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
