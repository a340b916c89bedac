"use client";

import { forwardRef, useId } from "react";
import { inputClassName } from "@/components/ui/field";

/** The form's value: "" for none (a lifetime budget), else the API's budgetPeriod. */
export type BudgetPeriodInput = "" | "day" | "week" | "month";

const OPTIONS: Array<{ value: BudgetPeriodInput; label: string }> = [
  { value: "", label: "None (lifetime)" },
  { value: "day", label: "Daily" },
  { value: "week", label: "Weekly" },
  { value: "month", label: "Monthly" },
];

/**
 * Whether the max budget resets: per calendar day, week (from Monday) or
 * month, in UTC. Takes register()'s props straight through to the <select>.
 */
export const BudgetPeriodSelect = forwardRef<HTMLSelectElement, React.ComponentProps<"select">>(function BudgetPeriodSelect(props, ref) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
        Budget period
      </label>
      <select id={id} ref={ref} aria-describedby={`${id}-hint`} className={inputClassName} {...props}>
        {OPTIONS.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <p id={`${id}-hint`} className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
        The max budget resets each period (UTC).
      </p>
    </div>
  );
});
