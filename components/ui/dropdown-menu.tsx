"use client";

import { Fragment, useRef } from "react";
import { DropdownMenu as Menu } from "radix-ui";
import { cn } from "@/components/ui/cn";

/**
 * Radix's DropdownMenu, styled: arrow keys move between items, typing a
 * letter jumps to an item, Escape closes and focus returns to the trigger.
 */
export const DropdownMenu = Menu.Root;
export const DropdownMenuTrigger = Menu.Trigger;

export function DropdownMenuContent({ className, sideOffset = 4, align = "end", ...props }: React.ComponentProps<typeof Menu.Content>) {
  return (
    <Menu.Portal>
      <Menu.Content
        sideOffset={sideOffset}
        align={align}
        className={cn(
          "z-50 min-w-[10rem] overflow-hidden rounded-lg border border-zinc-200 bg-white p-1 text-sm text-zinc-900 shadow-lg",
          "dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100",
          className,
        )}
        {...props}
      />
    </Menu.Portal>
  );
}

export interface DropdownMenuItemProps extends React.ComponentProps<typeof Menu.Item> {
  /** For irreversible actions such as Delete. */
  destructive?: boolean;
}

export function DropdownMenuItem({ className, destructive, ...props }: DropdownMenuItemProps) {
  return (
    <Menu.Item
      className={cn(
        "flex cursor-default select-none items-center gap-2 rounded-md px-2.5 py-1.5 outline-none",
        "data-[highlighted]:bg-zinc-100 data-[disabled]:pointer-events-none data-[disabled]:opacity-50 dark:data-[highlighted]:bg-zinc-800",
        destructive && "text-red-700 data-[highlighted]:bg-red-50 dark:text-red-400 dark:data-[highlighted]:bg-red-950/60",
        className,
      )}
      {...props}
    />
  );
}

export function DropdownMenuSeparator({ className, ...props }: React.ComponentProps<typeof Menu.Separator>) {
  return <Menu.Separator className={cn("-mx-1 my-1 h-px bg-zinc-200 dark:bg-zinc-800", className)} {...props} />;
}

export interface ActionMenuItem {
  label: string;
  onSelect: () => void;
  destructive?: boolean;
}

export interface ActionMenuProps {
  /** The trigger's accessible name, e.g. "Actions for ci-runner". */
  label: string;
  items: ActionMenuItem[];
  className?: string;
}

/**
 * A row's "⋯" menu. An item's action runs only after the menu has closed and
 * focus is back on the trigger: an action that opens a modal <dialog> then
 * returns focus to the trigger when the dialog closes, instead of to a menu
 * item that no longer exists (which would drop a keyboard user at the top of
 * the page).
 */
export function ActionMenu({ label, items, className }: ActionMenuProps) {
  const pending = useRef<(() => void) | null>(null);
  return (
    // Not modal: a modal menu hides the rest of the page with aria-hidden while
    // it is open, which axe reports (aria-hidden content that stays focusable).
    // Focus still moves into the menu, and a click outside still closes it.
    <DropdownMenu modal={false}>
      <DropdownMenuTrigger
        aria-label={label}
        className={cn(
          "inline-flex h-8 w-8 items-center justify-center rounded-md text-zinc-500 transition-colors hover:bg-zinc-100 hover:text-zinc-900",
          "focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600",
          "data-[state=open]:bg-zinc-100 data-[state=open]:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100",
          "dark:data-[state=open]:bg-zinc-800 dark:data-[state=open]:text-zinc-100",
          className,
        )}
      >
        <svg aria-hidden viewBox="0 0 16 16" className="h-4 w-4" fill="currentColor">
          <circle cx="3" cy="8" r="1.5" />
          <circle cx="8" cy="8" r="1.5" />
          <circle cx="13" cy="8" r="1.5" />
        </svg>
      </DropdownMenuTrigger>
      <DropdownMenuContent
        onCloseAutoFocus={() => {
          const run = pending.current;
          pending.current = null;
          // Radix focuses the trigger right after this handler; the action runs after that.
          if (run) setTimeout(run, 0);
        }}
      >
        {items.map((item, i) => (
          <Fragment key={item.label}>
            {item.destructive && i > 0 && <DropdownMenuSeparator />}
            <DropdownMenuItem destructive={item.destructive} onSelect={() => (pending.current = item.onSelect)}>
              {item.label}
            </DropdownMenuItem>
          </Fragment>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
