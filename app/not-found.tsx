import type { Metadata } from "next";
import Link from "next/link";
import { buttonVariants } from "@/components/ui/button";
import { KeygateLogo } from "@/components/shell/logo";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-indigo-50/60 to-zinc-50 px-4 py-12 text-center dark:from-indigo-950/20 dark:to-zinc-950">
      <KeygateLogo className="mb-10 text-lg" />
      <p className="font-mono text-sm font-medium text-indigo-700 dark:text-indigo-400">404</p>
      <h1 className="mt-2 text-3xl font-semibold tracking-tight sm:text-4xl">Page not found</h1>
      <p className="mt-3 max-w-md text-sm text-zinc-600 dark:text-zinc-400">
        There is nothing at this address. It may have moved, or the link may be mistyped.
      </p>
      <div className="mt-8 flex flex-wrap items-center justify-center gap-3">
        <Link href="/keys" className={buttonVariants()}>
          Go to your API keys
        </Link>
        <Link href="/docs" className={buttonVariants({ variant: "secondary" })}>
          API docs
        </Link>
      </div>
    </main>
  );
}
