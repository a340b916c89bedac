"use client";

import { Toaster as Sonner, toast } from "sonner";

export interface ToastApi {
  success(message: string): void;
  error(message: string): void;
}

/**
 * Sonner's global toast store behind the hook the features already call.
 * Errors stay longer: they usually ask the reader to do something.
 */
const api: ToastApi = {
  success: (message) => void toast.success(message, { testId: "toast-success", duration: 4_000 }),
  error: (message) => void toast.error(message, { testId: "toast-error", duration: 8_000 }),
};

export function useToast(): ToastApi {
  return api;
}

/**
 * The one place toasts render. Sonner's own z-index puts them above the
 * dialog overlay (z-50), and globals.css keeps them clickable while a modal
 * makes the rest of the page inert. `theme="system"` follows the same
 * prefers-color-scheme as Tailwind's `dark:`.
 */
export function Toaster() {
  return <Sonner theme="system" position="bottom-right" closeButton toastOptions={{ closeButtonAriaLabel: "Dismiss notification" }} />;
}
