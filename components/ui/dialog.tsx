"use client";

import { useId, useLayoutEffect, useRef } from "react";

export interface DialogProps {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: React.ReactNode;
  children: React.ReactNode;
  /** Clicking the backdrop closes unless this is set (for show-once secrets). */
  dismissOnBackdrop?: boolean;
  testId?: string;
}

/**
 * The native <dialog> opened with showModal(): the browser makes the rest of
 * the page inert (focus stays inside), closes it on Escape, and returns focus
 * to the opener when it closes.
 */
export function Dialog({ open, onClose, title, description, children, dismissOnBackdrop = true, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  // A layout effect, so the element's open state matches `open` from the
  // commit on, before any queued event (see onClose below) can run.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      data-testid={testId}
      // The browser can close the dialog on its own (Chromium skips `cancel`
      // for a second Escape without user activation in between). The `close`
      // event arrives a task later, though, and by then a quick Escape-then-Enter
      // may have reopened it: only a dialog that is still closed reports it.
      onClose={() => open && !ref.current?.open && onClose()}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (dismissOnBackdrop && e.target === ref.current) onClose();
      }}
      className="m-auto w-[calc(100%-2rem)] max-w-lg rounded-xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-zinc-950/50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100"
    >
      {open && (
        <div className="p-6">
          <h2 id={titleId} className="text-lg font-semibold">
            {title}
          </h2>
          {description && (
            <div id={descriptionId} className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
              {description}
            </div>
          )}
          <div className="mt-4">{children}</div>
        </div>
      )}
    </dialog>
  );
}
