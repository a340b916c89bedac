import Link from "next/link";
import { getServerSession } from "next-auth";
import { authOptions } from "@/lib/auth/options";
import { Providers } from "@/components/providers";
import { Nav } from "@/components/shell/nav";
import { SignOutButton } from "@/components/auth/sign-out-button";
import { isOperatorEmail } from "@/lib/env";

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  // Each page enforces sign-in (and knows where to come back to); the layout
  // only needs the email for the header.
  const session = await getServerSession(authOptions());
  // The Admin tabs, for operators only (the same rule as /api/admin/* and GET /api/account's isOperator).
  const isOperator = !!session?.user?.email && isOperatorEmail(session.user.email);
  return (
    <Providers>
      <div className="min-h-screen">
        <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
          <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-3 px-4 pt-3">
            <Link href="/overview" className="text-sm font-semibold tracking-wide text-indigo-700 dark:text-indigo-300">
              KEYGATE
            </Link>
            <div className="flex min-w-0 items-center gap-3">
              <Link href="/docs" className="whitespace-nowrap text-sm text-zinc-600 hover:underline dark:text-zinc-400">
                API docs
              </Link>
              <span className="min-w-0 max-w-[12rem] truncate text-sm text-zinc-700 dark:text-zinc-300" data-testid="signed-in-as">
                {session?.user?.email}
              </span>
              <SignOutButton />
            </div>
          </div>
          <div className="mx-auto max-w-6xl px-4 pt-2">
            <Nav isOperator={isOperator} />
          </div>
        </header>
        <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
      </div>
    </Providers>
  );
}
