import type { Metadata } from "next";
import Link from "next/link";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";

export const metadata: Metadata = { title: "Account" };

export default async function Page() {
  const user = await requireUser("/account");
  const origin = await browsingOrigin();
  return (
    <div className="max-w-3xl space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Account</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Signed in as <span className="font-medium text-zinc-900 dark:text-zinc-100">{user.email}</span>.
        </p>
      </div>
      <section className="space-y-3 rounded-xl border border-zinc-200 bg-white p-6 dark:border-zinc-800 dark:bg-zinc-900">
        <h2 className="text-lg font-medium">Session tokens for scripts</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Scripts can act as you with a session token, valid for 30 days. It is the only credential that can create or delete billing keys; for everything else,
          prefer a{" "}
          <Link href="/billing-keys" className="font-medium text-indigo-700 underline dark:text-indigo-300">
            billing key
          </Link>
          , which you can revoke on its own.
        </p>
        <pre
          tabIndex={0}
          role="region"
          aria-label="Getting a session token with curl"
          className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950"
        >{`curl -X POST ${origin}/api/auth/token \\
  -H "Content-Type: application/json" \\
  -d '{"email": "${user.email}", "password": "<your password>"}'
# → {"success":true,"data":{"token":"…","expiresAt":"…"}}

curl ${origin}/api/billing-keys -H "Authorization: Bearer <token>"`}</pre>
        <p className="text-sm">
          <Link href="/docs" className="font-medium text-indigo-700 underline dark:text-indigo-300">
            Read the API reference
          </Link>{" "}
          or fetch the{" "}
          <a href="/api/openapi.json" className="font-medium text-indigo-700 underline dark:text-indigo-300">
            OpenAPI document
          </a>
          .
        </p>
      </section>
    </div>
  );
}
