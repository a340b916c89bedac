"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { keyNameSchema } from "@/lib/keys/schemas";

export interface RenameDialogProps {
  keyName: string | null;
  onClose: () => void;
  onRename: (name: string) => void;
}

export function RenameDialog({ keyName, onClose, onRename }: RenameDialogProps) {
  const [error, setError] = useState<string>();
  const { ref: formRef, refused: focusFirstInvalid } = useFocusFirstInvalid();
  return (
    <Dialog open={keyName !== null} onClose={onClose} title={`Rename “${keyName ?? ""}”`}>
      <form
        ref={formRef}
        noValidate
        className="space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = keyNameSchema.safeParse(new FormData(e.currentTarget).get("name"));
          if (!parsed.success) {
            const m = parsed.error.issues[0]?.message ?? "Invalid name";
            setError(m.charAt(0).toUpperCase() + m.slice(1));
            focusFirstInvalid();
            return;
          }
          setError(undefined);
          onRename(parsed.data);
        }}
      >
        <Field label="New name" name="name" defaultValue={keyName ?? ""} maxLength={100} autoFocus error={error} />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit">Save</Button>
        </div>
      </form>
    </Dialog>
  );
}
