"use client";

import { useEffect, useRef, useState } from "react";

/**
 * After a refused submit, moves focus to the first field marked
 * aria-invalid. A keyboard or screen-reader user then hears the label and its
 * error together instead of staying on the submit button, none the wiser
 * (the same behaviour as the sign-in form). Runs after render, so the error
 * is already in the field's aria-describedby.
 */
export function useFocusFirstInvalid<T extends HTMLElement = HTMLFormElement>() {
  const ref = useRef<T>(null);
  // Bumped on every refused submit, so the effect runs even when the errors
  // are the same as last time.
  const [refusals, setRefusals] = useState(0);
  useEffect(() => {
    if (refusals > 0) ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);
  return { ref, refused: () => setRefusals((n) => n + 1) };
}
