import type { Admission } from "@/lib/limits/store";

/** An ordinary admission's numbers, shared by the memory and the Redis store's tests: no limits, a 100-token prompt and max_tokens at $1/M each way. */
export const ADMISSION_DEFAULTS: Omit<Admission, "revision" | "requestId" | "userId" | "keyId" | "now"> = {
  ttlMs: 120_000,
  rpmLimit: null,
  tpmLimit: null,
  maxBudgetMicros: null,
  promptTokens: 100,
  promptTokensEstimate: 100,
  inputMicrosPerMTok: 1_000_000,
  outputMicrosPerMTok: 1_000_000,
  requestedMaxTokens: 100,
  modelMaxTokens: 1000,
};
