import { cva, type VariantProps } from "class-variance-authority";
import { cn } from "@/components/ui/cn";

/**
 * White text keeps 4.5:1 on every background, hovered too (so hover darkens).
 * The variants set colours only through classes a caller can override with
 * `className` (cn() merges them), and no hover text colour, so a ghost button
 * given `text-red-700` stays red when hovered.
 */
export const buttonVariants = cva(
  "inline-flex shrink-0 items-center justify-center gap-1.5 whitespace-nowrap rounded-md font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed disabled:opacity-60",
  {
    variants: {
      variant: {
        primary: "bg-indigo-600 text-white shadow-sm hover:bg-indigo-700 focus-visible:outline-indigo-600 dark:focus-visible:outline-indigo-400",
        secondary:
          "border border-zinc-300 bg-white text-zinc-900 shadow-sm hover:bg-zinc-50 focus-visible:outline-indigo-600 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800 dark:focus-visible:outline-indigo-400",
        danger: "bg-red-600 text-white shadow-sm hover:bg-red-700 focus-visible:outline-red-600 dark:focus-visible:outline-red-400",
        ghost:
          "text-zinc-700 hover:bg-zinc-100 focus-visible:outline-indigo-600 dark:text-zinc-300 dark:hover:bg-zinc-800 dark:focus-visible:outline-indigo-400",
        /** A text-only destructive action, e.g. Delete in a table row. */
        "ghost-danger":
          "text-red-700 hover:bg-red-50 focus-visible:outline-red-600 dark:text-red-400 dark:hover:bg-red-950/60 dark:focus-visible:outline-red-400",
      },
      size: {
        sm: "h-8 px-2.5 text-xs",
        md: "h-9 px-3.5 text-sm",
      },
    },
    defaultVariants: { variant: "primary", size: "md" },
  },
);

export type ButtonVariant = NonNullable<VariantProps<typeof buttonVariants>["variant"]>;

export interface ButtonProps extends React.ComponentProps<"button"> {
  variant?: ButtonVariant;
  size?: "sm" | "md";
}

export function Button({ variant, size, className, type = "button", ...props }: ButtonProps) {
  return <button type={type} className={cn(buttonVariants({ variant, size }), className)} {...props} />;
}
