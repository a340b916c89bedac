"use client";

import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { useCheckout } from "@/components/billing/use-billing";
import { TOP_UP_MAX_USD, TOP_UP_MIN_USD, createCheckoutSchema } from "@/lib/billing/schemas";
import { FormFooter } from "@/components/ui/form-footer";

export interface TopUpDialogProps {
  open: boolean;
  onClose: () => void;
}

const PRESETS = [10, 25, 50, 100];

/** The field's text as the API's body, checked by the API's own schema: the form cannot send what the server would refuse. */
const formSchema = z
  // Named as the API names it, so the schema's errors land on the field.
  .object({ amountUsd: z.string() })
  .transform(({ amountUsd }) => {
    const t = amountUsd.trim().replace(/^\$/, "").replaceAll(",", "");
    const n = Number(t);
    return { amountUsd: t !== "" && Number.isFinite(n) ? n : t };
  })
  .pipe(createCheckoutSchema);

/** The schema says "amountUsd must be …"; the form says it with the label people see. */
function amountMessage(message: string | undefined): string | undefined {
  return message?.replace(/^amountUsd /, "The amount ");
}

export function TopUpDialog({ open, onClose }: TopUpDialogProps) {
  const checkout = useCheckout();
  const close = () => {
    checkout.reset();
    onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Top up with a card"
      description={`Pay with Stripe and the amount is added to your credit balance, usually within seconds. ${formatRange()}.`}
      testId="top-up-dialog"
    >
      {/* Mounted with the dialog's content: every opening starts with a fresh form. */}
      <TopUpForm
        // Leaving for Stripe keeps the form busy: the page is about to go.
        pending={checkout.isPending || checkout.isSuccess}
        error={checkout.error?.message}
        onCancel={close}
        onSubmit={(amountUsd) => checkout.mutate({ amountUsd })}
      />
    </Dialog>
  );
}

function formatRange(): string {
  return `From $${TOP_UP_MIN_USD} to $${TOP_UP_MAX_USD.toLocaleString("en-US")}`;
}

interface TopUpFormProps {
  pending: boolean;
  error?: string;
  onCancel: () => void;
  onSubmit: (amountUsd: number) => void;
}

function TopUpForm({ pending, error, onCancel, onSubmit }: TopUpFormProps) {
  const {
    register,
    handleSubmit,
    setValue,
    formState: { errors, submitCount },
  } = useForm<{ amountUsd: string }, unknown, z.output<typeof formSchema>>({
    resolver: zodResolver(formSchema),
    defaultValues: { amountUsd: "25" },
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);

  return (
    <form ref={formRef} noValidate onSubmit={handleSubmit(({ amountUsd }) => onSubmit(amountUsd))} className="space-y-4">
      <Field
        label="Amount (USD)"
        inputMode="decimal"
        autoComplete="off"
        autoFocus
        hint="Whole cents, e.g. 25 or 12.50."
        error={amountMessage(errors.amountUsd?.message)}
        {...register("amountUsd")}
      />
      <div role="group" aria-label="Common amounts" className="flex flex-wrap gap-2">
        {PRESETS.map((n) => (
          <Button key={n} size="sm" variant="secondary" onClick={() => setValue("amountUsd", String(n), { shouldValidate: submitCount > 0 })}>
            ${n}
          </Button>
        ))}
      </div>
      <FormFooter error={error} onCancel={onCancel} pending={pending} submitLabel="Continue to payment" pendingLabel="Opening Stripe…" />
    </form>
  );
}
