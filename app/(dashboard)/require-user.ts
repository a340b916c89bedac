import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { authOptions } from "@/lib/auth/options";

/**
 * For dashboard pages: the signed-in user, or a redirect to sign-in that comes
 * back here. It lives under app/ because redirect() is Next's, and lib/ must
 * run without Next.
 */
export async function requireUser(returnTo: string) {
  const session = await getServerSession(authOptions());
  if (!session?.user?.email) redirect(`/sign-in?callbackUrl=${encodeURIComponent(returnTo)}`);
  return { email: session.user.email, name: session.user.name ?? null };
}
