"use client";

import { useState } from "react";
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
 * Shows a newly created key once. Closing it is deliberate (a button or
 * Escape, not a stray click on the backdrop), and afterwards the secret
 * exists nowhere in the page: the parent drops its state.
 */
export function SecretModal({ secret, title, onClose, children }: SecretModalProps) {
  const [copied, setCopied] = useState(false);
  const [copyError, setCopyError] = useState(false);

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
      setCopyError(false);
    } catch {
      setCopyError(true);
    }
  }

  function close() {
    setCopied(false);
    setCopyError(false);
    onClose();
  }

  return (
    <Dialog
      open={secret !== null}
      onClose={close}
      title={title}
      dismissOnBackdrop={false}
      testId="secret-modal"
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
            className="block flex-1 select-all break-all rounded-md bg-zinc-100 px-3 py-2 font-mono text-sm dark:bg-zinc-950"
          >
            {secret}
          </code>
          <Button variant="secondary" onClick={copy} aria-label="Copy key to clipboard">
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
        <div className="flex justify-end">
          <Button onClick={close}>I have saved this key</Button>
        </div>
      </div>
    </Dialog>
  );
}
