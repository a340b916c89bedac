import { clsx, type ClassValue } from "clsx";
import { twMerge } from "tailwind-merge";

/**
 * Joins class names and lets a later Tailwind class win over an earlier one
 * of the same kind: `cn("text-zinc-700", "text-red-700")` is "text-red-700".
 * Plain string joining leaves both, and then CSS source order, not the
 * caller, decides which one shows.
 */
export function cn(...inputs: ClassValue[]): string {
  return twMerge(clsx(inputs));
}
