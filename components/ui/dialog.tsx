"use client";

import { useEffect, useLayoutEffect, useRef } from "react";
import { Dialog as RadixDialog } from "radix-ui";
import { cn } from "@/components/ui/cn";

export interface DialogProps {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: React.ReactNode;
  children: React.ReactNode;
  /** Clicking outside (the backdrop) closes unless this is false (for show-once secrets). */
  dismissOnBackdrop?: boolean;
  /**
   * Called on Escape before the dialog closes; `event.preventDefault()` keeps
   * it open (the secret modal asks first instead).
   */
  onEscapeKeyDown?: (event: KeyboardEvent) => void;
  /** A × button in the corner. Defaults to `dismissOnBackdrop`: a dialog that must be closed deliberately says how in its own words. */
  closeButton?: boolean;
  testId?: string;
  className?: string;
}

/**
 * A modal dialog on Radix: focus is trapped inside and the rest of the page
 * is hidden from assistive technology while it is open; Escape closes it; it
 * is labelled by its title and described by its description; and focus goes
 * back to the control that opened it.
 *
 * The content is a real <dialog open> element (not shown with showModal(),
 * so it is not in the top layer and toasts can sit above it): the element
 * carries the dialog role natively and `dialog[open]` finds it.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  dismissOnBackdrop = true,
  onEscapeKeyDown,
  closeButton = dismissOnBackdrop,
  testId,
  className,
}: DialogProps) {
  const opener = useRef<HTMLElement | null>(null);

  useEffect(trackFocusOutsideDialogs, []);
  // Before Radix moves focus in (its portal mounts a render later).
  useLayoutEffect(() => {
    if (open) opener.current = currentOpener();
  }, [open]);

  return (
    <RadixDialog.Root open={open} onOpenChange={(next) => !next && onClose()}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="fixed inset-0 z-50 bg-zinc-950/40 backdrop-blur-[2px] motion-safe:animate-overlay-in dark:bg-black/60" />
        <RadixDialog.Content
          asChild
          onEscapeKeyDown={onEscapeKeyDown}
          onPointerDownOutside={(event) => {
            // A toast sits above the overlay; clicking it must not dismiss the dialog.
            const target = event.target instanceof Element ? event.target : null;
            if (!dismissOnBackdrop || target?.closest("[data-sonner-toaster]")) event.preventDefault();
          }}
          onCloseAutoFocus={(event) => {
            const el = opener.current;
            opener.current = null;
            // Another dialog opened as this one closed (create → show secret):
            // focus belongs to that one; it hands it back when it closes.
            if (document.querySelector('[role="dialog"][data-state="open"]')) return event.preventDefault();
            if (el?.isConnected) {
              event.preventDefault();
              el.focus();
            }
          }}
        >
          <dialog
            open
            data-testid={testId}
            className={cn(
              "fixed left-1/2 top-1/2 z-50 m-0 max-h-[calc(100dvh-2rem)] w-[calc(100%-2rem)] max-w-lg -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-2xl shadow-zinc-950/20 outline-none motion-safe:animate-dialog-in dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100 dark:shadow-black/50",
              className,
            )}
          >
            <div className="p-6">
              <RadixDialog.Title className={cn("text-lg font-semibold leading-7 tracking-tight", closeButton && "pr-8")}>{title}</RadixDialog.Title>
              {description && (
                <RadixDialog.Description asChild>
                  <div className="mt-1.5 text-sm text-zinc-600 dark:text-zinc-400">{description}</div>
                </RadixDialog.Description>
              )}
              <div className="mt-5">{children}</div>
            </div>
            {closeButton && (
              // Last in the DOM, so Tab starts in the form, not on the ×.
              <RadixDialog.Close
                aria-label="Close dialog"
                className="absolute right-4 top-4 inline-flex size-8 items-center justify-center rounded-md text-zinc-500 transition-colors hover:bg-zinc-100 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
              >
                <svg aria-hidden viewBox="0 0 16 16" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.75" strokeLinecap="round">
                  <path d="M4 4l8 8M12 4l-8 8" />
                </svg>
              </RadixDialog.Close>
            )}
          </dialog>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

/*
 * Where focus should return when a dialog closes. Radix returns it to a
 * <Dialog.Trigger>; ours are opened by state, often by a dialog that has
 * just closed (create a key → show its secret), so remember the last control
 * focused outside any dialog or menu, and fall back to it.
 */
const OUTSIDE = '[role="dialog"], [role="alertdialog"], [role="menu"]';
let lastFocusedOutside: HTMLElement | null = null;
let tracking = false;

function trackFocusOutsideDialogs() {
  if (tracking) return;
  tracking = true;
  document.addEventListener(
    "focusin",
    (event) => {
      if (event.target instanceof HTMLElement && !event.target.closest(OUTSIDE)) lastFocusedOutside = event.target;
    },
    true,
  );
}

function currentOpener(): HTMLElement | null {
  const active = document.activeElement;
  if (active instanceof HTMLElement && active !== document.body && !active.closest(OUTSIDE)) return active;
  return lastFocusedOutside?.isConnected ? lastFocusedOutside : null;
}
