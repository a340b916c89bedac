import Link from "next/link";
import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { authOptions } from "@/lib/auth/options";
import { SignOutButton } from "@/components/auth/sign-out-button";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const session = await getServerSession(authOptions());
  if (!session?.user) redirect("/sign-in");
  const origin = process.env.NEXTAUTH_URL ?? "http://localhost:3000";
  return (
    <main className="mx-auto max-w-3xl px-4 py-10">
      <header className="mb-8 flex items-center justify-between">
        <p className="text-sm font-semibold tracking-wide text-indigo-600 dark:text-indigo-400">KEYGATE</p>
        <div className="flex items-center gap-3">
          <span className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="signed-in-as">
            {session.user.email}
          </span>
          <SignOutButton />
        </div>
      </header>
      <h1 className="mb-2 text-2xl font-semibold">Welcome{session.user.name ? `, ${session.user.name}` : ""}</h1>
      <p className="mb-8 text-zinc-600 dark:text-zinc-400">
        Keygate manages your inference keys. Use the REST API from scripts; the API reference lists every endpoint.
      </p>
      <section className="space-y-4 rounded-xl border border-zinc-200 bg-white p-6 dark:border-zinc-800 dark:bg-zinc-900">
        <h2 className="text-lg font-medium">Use the API from a script</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Exchange your email and password for a session token, then send it as a Bearer token:</p>
        <pre className="overflow-x-auto rounded-md bg-zinc-100 p-3 text-xs dark:bg-zinc-950">{`curl -X POST ${origin}/api/auth/token \\
  -H "Content-Type: application/json" \\
  -d '{"email": "${session.user.email}", "password": "…"}'

curl ${origin}/api/keys -H "Authorization: Bearer <token>"`}</pre>
        <Link href="/docs" className="inline-block text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Read the API reference →
        </Link>
      </section>
    </main>
  );
}
