"use client";

import Link from "next/link";
import type { UseMutationResult } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Card, CardFact, Cell, StatusBadge, type RowStatus } from "@/components/ui/data-table";
import { ActionMenu, type ActionMenuItem } from "@/components/ui/dropdown-menu";
import { RelativeTime } from "@/components/ui/relative-time";

/**
 * What the two key screens (API keys and billing keys) are both built from:
 * a row's name, status and actions, its card on a phone, and the dialogs
 * around a key's life (create, then show the secret once; edit; delete).
 * Each screen keeps what is its own: its columns, its forms, and what its
 * secret modal shows beside the key.
 */

/** The fields every key view has, whichever kind of key it is. */
export interface KeyLike {
  id: string;
  name: string;
  keyPrefix: string;
  isActive: boolean;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

/** Expired wins over paused: an expired key stays refused whatever its switch says. */
export function keyStatus(k: { isActive: boolean; expiresAt: string | null }, now = Date.now()): RowStatus {
  if (k.expiresAt !== null && new Date(k.expiresAt).getTime() <= now) return "expired";
  return k.isActive ? "active" : "paused";
}

/** The first cell: the name, and the ID with its copy button (API calls take it). */
export function KeyNameCell({ k, className, href }: { k: KeyLike; className?: string; href?: string }) {
  return (
    <Cell className={className}>
      <p className="truncate font-medium leading-5" title={k.name}>
        <KeyName name={k.name} href={href} />
      </p>
      <CopyableId id={k.id} name={k.name} />
    </Cell>
  );
}

/** A key's name, a link to its detail page where the screen has one. */
function KeyName({ name, href }: { name: string; href?: string }) {
  if (!href) return name;
  return (
    <Link href={href} className="underline-offset-4 hover:underline focus-visible:rounded-sm focus-visible:outline-2 focus-visible:outline-indigo-600">
      {name}
    </Link>
  );
}

/** The status badge, and when the key expires (or expired) below it. */
export function KeyStatusCell({ k }: { k: KeyLike }) {
  const status = keyStatus(k);
  return (
    <Cell>
      <StatusBadge status={status} />
      {k.expiresAt && (
        <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">
          {status === "expired" ? "Expired " : "Expires "}
          <RelativeTime iso={k.expiresAt} />
        </span>
      )}
    </Cell>
  );
}

/** The cells a key row ends with: last used (the screen may say it its own way), created, and the action menu. */
export function KeyRowTail({ k, items, lastUsed }: { k: KeyLike; items: ActionMenuItem[]; lastUsed?: React.ReactNode }) {
  return (
    <>
      <Cell className="text-zinc-600 dark:text-zinc-400" data-testid="key-last-used">
        {lastUsed ?? <RelativeTime iso={k.lastUsedAt} />}
      </Cell>
      <Cell className="text-zinc-600 dark:text-zinc-400">
        <RelativeTime iso={k.createdAt} />
      </Cell>
      <Cell className="py-0 text-right">
        <ActionMenu label={`Actions for ${k.name}`} items={items} />
      </Cell>
    </>
  );
}

/** The facts a key card ends with: last used, and when it expires (or was created). */
export function KeyTimeFacts({ k, lastUsed }: { k: KeyLike; lastUsed?: React.ReactNode }) {
  return (
    <>
      <CardFact term="Last used">{lastUsed ?? <RelativeTime iso={k.lastUsedAt} />}</CardFact>
      <CardFact term={k.expiresAt ? "Expires" : "Created"}>
        <RelativeTime iso={k.expiresAt ?? k.createdAt} />
      </CardFact>
    </>
  );
}

export interface KeyCardProps {
  k: KeyLike;
  testId: string;
  /** Below the name: the key's prefix, and whatever else the screen says there. */
  subtitle: React.ReactNode;
  /** The card's facts (`CardFact`s). */
  children: React.ReactNode;
  items: ActionMenuItem[];
  /** The key's detail page, linked from its name. */
  href?: string;
}

/** A key on a phone: the same data as its row, with its actions as buttons in view. */
export function KeyCard({ k, testId, subtitle, children, items, href }: KeyCardProps) {
  return (
    <Card data-testid={testId} data-key-name={k.name}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="truncate font-medium">
            <KeyName name={k.name} href={href} />
          </p>
          {subtitle}
        </div>
        <StatusBadge status={keyStatus(k)} />
      </div>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1.5 text-xs">{children}</dl>
      <CopyableId id={k.id} name={k.name} />
      <div className="flex gap-2 pt-1">
        {items.map((item) => (
          <Button
            key={item.label}
            size="sm"
            variant={item.destructive ? "ghost-danger" : "secondary"}
            onClick={item.onSelect}
            aria-label={`${item.label} ${k.name}`}
            className={cn(item.destructive && "ml-auto")}
          >
            {item.label}
          </Button>
        ))}
      </div>
    </Card>
  );
}

/** A row's ID: monospace, truncated, the full value in `title`, with a copy button (API calls take it). */
export function CopyableId({ id, name }: { id: string; name: string }) {
  return (
    <div className="flex h-5 min-w-0 items-center gap-1 text-xs text-zinc-500 dark:text-zinc-400">
      <code data-testid="key-id" title={id} className="min-w-0 max-w-[8rem] truncate font-mono">
        {id}
      </code>
      <CopyButton
        text={id}
        label={`Copy ID of ${name}`}
        copiedMessage="ID copied."
        variant="ghost"
        size="sm"
        className="h-5 px-1.5 text-[11px] font-normal text-zinc-600 dark:text-zinc-400"
      />
    </div>
  );
}

export interface DeleteKeyDialogProps<K extends KeyLike> {
  /** The key to delete; null when the dialog is closed. */
  target: K | null;
  remove: UseMutationResult<unknown, Error, { id: string; name: string }, unknown>;
  onClose: () => void;
  /** What stops working, and what to do instead. */
  description: string;
  confirmLabel: string;
}

/** "Delete “name” (prefix…)?": closes when the delete settles either way (a refusal is a toast). */
export function DeleteKeyDialog<K extends KeyLike>({ target, remove, onClose, description, confirmLabel }: DeleteKeyDialogProps<K>) {
  return (
    <ConfirmDialog
      open={target !== null}
      title={target ? `Delete “${target.name}” (${target.keyPrefix}…)?` : ""}
      description={description}
      confirmLabel={confirmLabel}
      pending={remove.isPending}
      onClose={onClose}
      onConfirm={() => {
        if (target) remove.mutate(target, { onSettled: onClose });
      }}
    />
  );
}
