"use client";

import { useState } from "react";
import { Button, type ButtonProps } from "@/components/ui/button";

export interface CopyButtonProps extends Omit<ButtonProps, "onClick" | "children"> {
  text: string;
  /** The accessible name, e.g. "Copy curl command". */
  label: string;
  /** Announced to screen readers after a successful copy. */
  copiedMessage: string;
}

/** Copies `text`; the button reads "Copied" afterwards and a live region says so. */
export function CopyButton({ text, label, copiedMessage, ...props }: CopyButtonProps) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <>
      <Button
        variant="secondary"
        size="sm"
        aria-label={label}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setState("copied");
          } catch {
            setState("failed");
          }
        }}
        {...props}
      >
        {state === "copied" ? "Copied" : "Copy"}
      </Button>
      <span role="status" className="sr-only">
        {state === "copied" ? copiedMessage : state === "failed" ? "Could not copy automatically: select the text and copy it by hand." : ""}
      </span>
    </>
  );
}
