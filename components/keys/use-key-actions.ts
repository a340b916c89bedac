"use client";

import { useState } from "react";
import type { UseMutationResult } from "@tanstack/react-query";
import type { ActionMenuItem } from "@/components/ui/dropdown-menu";
import type { DeleteKeyDialogProps, KeyLike } from "@/components/keys/key-list";
import type { RotateKeyVars } from "@/components/keys/use-keys";
import type { RotatedKey } from "@/lib/keys/schemas";

/**
 * The state both key screens keep around a key's life: create it and show
 * its secret once, edit it, pause or resume it, delete it. The dialogs and
 * rows they feed are in key-list.tsx.
 */

/**
 * Create, then show the secret once: the create dialog closes and the secret
 * modal opens on success. The secret lives only in this state (and the
 * mutation's result, which the create hooks keep for no time) until the
 * modal closes. A closed dialog forgets its last refusal.
 */
export function useCreateKeyFlow<Body, Ctx>(create: UseMutationResult<{ apiKey: string }, Error, Body, Ctx>) {
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const close = () => {
    setCreating(false);
    create.reset();
  };
  return {
    start: () => setCreating(true),
    /** For the screen's create dialog. */
    dialog: {
      open: creating,
      pending: create.isPending,
      error: create.error?.message,
      onClose: close,
      onCreate: (body: Body) =>
        create.mutate(body, {
          onSuccess: (key) => {
            close();
            setSecret(key.apiKey);
          },
        }),
    },
    /** For the SecretModal. */
    secretModal: { secret, onClose: () => setSecret(null) },
  };
}

/**
 * An edit (or rename) dialog over one key: open on a key, close on success;
 * a closed dialog forgets its last refusal, so the next opening starts clean.
 */
export function useEditKeyDialog<K extends { id: string }, Patch, Ctx>(update: UseMutationResult<K, Error, { id: string; patch: Patch }, Ctx>) {
  const [editing, setEditing] = useState<K | null>(null);
  const close = () => {
    setEditing(null);
    update.reset();
  };
  return {
    editing,
    start: (k: K) => setEditing(k),
    pending: update.isPending,
    error: update.error?.message,
    onClose: close,
    save: (patch: Patch) => {
      if (editing) update.mutate({ id: editing.id, patch }, { onSuccess: close });
    },
  };
}

/** A rotation's outcome while its show-once modal is open: the key, its name then, the new secret and the old one's end. */
export interface RotatedSecret<K extends KeyLike> {
  key: K;
  name: string;
  secret: string;
  previousKeyExpiresAt: string | null;
}

/**
 * Rotate, then show the new secret once: the rotate dialog asks for the grace
 * period, then closes and the secret modal opens on success. Each opening of
 * the dialog has its own Idempotency-Key, so submitting twice, or a retry of
 * a request whose answer was lost, gets the same new secret, never a third.
 */
export function useRotateKeyFlow<K extends KeyLike, Ctx>(rotate: UseMutationResult<RotatedKey, Error, RotateKeyVars, Ctx>) {
  const [target, setTarget] = useState<K | null>(null);
  const [idempotencyKey, setIdempotencyKey] = useState("");
  const [rotated, setRotated] = useState<RotatedSecret<K> | null>(null);
  const close = () => {
    setTarget(null);
    rotate.reset();
  };
  return {
    start: (k: K) => {
      setIdempotencyKey(newIdempotencyKey());
      setTarget(k);
    },
    /** For the RotateKeyDialog. */
    dialog: {
      target,
      pending: rotate.isPending,
      error: rotate.error?.message,
      onClose: close,
      onRotate: (gracePeriodSeconds: number) => {
        if (!target) return;
        const key = target;
        const name = target.name;
        rotate.mutate(
          { key: target, gracePeriodSeconds, idempotencyKey },
          {
            onSuccess: (res) => {
              close();
              setRotated({ key, name, secret: res.apiKey, previousKeyExpiresAt: res.previousKeyExpiresAt });
            },
          },
        );
      },
    },
    rotated,
    /** For the SecretModal. */
    secretModal: { secret: rotated?.secret ?? null, onClose: () => setRotated(null) },
  };
}

/** 128 random bits in hex: getRandomValues, unlike randomUUID, also works on a plain-HTTP address that is not localhost. */
function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface KeyActionsOptions<K extends KeyLike> {
  /** The screen's own first action (Edit, Rename), given the row's key. */
  first: { label: string; onSelect: (k: K) => void };
  /** Opens the rotate dialog for the row's key. */
  rotate?: (k: K) => void;
  toggle: { mutate: (vars: { id: string; patch: { isActive: boolean } }) => void };
  remove: DeleteKeyDialogProps<K>["remove"];
}

/**
 * A key's actions, the same in the table's menu and on a phone's card: the
 * screen's first action, Pause/Resume, Rotate, and Delete, which asks first.
 */
export function useKeyActions<K extends KeyLike>({ first, rotate, toggle, remove }: KeyActionsOptions<K>) {
  const [deleting, setDeleting] = useState<K | null>(null);
  const deleteDialog: Pick<DeleteKeyDialogProps<K>, "target" | "remove" | "onClose"> = { target: deleting, remove, onClose: () => setDeleting(null) };
  return {
    items: (k: K): ActionMenuItem[] => [
      { label: first.label, onSelect: () => first.onSelect(k) },
      { label: k.isActive ? "Pause" : "Resume", onSelect: () => toggle.mutate({ id: k.id, patch: { isActive: !k.isActive } }) },
      ...(rotate ? [{ label: "Rotate", onSelect: () => rotate(k) }] : []),
      { label: "Delete", onSelect: () => setDeleting(k), destructive: true },
    ],
    /** For the DeleteKeyDialog. */
    deleteDialog,
  };
}
