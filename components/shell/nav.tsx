"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { Tooltip } from "radix-ui";
import { cn } from "@/components/ui/cn";

/** `description` is the tab's tooltip and accessible description, for tabs whose name alone is jargon. */
const LINKS = [
  { href: "/keys", label: "API Keys", description: "Keys (sk_…) your apps use to call the inference API" },
  { href: "/pools", label: "Pools", description: "Reserve hours of the day for a flat price, and your subscriptions" },
  { href: "/billing-keys", label: "Billing Keys", description: "Management keys (mk_…) for scripts and CI" },
  { href: "/billing", label: "Billing" },
  { href: "/models", label: "Models" },
  { href: "/account", label: "Account" },
];

export function Nav() {
  const pathname = usePathname();
  return (
    <Tooltip.Provider delayDuration={400}>
      <nav aria-label="Main" className="-mb-px flex gap-1 overflow-x-auto">
        {LINKS.map((l) => {
          const active = pathname === l.href || pathname.startsWith(`${l.href}/`);
          const link = (
            <Link
              key={l.href}
              href={l.href}
              aria-current={active ? "page" : undefined}
              className={cn(
                "whitespace-nowrap border-b-2 px-3 py-2.5 text-sm font-medium transition-colors focus-visible:rounded-sm focus-visible:outline-2 focus-visible:outline-offset-[-2px] focus-visible:outline-indigo-600",
                active
                  ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                  : "border-transparent text-zinc-600 hover:border-zinc-300 hover:text-zinc-900 dark:text-zinc-400 dark:hover:border-zinc-600 dark:hover:text-zinc-100",
              )}
            >
              {l.label}
            </Link>
          );
          if (!l.description) return link;
          return (
            <Tooltip.Root key={l.href}>
              <Tooltip.Trigger asChild>{link}</Tooltip.Trigger>
              <Tooltip.Portal>
                <Tooltip.Content
                  side="bottom"
                  sideOffset={6}
                  className="z-50 max-w-xs rounded-md bg-zinc-900 px-2.5 py-1.5 text-xs text-white shadow-lg dark:bg-zinc-100 dark:text-zinc-900"
                >
                  {l.description}
                </Tooltip.Content>
              </Tooltip.Portal>
            </Tooltip.Root>
          );
        })}
      </nav>
    </Tooltip.Provider>
  );
}
