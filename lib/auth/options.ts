import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import GithubProvider from "next-auth/providers/github";
import { prisma } from "@/lib/db";
import { authSecret, env } from "@/lib/env";
import type { Actor } from "@/lib/auth/actor";
import { passwordSignIn } from "@/lib/auth/login";
import { HttpError } from "@/lib/http/errors";
import { clientIpFromHeaders } from "@/lib/rate-limit";
import { signInSchema } from "@/lib/auth/schemas";
import { decodeSessionToken, SESSION_MAX_AGE_SECONDS } from "@/lib/auth/session-token";

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
      async authorize(credentials, req) {
        const parsed = signInSchema.safeParse({ email: credentials?.email, password: credentials?.password });
        if (!parsed.success) return null;
        const header = (name: string) => {
          const v: unknown = req?.headers?.[name];
          return Array.isArray(v) ? String(v[0]) : typeof v === "string" ? v : undefined;
        };
        // The front server (lib/http/front.ts) sets X-Forwarded-For to the client's one address and drops X-Real-IP.
        const ip = clientIpFromHeaders(header("x-forwarded-for"), null);
        // The dashboard's sign-in is not a declared operation: its actor says what the audit log records.
        const actor: Actor = {
          userId: null,
          via: "anonymous",
          clientAddress: ip === "unknown" ? null : ip,
          userAgent: header("user-agent") ?? null,
          requestId: header("x-request-id") ?? null,
          audit: { action: "auth.sign_in", targetType: "user" },
        };
        try {
          return await passwordSignIn(parsed.data.email, parsed.data.password, actor);
        } catch (err) {
          // NextAuth shows a thrown error's message on the sign-in form.
          if (err instanceof HttpError) throw new Error(err.message);
          throw err;
        }
      },
    }),
  ];
  if (e.GITHUB_ID && e.GITHUB_SECRET) {
    providers.push(GithubProvider({ clientId: e.GITHUB_ID, clientSecret: e.GITHUB_SECRET }));
  }

  return {
    secret: authSecret(),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    // The cookie is read through the same algorithm check as Bearer session tokens.
    jwt: { maxAge: SESSION_MAX_AGE_SECONDS, decode: decodeSessionToken },
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
