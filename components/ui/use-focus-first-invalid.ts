"use client";

import { useEffect, useRef } from "react";

/**
 * After a refused submit, moves focus to the first field marked
 * aria-invalid. A keyboard or screen-reader user then hears the label and its
 * error together instead of staying on the submit button, none the wiser.
 *
 * Pass react-hook-form's `formState.submitCount`: it changes in the same
 * render that shows the errors, so this runs once the error is already in
 * the field's aria-describedby (RHF's own `shouldFocusError` focuses before
 * that render, and a screen reader would announce the field without it).
 */
export function useFocusFirstInvalid<T extends HTMLElement = HTMLFormElement>(submitCount: number) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (submitCount > 0) ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [submitCount]);
  return ref;
}
