import { cn } from "@/components/ui/cn";

/** The Keygate mark: a key on an indigo tile. The same drawing as app/icon.svg. */
export function KeygateMark({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" aria-hidden className={cn("size-6 shrink-0", className)}>
      <rect width="32" height="32" rx="8" className="fill-indigo-600 dark:fill-indigo-500" />
      <circle cx="11.5" cy="16" r="4.75" fill="none" stroke="#fff" strokeWidth="2.5" />
      <path d="M16.25 16H26M22 16v4M25.5 16v3" fill="none" stroke="#fff" strokeWidth="2.5" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

/** Mark and name, e.g. in a header; the name is real text, so it is read out and found by search. */
export function KeygateLogo({ className }: { className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-2 text-base font-semibold tracking-tight text-zinc-900 dark:text-zinc-50", className)}>
      <KeygateMark />
      Keygate
    </span>
  );
}
