"use client";

import { useState } from "react";
import { formatExact, formatRelative } from "@/components/ui/format";

export interface RelativeTimeProps {
  /** An ISO 8601 time, or null for "never happened" / "never expires". */
  iso: string | null;
  /** Shown when `iso` is null. */
  empty?: string;
  className?: string;
}

/**
 * "3 days ago", with the exact time in the `title` (shown on hover) and in
 * `dateTime` for assistive tech and scripts.
 */
export function RelativeTime({ iso, empty = "never", className }: RelativeTimeProps) {
  // Captured once per mount: a list whose times tick while you read it helps nobody.
  const [now] = useState(() => Date.now());
  if (!iso) return <span className={className}>{empty}</span>;
  return (
    <time dateTime={iso} title={formatExact(iso)} className={className}>
      {formatRelative(iso, now)}
    </time>
  );
}
