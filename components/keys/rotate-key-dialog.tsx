"use client";

import { useId, useState } from "react";
import { Dialog } from "@/components/ui/dialog";
import { FormFooter } from "@/components/ui/form-footer";
import type { KeyLike } from "@/components/keys/key-list";
import { SecretModal, type ReportCopy } from "@/components/keys/secret-modal";
import type { RotatedSecret } from "@/components/keys/use-key-actions";

/** The grace periods the dashboard offers (the API takes any number of seconds up to 7 days). */
export const GRACE_CHOICES = [
  { seconds: 0, label: "None", hint: "the old secret stops working at once" },
  { seconds: 3_600, label: "1 hour", hint: "both work for an hour" },
  { seconds: 86_400, label: "24 hours", hint: "both work for a day" },
  { seconds: 604_800, label: "7 days", hint: "both work for a week" },
] as const;

export interface RotateKeyDialogProps<K extends KeyLike> {
  target: K | null;
  /** "key" or "billing key", in the dialog's sentences. */
  what: string;
  /** Who holds the secret, for the sentence about updating them: "apps", "scripts". */
  users: string;
  pending: boolean;
  error?: string;
  onClose: () => void;
  onRotate: (gracePeriodSeconds: number) => void;
}

/**
 * "Rotate “name”?": a new secret under the same key, with how long the old
 * one keeps working. The choice is a native radio group in a fieldset, so the
 * keyboard and screen readers get what they expect; none is preselected but
 * "None", the safe answer for a leaked key.
 */
export function RotateKeyDialog<K extends KeyLike>({ target, what, users, pending, error, onClose, onRotate }: RotateKeyDialogProps<K>) {
  const id = useId();
  const [grace, setGrace] = useState<number>(0);
  const close = () => {
    setGrace(0);
    onClose();
  };
  return (
    <Dialog
      open={target !== null}
      onClose={close}
      title={target ? `Rotate “${target.name}” (${target.keyPrefix}…)?` : ""}
      testId="rotate-dialog"
      description={`A new secret replaces this ${what}'s. Its name, limits and history stay. Update your ${users} with the new secret before the old one stops working.`}
    >
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          onRotate(grace);
        }}
      >
        <fieldset>
          <legend className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">Keep the old secret working for</legend>
          <div className="space-y-2 text-sm text-zinc-800 dark:text-zinc-200">
            {GRACE_CHOICES.map((choice) => (
              <label key={choice.seconds} className="flex items-center gap-2">
                <input
                  type="radio"
                  name={`${id}-grace`}
                  value={choice.seconds}
                  checked={grace === choice.seconds}
                  onChange={() => setGrace(choice.seconds)}
                  className="h-4 w-4 border-zinc-300 text-indigo-600 focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-600"
                />
                <span>
                  {choice.label} <span className="text-zinc-600 dark:text-zinc-400">({choice.hint})</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <FormFooter error={error} onCancel={close} pending={pending} submitLabel={`Rotate ${what}`} pendingLabel="Rotating…" />
      </form>
    </Dialog>
  );
}

/** The show-once modal's warning for a rotated key: the new secret, and what happens to the old one. */
export function rotatedNotice(what: string, previousKeyExpiresAt: string | null): string {
  const old =
    previousKeyExpiresAt === null
      ? "The old secret has stopped working."
      : `The old secret keeps working until ${new Date(previousKeyExpiresAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}.`;
  return `Copy this new ${what} now. It will not be shown again: Keygate keeps only a hash of it. ${old}`;
}

export interface RotatedSecretModalProps<K extends KeyLike> {
  /** What `useRotateKeyFlow` returns. */
  flow: {
    rotated: RotatedSecret<K> | null;
    secretModal: { secret: string | null; onClose: () => void };
  };
  /** "key" or "billing key", in the modal's warning. */
  what: string;
  /** After the modal closed (the secret is already dropped). */
  onClosed?: () => void;
  className?: string;
  /** Below the secret: how to use it (snippets), given the rotated key. */
  children: (rotated: RotatedSecret<K>, reportCopy: ReportCopy) => React.ReactNode;
}

/** The show-once modal for a rotation's new secret, with what happens to the old one. */
export function RotatedSecretModal<K extends KeyLike>({ flow, what, onClosed, className, children }: RotatedSecretModalProps<K>) {
  const { rotated, secretModal } = flow;
  return (
    <SecretModal
      secret={secretModal.secret}
      onClose={() => {
        secretModal.onClose();
        onClosed?.();
      }}
      title={rotated ? `New secret for “${rotated.name}”` : ""}
      notice={rotated ? rotatedNotice(what, rotated.previousKeyExpiresAt) : undefined}
      className={className}
    >
      {(reportCopy) => rotated && children(rotated, reportCopy)}
    </SecretModal>
  );
}
