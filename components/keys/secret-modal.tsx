"use client";

import { useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

export interface SecretModalProps {
  /** The plaintext key; null closes the modal. */
  secret: string | null;
  title: string;
  onClose: () => void;
  children?: React.ReactNode;
}

/**
 * Shows a newly created key once. Closing it is deliberate: the backdrop does
 * nothing, and Escape before the key was copied asks first, because one
 * stray key press would lose a key nobody can show again. Afterwards the
 * secret exists nowhere in the page: the parent drops its state.
 */
export function SecretModal({ secret, title, onClose, children }: SecretModalProps) {
  const [copied, setCopied] = useState(false);
  const [copyError, setCopyError] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const copyRef = useRef<HTMLButtonElement>(null);

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
      setCopyError(false);
      setConfirming(false);
    } catch {
      setCopyError(true);
    }
  }

  function keepOpen() {
    // Before the question (and its focused button) goes away, or focus would fall to the dialog itself.
    copyRef.current?.focus();
    setConfirming(false);
  }

  function close() {
    setCopied(false);
    setCopyError(false);
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
      onEscapeKeyDown={(event) => {
        // Once copied, the key is safe and Escape simply closes.
        if (copied) return;
        event.preventDefault();
        // A second Escape backs out of the question, never into losing the key.
        if (confirming) keepOpen();
        else setConfirming(true);
      }}
      description={
        <p className="font-medium text-amber-800 dark:text-amber-300">
          Copy this key now. It will not be shown again: Keygate keeps only a hash of it.
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
          {copied && <span className="text-green-700 dark:text-green-400">Copied to the clipboard.</span>}
          {copyError && (
            <span className="text-red-700 dark:text-red-400">Could not copy automatically: select the key and copy it by hand.</span>
          )}
        </p>
        {children}
        {confirming ? (
          <div
            data-testid="secret-close-confirm"
            className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-900 dark:bg-amber-950/40"
          >
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
