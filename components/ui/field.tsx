import { useId } from "react";

export interface FieldProps extends React.ComponentProps<"input"> {
  label: string;
  hint?: string;
  /** Refuses the value: red, and the field is aria-invalid. */
  error?: string;
  /** Worth knowing but not blocking (e.g. a name already in use). Hidden while there is an error. */
  warning?: string;
}

export const inputClassName =
  "block h-9 w-full rounded-md border border-zinc-300 bg-white px-3 text-sm text-zinc-900 shadow-sm transition-colors placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-red-500 aria-[invalid=true]:focus:ring-red-500/30 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100 dark:placeholder:text-zinc-500 dark:focus:border-indigo-400 dark:aria-[invalid=true]:border-red-400 dark:[color-scheme:dark]";

/**
 * A labelled input whose hint, warning or error is its accessible
 * description, so a screen reader reads it with the field. Takes `ref` (and
 * so react-hook-form's `register()`) straight through to the <input>.
 */
export function Field({ label, hint, error, warning, className, id: idProp, ...input }: FieldProps) {
  const autoId = useId();
  const id = idProp ?? autoId;
  const shownWarning = error ? undefined : warning;
  const shownHint = error || shownWarning ? undefined : hint;
  const describedBy = [shownHint && `${id}-hint`, shownWarning && `${id}-warning`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
        {label}
      </label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} className={inputClassName} {...input} />
      {shownHint && (
        <p id={`${id}-hint`} className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          {shownHint}
        </p>
      )}
      {shownWarning && (
        <p id={`${id}-warning`} className="mt-1.5 text-xs text-amber-800 dark:text-amber-300">
          {shownWarning}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="mt-1.5 text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}
