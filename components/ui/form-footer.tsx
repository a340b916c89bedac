import { Button } from "@/components/ui/button";

/**
 * The end of every form in a dialog: the form's error, announced where it is
 * seen (the page behind a modal is hidden from assistive tech), then Cancel
 * and the submit button, which says what is happening while the request runs.
 * Stacked on narrow screens with the submit button on top.
 */
export function FormFooter({
  error,
  onCancel,
  pending,
  submitLabel,
  pendingLabel,
}: {
  error?: string | null;
  onCancel: () => void;
  pending: boolean;
  submitLabel: string;
  pendingLabel: string;
}) {
  return (
    <>
      {error && <FormError message={error} />}
      <div className="flex flex-col-reverse gap-2 pt-1 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending}>
          {pending ? pendingLabel : submitLabel}
        </Button>
      </div>
    </>
  );
}

/** A form-level error (not a field's), announced when it appears. */
export function FormError({ message }: { message: string }) {
  return (
    <p
      role="alert"
      className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-300"
    >
      {message}
    </p>
  );
}
