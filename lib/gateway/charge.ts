import type { ReportedUsage, Usage } from "@/lib/gateway/protocols";

/**
 * What a request is charged for. An upstream's usage is input, not truth: a
 * buggy or hostile upstream (a self-hosted one, a reseller) may report
 * negative, fractional or absurd counts. Each count is taken only if it is a
 * whole number of tokens the request could have used (its prompt's bound, the
 * output cap granted); otherwise Keygate's own count stands in. The cost that
 * follows is then never below zero nor above the reservation
 * (admission.ts clamps it there too), so no upstream can mint credit.
 */

export interface ChargeLimits {
  /** The prompt's token bound: what the reservation holds for input (lib/gateway/protocols/prompt.ts). */
  promptBound: number;
  /** The output cap sent upstream: what the reservation holds for output. */
  maxTokens: number;
}

export interface OwnCount {
  /** Keygate's estimate of the prompt (about four bytes a token). */
  inputTokens: number;
  /** Keygate's count of the output (a stream's deltas, or the answer's size). */
  outputTokens: number;
  /** Output tokens certainly generated (a stream's deltas, each at least one token): a reported count below this is raised to it. */
  outputSeen: number;
}

export function chargeableUsage(reported: ReportedUsage, own: OwnCount, limits: ChargeLimits): Usage {
  const plausible = (n: number | null, max: number): n is number => n !== null && Number.isSafeInteger(n) && n >= 0 && n <= max;
  const cap = Math.max(0, limits.maxTokens);
  const ownOutput = Math.min(Math.max(0, Math.ceil(own.outputTokens)), cap);
  const seen = Math.min(Math.max(0, own.outputSeen), cap);
  return {
    inputTokens: plausible(reported.inputTokens, limits.promptBound)
      ? reported.inputTokens
      : Math.min(Math.max(0, Math.ceil(own.inputTokens)), Math.max(0, limits.promptBound)),
    outputTokens: plausible(reported.outputTokens, cap) ? Math.max(reported.outputTokens, seen) : Math.max(ownOutput, seen),
  };
}

/** A settlement's charge in micro-dollars: a whole number from 0 to the reservation (0 for a figure that is not a number at all). */
export function boundedCharge(cost: number, reservedMicros: number): number {
  return Number.isFinite(cost) ? Math.min(Math.max(0, Math.ceil(cost)), reservedMicros) : 0;
}
