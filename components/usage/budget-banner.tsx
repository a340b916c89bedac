"use client";

import Link from "next/link";
import { formatSpend, formatUsdShort } from "@/lib/client/money";
import type { ApiKeyView } from "@/lib/keys/schemas";

/** From this share of its budget on, a key is named in the banner (the 80 % webhook threshold). */
export const BUDGET_WARNING = 0.8;

/** The credit keys past 80 % of their budget: the period's spend when the budget has a period (the key view's `spend` is then the period's). */
export function keysNearBudget(keys: ApiKeyView[] | undefined): ApiKeyView[] {
  return (keys ?? []).filter((k) => k.keyType === "credit" && k.maxBudget !== null && k.maxBudget > 0 && k.spend >= BUDGET_WARNING * k.maxBudget);
}

const PERIOD_WORD = { day: "today's", week: "this week's", month: "this month's" } as const;

export function BudgetBanner({ keys }: { keys: ApiKeyView[] | undefined }) {
  const near = keysNearBudget(keys);
  if (near.length === 0) return null;
  return (
    <section
      aria-labelledby="budget-banner-title"
      data-testid="budget-banner"
      className="rounded-xl border border-amber-200 bg-amber-50 p-4 text-sm dark:border-amber-900/60 dark:bg-amber-950/30"
    >
      <h2 id="budget-banner-title" className="font-medium text-amber-950 dark:text-amber-100">
        {near.length === 1 ? "A key is close to its budget" : `${near.length} keys are close to their budgets`}
      </h2>
      <ul className="mt-1 space-y-1 text-amber-900 dark:text-amber-200/90">
        {near.map((k) => (
          <li key={k.id}>
            <Link
              href={`/keys/${encodeURIComponent(k.id)}`}
              className="font-medium text-amber-950 underline underline-offset-4 hover:no-underline dark:text-amber-100"
            >
              {k.name}
            </Link>{" "}
            has used {Math.floor((k.spend / k.maxBudget!) * 100)} % of {k.budgetPeriod ? `${PERIOD_WORD[k.budgetPeriod]} ` : "its "}
            {formatUsdShort(k.maxBudget!)} budget ({formatSpend(k.spend)}).
          </li>
        ))}
      </ul>
    </section>
  );
}
