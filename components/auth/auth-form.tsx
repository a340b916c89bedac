"use client";

import { useState, useSyncExternalStore } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useForm, type Resolver } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { signInSchema, signUpSchema } from "@/lib/auth/schemas";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { KeygateMark } from "@/components/shell/logo";
import { loadNextAuthClient } from "@/components/auth/next-auth-client";
import { FormError } from "@/components/ui/form-footer";

export interface AuthFormProps {
  mode: "sign-in" | "sign-up";
  callbackUrl: string;
  initialError?: string;
}

interface AuthValues {
  email: string;
  password: string;
  name?: string;
}

// Each schema checks exactly what its endpoint accepts (sign-in has no name).
const resolvers: Record<AuthFormProps["mode"], Resolver<AuthValues>> = {
  "sign-in": zodResolver(signInSchema),
  "sign-up": zodResolver(signUpSchema),
};

export function AuthForm({ mode, callbackUrl, initialError }: AuthFormProps) {
  const router = useRouter();
  const [formError, setFormError] = useState<string | undefined>(initialError);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting, submitCount },
  } = useForm<AuthValues>({
    resolver: resolvers[mode],
    defaultValues: mode === "sign-up" ? { email: "", password: "", name: undefined } : { email: "", password: "" },
    // Focus moves after the errors render (useFocusFirstInvalid), so the
    // field is announced together with its error.
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);

  async function send(values: AuthValues) {
    setFormError(undefined);
    try {
      if (mode === "sign-up") {
        const res = await fetch("/api/auth/signup", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(values),
        });
        if (!res.ok) {
          const body = await res.json().catch(() => null);
          setFormError(body?.error?.message ?? "Sign-up failed. Please try again.");
          return;
        }
      }
      const { signIn } = await loadNextAuthClient();
      const result = await signIn("credentials", { email: values.email, password: values.password, redirect: false });
      if (!result || result.error) {
        setFormError(result?.error && result.error !== "CredentialsSignin" ? result.error : "Email or password is incorrect.");
        return;
      }
      router.replace(callbackUrl);
      router.refresh();
    } catch {
      setFormError("Could not reach Keygate. Check your connection and try again.");
    }
  }

  const onSubmit = handleSubmit(send, () => setFormError(undefined));
  // Until React has taken over the form, a click would submit it natively; the button waits.
  const hydrated = useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );

  const title = mode === "sign-in" ? "Sign in to Keygate" : "Create your Keygate account";
  return (
    <main className="flex min-h-screen items-center justify-center bg-gradient-to-b from-indigo-50/60 to-zinc-50 px-4 py-12 dark:from-indigo-950/20 dark:to-zinc-950">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex flex-col items-center gap-4">
          <KeygateMark className="size-10" />
          <h1 className="text-center text-2xl font-semibold tracking-tight">{title}</h1>
        </div>
        <form
          ref={formRef}
          // Never a GET: a submission before hydration must not put the password in the URL.
          method="post"
          noValidate
          onSubmit={onSubmit}
          className="space-y-4 rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
        >
          {formError && <FormError message={formError} />}
          {mode === "sign-up" && (
            <Field
              label="Name (optional)"
              type="text"
              autoComplete="name"
              error={capitalise(errors.name?.message)}
              // A blank optional name is no name, not an empty one.
              {...register("name", { setValueAs: (v: string) => (v.trim() === "" ? undefined : v) })}
            />
          )}
          <Field label="Email" type="email" autoComplete="email" error={capitalise(errors.email?.message)} {...register("email")} />
          <Field
            label="Password"
            type="password"
            autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
            hint={mode === "sign-up" ? "At least 10 characters." : undefined}
            error={capitalise(errors.password?.message)}
            {...register("password")}
          />
          <Button type="submit" disabled={!hydrated || isSubmitting} className="w-full">
            {isSubmitting ? "Please wait…" : mode === "sign-in" ? "Sign in" : "Create account"}
          </Button>
        </form>
        <p className="mt-6 text-center text-sm text-zinc-600 dark:text-zinc-400">
          {mode === "sign-in" ? (
            <>
              No account yet?{" "}
              <Link
                className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                href={`/sign-up?callbackUrl=${encodeURIComponent(callbackUrl)}`}
              >
                Create one
              </Link>
            </>
          ) : (
            <>
              Already have an account?{" "}
              <Link
                className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                href={`/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}`}
              >
                Sign in
              </Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}

function capitalise(s: string | undefined): string | undefined {
  return s && s.charAt(0).toUpperCase() + s.slice(1);
}

function noSubscription(): () => void {
  return () => {};
}
