export function formatDate(iso: string | null, empty = "—"): string {
  if (!iso) return empty;
  return new Date(iso).toLocaleString("en-US", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
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

/** The exact moment, for a tooltip or a `title`: "Nov 30, 2026, 2:05:07 PM UTC". */
export function formatExact(iso: string): string {
  return new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "long" });
}

const RELATIVE = new Intl.RelativeTimeFormat("en-US", { numeric: "auto" });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["week", 7 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** "3 days ago", "in 2 months", "just now": how people read times in a list. */
export function formatRelative(iso: string, now: number): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? "just now" : "in a few seconds";
  for (const [unit, size] of UNITS) {
    // Weeks only from two to four: "3 weeks ago" reads better than "21 days ago"; "next week" for 10 days, or "5 weeks ago", does not.
    if (unit === "week" && (abs < 14 * 86_400 || abs >= 30 * 86_400)) continue;
    if (abs >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return RELATIVE.format(Math.round(seconds / 60), "minute");
}

/** 1200 → "1,200"; 50000 → "50K"; 2000000 → "2M". Compact above 10,000, where digits stop being read. */
export function formatCount(n: number): string {
  return n >= 10_000 ? n.toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 1 }) : n.toLocaleString("en-US");
}

/** An ISO time as `<input type="datetime-local">` text in the viewer's time zone; "" for none. */
export function isoToLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
