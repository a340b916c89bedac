import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import GithubProvider from "next-auth/providers/github";
import { prisma } from "@/lib/db";
import { authSecret, env } from "@/lib/env";
import { checkCredentials } from "@/lib/auth/users";
import { signInSchema } from "@/lib/auth/schemas";
import { consume, LOGIN_PER_EMAIL } from "@/lib/rate-limit";
import { SESSION_MAX_AGE_SECONDS } from "@/lib/auth/session-token";

/**
 * NextAuth v4 with JWT sessions: the cookie holds the same encrypted JWT that
 * POST /api/auth/token hands to scripts, so one decoder serves both.
 * Built per call because the secret is read lazily (not at import time).
 */
export function authOptions(): NextAuthOptions {
  const e = env();
  const providers: NextAuthOptions["providers"] = [
    CredentialsProvider({
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      async authorize(credentials) {
        const parsed = signInSchema.safeParse({ email: credentials?.email, password: credentials?.password });
        if (!parsed.success) return null;
        try {
          await consume("login-email", parsed.data.email, LOGIN_PER_EMAIL, "Too many sign-in attempts.");
        } catch {
          throw new Error("Too many sign-in attempts for this account. Wait 15 minutes and try again.");
        }
        return checkCredentials(parsed.data.email, parsed.data.password);
      },
    }),
  ];
  if (e.GITHUB_ID && e.GITHUB_SECRET) {
    providers.push(GithubProvider({ clientId: e.GITHUB_ID, clientSecret: e.GITHUB_SECRET }));
  }

  return {
    secret: authSecret(),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    jwt: { maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers,
    callbacks: {
      async signIn({ user, account }) {
        if (account?.provider !== "github") return true;
        // GitHub accounts are matched to Keygate users by verified email.
        if (!user.email) return "/sign-in?error=GithubEmail";
        const db = await prisma();
        const email = user.email.toLowerCase();
        await db.user.upsert({ where: { email }, update: {}, create: { email, name: user.name ?? null } });
        return true;
      },
      async jwt({ token, user, account }) {
        if (account?.provider === "github" && token.email) {
          const db = await prisma();
          const found = await db.user.findUnique({ where: { email: token.email.toLowerCase() }, select: { id: true } });
          if (found) token.sub = found.id;
        } else if (user?.id) {
          token.sub = user.id;
        }
        return token;
      },
      async session({ session, token }) {
        if (session.user && token.sub) (session.user as { id?: string }).id = token.sub;
        return session;
      },
    },
  };
}
