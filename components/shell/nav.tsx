"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { Tooltip } from "radix-ui";
import { cn } from "@/components/ui/cn";

interface NavLink {
  href: string;
  label: string;
  /** The tab's tooltip and accessible description, for tabs whose name alone is jargon. */
  description?: string;
}

const LINKS: NavLink[] = [
  { href: "/overview", label: "Overview" },
  { href: "/usage", label: "Usage", description: "Spend per day, key and model, and every request your keys made" },
  { href: "/keys", label: "API Keys", description: "Keys (sk_…) your apps use to call the inference API" },
  { href: "/pools", label: "Pools", description: "Reserve hours of the day for a flat price, and your subscriptions" },
  { href: "/billing-keys", label: "Billing Keys", description: "Management keys (mk_…) for scripts and CI" },
  { href: "/billing", label: "Billing" },
  { href: "/models", label: "Models" },
  { href: "/webhooks", label: "Webhooks", description: "Alerts to your endpoints: budgets, a low balance, subscriptions ending" },
  { href: "/audit", label: "Audit log", description: "Who changed what in your account, from where, and every sign-in" },
  { href: "/account", label: "Account" },
];

/** The Admin section: shown to operators (KEYGATE_ADMIN_EMAILS) only; its pages are 404 for everyone else. */
const ADMIN_LINKS: NavLink[] = [
  { href: "/admin/upstreams", label: "Upstreams", description: "Admin: the providers the gateway sends requests to, and their health" },
  { href: "/admin/models", label: "Models & prices", description: "Admin: the catalogue, its prices, and which upstreams serve each model" },
  { href: "/admin/pools", label: "Pools (admin)", description: "Admin: create pools, change their seats and prices, take them off sale" },
  { href: "/admin/credits", label: "Credits", description: "Admin: grant credit to an account" },
  { href: "/admin/audit", label: "Audit (all)", description: "Admin: every account's audit log, and changes to models, upstreams and pools" },
];

export function Nav({ isOperator = false }: { isOperator?: boolean }) {
  const pathname = usePathname();
  return (
    <Tooltip.Provider delayDuration={400}>
      <nav aria-label="Main" className="-mb-px flex gap-1 overflow-x-auto">
        {LINKS.map((l) => (
          <NavTab key={l.href} link={l} pathname={pathname} />
        ))}
        {isOperator && (
          <>
            <span aria-hidden className="mx-1 my-2.5 w-px shrink-0 bg-zinc-200 dark:bg-zinc-700" />
            {ADMIN_LINKS.map((l) => (
              <NavTab key={l.href} link={l} pathname={pathname} />
            ))}
          </>
        )}
      </nav>
    </Tooltip.Provider>
  );
}

function NavTab({ link: l, pathname }: { link: NavLink; pathname: string }) {
  const active = pathname === l.href || pathname.startsWith(`${l.href}/`);
  const link = (
    <Link
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
    <Tooltip.Root>
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
}
