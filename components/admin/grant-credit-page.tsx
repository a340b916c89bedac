"use client";

import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormError } from "@/components/ui/form-footer";
import { PageHeader } from "@/components/ui/headings";
import { useToast } from "@/components/ui/toast";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { apiFetch } from "@/lib/client/api";
import { formatDollars } from "@/lib/client/money";
import { grantCreditsSchema, type CreditGrant } from "@/lib/billing/schemas";
import { fieldMessages } from "@/lib/client/field-message";

const LABELS = { email: "Email", amountUsd: "Amount", note: "Note" } as const;

interface FormValues {
  email: string;
  amountUsd: string;
  note: string;
}

/** The inputs' text becomes the API's body, checked by the API's own schema. */
const formSchema = z
  .object({ email: z.string(), amountUsd: z.string(), note: z.string() })
  .transform((v) => {
    const amount = v.amountUsd.trim();
    const n = Number(amount);
    return {
      email: v.email.trim(),
      amountUsd: amount === "" || !Number.isFinite(n) ? amount : n,
      ...(v.note.trim() !== "" && { note: v.note }),
    } as z.input<typeof grantCreditsSchema>;
  })
  .pipe(grantCreditsSchema);

const fieldMessage = fieldMessages(LABELS);

/**
 * Admin → Credits: grant credit to an account by its email (POST
 * /api/admin/credits). The grant is a ledger entry with the note, recorded
 * as this operator.
 */
export function GrantCreditPage() {
  const toast = useToast();
  const grant = useMutation({
    mutationFn: (body: z.output<typeof formSchema>) => apiFetch<CreditGrant>("/api/admin/credits", { method: "POST", body }),
    onSuccess: (g) => toast.success(`Granted ${formatDollars(g.amountUsd)} to ${g.email}.`),
  });
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors, submitCount },
  } = useForm<FormValues, unknown, z.output<typeof formSchema>>({
    resolver: zodResolver(formSchema),
    defaultValues: { email: "", amountUsd: "", note: "" },
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);

  return (
    <div className="space-y-6">
      <PageHeader title="Credits">Grant credit to an account by its email. It is added to their balance at once, as a ledger entry with your note.</PageHeader>
      <section aria-label="Grant credit" className="max-w-xl rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <form ref={formRef} noValidate className="space-y-4" onSubmit={handleSubmit((body) => grant.mutate(body, { onSuccess: () => reset() }))}>
          <Field label="Email" type="email" autoComplete="off" error={fieldMessage("email", errors.email?.message)} {...register("email")} />
          <Field
            label="Amount (USD)"
            inputMode="decimal"
            autoComplete="off"
            placeholder="e.g. 20"
            error={fieldMessage("amountUsd", errors.amountUsd?.message)}
            {...register("amountUsd")}
          />
          <Field
            label="Note"
            autoComplete="off"
            maxLength={500}
            placeholder="Operator grant"
            hint="Why, for the ledger; the account sees it in its history."
            error={fieldMessage("note", errors.note?.message)}
            {...register("note")}
          />
          {grant.error && <FormError message={grant.error.message} />}
          <div className="flex flex-wrap items-center justify-between gap-3">
            <p role="status" className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="grant-result">
              {grant.data && !grant.isPending
                ? `Granted ${formatDollars(grant.data.amountUsd)} to ${grant.data.email}; their balance is now ${formatDollars(grant.data.balanceUsd)}.`
                : ""}
            </p>
            <Button type="submit" disabled={grant.isPending}>
              {grant.isPending ? "Granting…" : "Grant credit"}
            </Button>
          </div>
        </form>
      </section>
    </div>
  );
}
