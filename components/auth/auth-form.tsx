"use client";

import { useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { signInSchema, signUpSchema } from "@/lib/auth/schemas";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";

export interface AuthFormProps {
  mode: "sign-in" | "sign-up";
  callbackUrl: string;
  initialError?: string;
}

type FieldErrors = Partial<Record<"email" | "password" | "name", string>>;

export function AuthForm({ mode, callbackUrl, initialError }: AuthFormProps) {
  const router = useRouter();
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | undefined>(initialError);
  const [pending, setPending] = useState(false);
  const { ref: formRef, refused: focusFirstInvalid } = useFocusFirstInvalid();

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const values = {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      ...(mode === "sign-up" && String(form.get("name") ?? "").trim() ? { name: String(form.get("name")) } : {}),
    };
    const parsed = (mode === "sign-up" ? signUpSchema : signInSchema).safeParse(values);
    if (!parsed.success) {
      const errors: FieldErrors = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as keyof FieldErrors;
        errors[field] ??= capitalise(issue.message);
      }
      setFieldErrors(errors);
      setFormError(undefined);
      focusFirstInvalid();
      return;
    }
    setFieldErrors({});
    setFormError(undefined);
    setPending(true);
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
      const result = await signIn("credentials", { email: values.email, password: values.password, redirect: false });
      if (!result || result.error) {
        setFormError(
          result?.error && result.error !== "CredentialsSignin" ? result.error : "Email or password is incorrect.",
        );
        return;
      }
      router.replace(callbackUrl);
      router.refresh();
    } catch {
      setFormError("Could not reach Keygate. Check your connection and try again.");
    } finally {
      setPending(false);
    }
  }

  const title = mode === "sign-in" ? "Sign in to Keygate" : "Create your Keygate account";
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <p className="mb-6 text-center text-sm font-semibold tracking-wide text-indigo-600 dark:text-indigo-400">KEYGATE</p>
        <h1 className="mb-6 text-center text-2xl font-semibold">{title}</h1>
        <form
          ref={formRef}
          noValidate
          onSubmit={onSubmit}
          className="space-y-4 rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
        >
          {formError && (
            <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
              {formError}
            </p>
          )}
          {mode === "sign-up" && <Field name="name" label="Name (optional)" type="text" autoComplete="name" error={fieldErrors.name} />}
          <Field name="email" label="Email" type="email" autoComplete="email" error={fieldErrors.email} />
          <Field
            name="password"
            label="Password"
            type="password"
            autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
            hint={mode === "sign-up" ? "At least 10 characters." : undefined}
            error={fieldErrors.password}
          />
          <button
            type="submit"
            disabled={pending}
            className="w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
          >
            {pending ? "Please wait…" : mode === "sign-in" ? "Sign in" : "Create account"}
          </button>
        </form>
        <p className="mt-4 text-center text-sm text-zinc-600 dark:text-zinc-400">
          {mode === "sign-in" ? (
            <>
              No account yet?{" "}
              <Link className="font-medium text-indigo-600 hover:underline dark:text-indigo-400" href={`/sign-up?callbackUrl=${encodeURIComponent(callbackUrl)}`}>
                Create one
              </Link>
            </>
          ) : (
            <>
              Already have an account?{" "}
              <Link className="font-medium text-indigo-600 hover:underline dark:text-indigo-400" href={`/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}`}>
                Sign in
              </Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}

function Field(props: { name: string; label: string; type: string; autoComplete: string; hint?: string; error?: string }) {
  const id = `field-${props.name}`;
  const describedBy = [props.hint && `${id}-hint`, props.error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div>
      <label htmlFor={id} className="mb-1 block text-sm font-medium">
        {props.label}
      </label>
      <input
        id={id}
        name={props.name}
        type={props.type}
        autoComplete={props.autoComplete}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
        className="block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950"
      />
      {props.hint && !props.error && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p id={`${id}-error`} className="mt-1 text-xs text-red-600 dark:text-red-400">
          {props.error}
        </p>
      )}
    </div>
  );
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
