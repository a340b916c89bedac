"use client";

import { Area, AreaChart, Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatSpend, formatUsdShort } from "@/lib/client/money";
import type { UsageReport } from "@/lib/usage/schemas";
import { windowDays } from "@/components/usage/use-usage";

/**
 * The usage charts. Colours come from the text colour (currentColor), set by
 * Tailwind classes with their `dark:` variants, so they follow the theme
 * without a palette of their own. Each chart is a figure: the drawing is one
 * image with a summary for its name, and a visually hidden table holds every
 * figure for screen readers. No animation: the figures are what matters, a
 * growing bar only delays them (and a screenshot would catch it mid-way).
 */

export interface DayPoint {
  day: string;
  costUsd: number;
  requests: number;
}

/** Every day of the window, the days without requests at zero. */
export function dailyPoints(report: UsageReport | undefined, days: number): DayPoint[] {
  const byDay = new Map<string, DayPoint>();
  for (const r of report?.rows ?? []) if ("day" in r) byDay.set(r.day, { day: r.day, costUsd: r.costUsd, requests: r.requests });
  return windowDays(days).map((day) => byDay.get(day) ?? { day, costUsd: 0, requests: 0 });
}

const shortDay = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

const AXIS = { fill: "currentColor", fontSize: 12 } as const;

const tooltipProps = {
  cursor: { fill: "currentColor", fillOpacity: 0.08 },
  contentStyle: { background: "var(--color-zinc-900)", border: "none", borderRadius: 6, color: "white", fontSize: 12 },
  labelStyle: { color: "white" },
  itemStyle: { color: "white" },
} as const;

function summary(label: string, points: { name: string; costUsd: number }[]): string {
  const total = points.reduce((s, p) => s + p.costUsd, 0);
  const top = points.reduce<{ name: string; costUsd: number } | null>((best, p) => (p.costUsd > (best?.costUsd ?? 0) ? p : best), null);
  return top ? `${label}: ${formatSpend(total)} in all; the most, ${formatSpend(top.costUsd)}, on ${top.name}.` : `${label}: no spend.`;
}

interface FigureProps {
  label: string;
  /** The text alternative's rows: what each bar is, and its figures. */
  rows: { name: string; costUsd: number; requests: number }[];
  nameHeading: string;
  testId?: string;
  children: React.ReactNode;
  className?: string;
}

function ChartFigure({ label, rows, nameHeading, testId, children, className }: FigureProps) {
  return (
    <figure className={className} data-testid={testId}>
      <div role="img" aria-label={summary(label, rows)} className="text-zinc-500 dark:text-zinc-400">
        {/* The drawing says nothing the name and the table do not: hidden, so it is not a second image. */}
        <div aria-hidden>{children}</div>
      </div>
      <table className="sr-only">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">{nameHeading}</th>
            <th scope="col">Spend</th>
            <th scope="col">Requests</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <th scope="row">{r.name}</th>
              <td>{formatSpend(r.costUsd)}</td>
              <td>{r.requests}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Spend per UTC day: a bar a day, every day of the window. */
export function DailySpendChart({ points, label, height = 220 }: { points: DayPoint[]; label: string; height?: number }) {
  return (
    <ChartFigure label={label} rows={points.map((p) => ({ ...p, name: shortDay(p.day) }))} nameHeading="Day (UTC)" testId="daily-chart">
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
          <CartesianGrid vertical={false} stroke="currentColor" strokeOpacity={0.2} />
          <XAxis dataKey="day" tickFormatter={shortDay} tick={AXIS} stroke="currentColor" minTickGap={16} tickLine={false} />
          <YAxis tickFormatter={(v: number) => formatUsdShort(v)} tick={AXIS} stroke="currentColor" width={76} tickLine={false} axisLine={false} />
          <Tooltip {...tooltipProps} labelFormatter={(d) => shortDay(String(d))} formatter={(v) => [formatSpend(Number(v)), "Spend"]} />
          <Bar
            dataKey="costUsd"
            name="Spend"
            fill="currentColor"
            className="text-indigo-600 dark:text-indigo-400"
            radius={[3, 3, 0, 0]}
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

/** A key's 30 days, small: no axes, the shape of the spend. */
export function Sparkline({ points, label }: { points: DayPoint[]; label: string }) {
  return (
    <ChartFigure label={label} rows={points.map((p) => ({ ...p, name: shortDay(p.day) }))} nameHeading="Day (UTC)" testId="key-sparkline">
      <ResponsiveContainer width="100%" height={64}>
        <AreaChart data={points} margin={{ top: 4, right: 0, bottom: 4, left: 0 }} accessibilityLayer={false}>
          <Area
            type="monotone"
            dataKey="costUsd"
            stroke="currentColor"
            fill="currentColor"
            fillOpacity={0.15}
            className="text-indigo-600 dark:text-indigo-400"
            isAnimationActive={false}
          />
        </AreaChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

export interface RankedPoint {
  name: string;
  costUsd: number;
  requests: number;
}

/** Spend by key or by model: horizontal bars, highest first, names on the left. */
export function RankedSpendChart({ points, label, nameHeading, testId }: { points: RankedPoint[]; label: string; nameHeading: string; testId?: string }) {
  const height = Math.max(80, points.length * 36 + 16);
  return (
    <ChartFigure label={label} rows={points} nameHeading={nameHeading} testId={testId}>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={points} layout="vertical" margin={{ top: 0, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
          <XAxis type="number" hide />
          <YAxis
            type="category"
            dataKey="name"
            tick={AXIS}
            stroke="currentColor"
            width={110}
            tickLine={false}
            axisLine={false}
            tickFormatter={(n: string) => (n.length > 16 ? `${n.slice(0, 15)}…` : n)}
          />
          <Tooltip {...tooltipProps} formatter={(v) => [formatSpend(Number(v)), "Spend"]} />
          <Bar
            dataKey="costUsd"
            name="Spend"
            fill="currentColor"
            className="text-indigo-600 dark:text-indigo-400"
            radius={[0, 3, 3, 0]}
            barSize={20}
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

/** A report's rows as the ranked chart's points (a deleted key is "deleted key"). */
export function rankedPoints(report: UsageReport | undefined): RankedPoint[] {
  return (report?.rows ?? []).map((r) => ({
    name: "model" in r ? r.model : "keyId" in r ? (r.keyName ?? "deleted key") : r.day,
    costUsd: r.costUsd,
    requests: r.requests,
  }));
}
