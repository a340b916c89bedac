import type { Metadata } from "next";
import { AuthForm } from "@/components/auth/auth-form";
import { safeCallbackUrl } from "@/lib/auth/callback-url";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  CredentialsSignin: "Email or password is incorrect.",
  GithubEmail: "Your GitHub account has no public email address; add one or sign up with email.",
  SessionRequired: "Please sign in to continue.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const error = typeof params.error === "string" ? (ERRORS[params.error] ?? "Sign-in failed. Please try again.") : undefined;
  return <AuthForm mode="sign-in" callbackUrl={safeCallbackUrl(params.callbackUrl)} initialError={error} />;
}
