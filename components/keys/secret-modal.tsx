"use client";

import { useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/**
 * How content inside the modal reports copying something that holds the
 * secret (a code snippet): the modal announces it in its one status line,
 * and once anything holding the key is copied, Escape simply closes.
 */
export type ReportCopy = (result: { what: string; ok: boolean }) => void;

export interface SecretModalProps {
  /** The plaintext key; null closes the modal. */
  secret: string | null;
  title: string;
  onClose: () => void;
  /** Below the key: content, or a function given `ReportCopy` for content that copies the key. */
  children?: React.ReactNode | ((reportCopy: ReportCopy) => React.ReactNode);
  /** For the dialog, e.g. a wider `sm:max-w-2xl` for code snippets. */
  className?: string;
  /** The warning under the title, for a secret that is not a key (default: a key, of which Keygate keeps only a hash). */
  notice?: string;
}

type CopyStatus = { ok: boolean; text: string } | null;

/**
 * Shows a newly created key once. Closing it is deliberate: the backdrop does
 * nothing, and Escape before the key was copied asks first, because one
 * stray key press would lose a key nobody can show again. Afterwards the
 * secret exists nowhere in the page: the parent drops its state.
 */
export function SecretModal({ secret, title, onClose, children, className, notice }: SecretModalProps) {
  /** The key itself was copied (its button says so). */
  const [copied, setCopied] = useState(false);
  /** The key, or something holding it, was copied: it is safe, and Escape simply closes. */
  const [saved, setSaved] = useState(false);
  const [status, setStatus] = useState<CopyStatus>(null);
  const [confirming, setConfirming] = useState(false);
  const copyRef = useRef<HTMLButtonElement>(null);

  const reportCopy: ReportCopy = ({ what, ok }) => {
    if (ok) {
      setSaved(true);
      setConfirming(false);
      setStatus({ ok, text: `Copied the ${what} to the clipboard.` });
    } else {
      setStatus({ ok, text: `Could not copy automatically: select the ${what} and copy it by hand.` });
    }
  };

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
      setSaved(true);
      setConfirming(false);
      setStatus({ ok: true, text: "Copied to the clipboard." });
    } catch {
      setStatus({ ok: false, text: "Could not copy automatically: select the key and copy it by hand." });
    }
  }

  function keepOpen() {
    // Before the question (and its focused button) goes away, or focus would fall to the dialog itself.
    copyRef.current?.focus();
    setConfirming(false);
  }

  function close() {
    setCopied(false);
    setSaved(false);
    setStatus(null);
    setConfirming(false);
    onClose();
  }

  return (
    <Dialog
      open={secret !== null}
      onClose={close}
      title={title}
      dismissOnBackdrop={false}
      testId="secret-modal"
      className={className}
      onEscapeKeyDown={(event) => {
        // Once copied, the key is safe and Escape simply closes.
        if (saved) return;
        event.preventDefault();
        // A second Escape backs out of the question, never into losing the key.
        if (confirming) keepOpen();
        else setConfirming(true);
      }}
      description={
        <p className="font-medium text-amber-800 dark:text-amber-300">
          {notice ?? "Copy this key now. It will not be shown again: Keygate keeps only a hash of it."}
        </p>
      }
    >
      <div className="space-y-4">
        <div className="flex items-stretch gap-2">
          <code
            data-testid="secret-value"
            className="block min-w-0 flex-1 select-all break-all rounded-md border border-zinc-200 bg-zinc-50 px-3 py-2 font-mono text-sm text-zinc-900 dark:border-zinc-800 dark:bg-zinc-950 dark:text-zinc-100"
          >
            {secret}
          </code>
          <Button ref={copyRef} variant="secondary" onClick={copy} aria-label="Copy key to clipboard" className="h-auto">
            {copied ? "Copied" : "Copy"}
          </Button>
        </div>
        <p role="status" aria-live="polite" className="min-h-5 text-sm">
          {status && <span className={status.ok ? "text-green-700 dark:text-green-400" : "text-red-700 dark:text-red-400"}>{status.text}</span>}
        </p>
        {typeof children === "function" ? children(reportCopy) : children}
        {confirming ? (
          <div data-testid="secret-close-confirm" className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-900 dark:bg-amber-950/40">
            <p role="alert" className="text-sm font-medium text-amber-900 dark:text-amber-200">
              Close without copying? You won’t see this key again.
            </p>
            <div className="mt-3 flex flex-wrap justify-end gap-2">
              {/* Focus lands on the safe choice, so Enter after a stray Escape keeps the key. */}
              <Button variant="secondary" onClick={keepOpen} autoFocus>
                Keep it open
              </Button>
              <Button variant="danger" onClick={close}>
                Close without copying
              </Button>
            </div>
          </div>
        ) : (
          <div className="flex justify-end">
            <Button onClick={close}>I have saved this key</Button>
          </div>
        )}
      </div>
    </Dialog>
  );
}
