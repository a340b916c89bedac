/**
 * Budget periods of credit keys: calendar periods in UTC (a day starts at
 * midnight, a week on Monday 00:00, a month on the 1st 00:00). Pure
 * functions of the period and a time, so nothing has to run when a period
 * ends: the next admission simply computes a later start, and spend is kept
 * per (key, period start) in the limits store and in the database.
 *
 * A key's own period start is `keyPeriodStart`: the calendar start, or the
 * moment the period was last set or changed if that is later (the first
 * period after a change counts from the change; see docs/gateway.md).
 */

export const BUDGET_PERIODS = ["day", "week", "month"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const DAY_MS = 86_400_000;

/** When the period containing `at` (ms) began, in ms; 0 without a period (lifetime). */
export function budgetPeriodStart(period: BudgetPeriod | null, at: number): number {
  if (period === null) return 0;
  const d = new Date(at);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case "day":
      return midnight;
    case "week":
      // getUTCDay: 0 is Sunday; Monday starts the week.
      return midnight - ((d.getUTCDay() + 6) % 7) * DAY_MS;
    case "month":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** When the period containing `at` ends (the next one's start), in ms; null without a period (a lifetime budget never resets). */
export function budgetPeriodEnd(period: BudgetPeriod | null, at: number): number | null {
  if (period === null) return null;
  const start = budgetPeriodStart(period, at);
  switch (period) {
    case "day":
      return start + DAY_MS;
    case "week":
      return start + 7 * DAY_MS;
    case "month": {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/**
 * The start of a key's current budget period at `at`: the calendar start, or
 * `periodSetAt` (when budgetPeriod was last set or changed) if later, so spend
 * from before a change never counts against the new period. 0: lifetime.
 * This is what the limits store, the usage records and ApiKey.periodStart use.
 */
export function keyPeriodStart(key: { budgetPeriod: BudgetPeriod | null; budgetPeriodSetAt: number | null }, at: number): number {
  if (key.budgetPeriod === null) return 0;
  return Math.max(budgetPeriodStart(key.budgetPeriod, at), key.budgetPeriodSetAt ?? 0);
}

export function isBudgetPeriod(v: unknown): v is BudgetPeriod {
  return typeof v === "string" && (BUDGET_PERIODS as readonly string[]).includes(v);
}
