/**
 * Requests refused before any upstream (402, 403, 429) are not usage records
 * (nothing was sent, nothing is owed), but GET /api/usage counts them in
 * `totals.refused`. Counting them must not put database work on the gateway's
 * hot path, so each process counts them here, in memory, per account, key,
 * model, UTC day and status, and the usage writer adds the counts to the
 * rollups in its next transaction (lib/usage/writer.ts).
 *
 * What this costs: a process killed with -9 loses the counts since its last
 * write (about KEYGATE_USAGE_FLUSH_MS), and a write whose commit succeeded but
 * whose answer was lost puts them back and counts them again. Neither is
 * money: balances, spend and the ledger never read these counts.
 */

export const REFUSAL_STATUSES = [402, 403, 429] as const;
export type RefusalStatus = (typeof REFUSAL_STATUSES)[number];

export interface RefusalCount {
  userId: string;
  apiKeyId: string;
  model: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  status: RefusalStatus;
  count: number;
}

const globalForRefusals = globalThis as unknown as { __keygateRefusals?: Map<string, RefusalCount> };

function counts(): Map<string, RefusalCount> {
  return (globalForRefusals.__keygateRefusals ??= new Map());
}

export function isCountedRefusal(status: number): status is RefusalStatus {
  return status === 402 || status === 403 || status === 429;
}

/** One refused request (a Map update: no I/O). `model` is a catalogue model's name: refusals counted here all come after the model was found. */
export function countRefusal(userId: string, apiKeyId: string, model: string, status: RefusalStatus, at = Date.now()): void {
  const day = new Date(at).toISOString().slice(0, 10);
  const id = `${userId}\u0000${apiKeyId}\u0000${model}\u0000${day}\u0000${status}`;
  const c = counts().get(id);
  if (c) c.count++;
  else counts().set(id, { userId, apiKeyId, model, day, status, count: 1 });
}

/** Takes every count (the writer, before its transaction): they leave this process's memory. */
export function takeRefusals(): RefusalCount[] {
  const map = counts();
  if (!map.size) return [];
  const out = [...map.values()];
  map.clear();
  return out;
}

/** Puts counts back after a write that failed, so the next one carries them. */
export function restoreRefusals(taken: RefusalCount[]): void {
  for (const t of taken) {
    const id = `${t.userId}\u0000${t.apiKeyId}\u0000${t.model}\u0000${t.day}\u0000${t.status}`;
    const c = counts().get(id);
    if (c) c.count += t.count;
    else counts().set(id, { ...t });
  }
}

/** A key refused with `budget_exceeded`, for the budget's 100 % alert (lib/webhooks/events.ts recordBudgetExhausted). */
export interface BudgetRefusal {
  keyId: string;
  /** When it was refused: the budget period it counts in. */
  at: number;
}

const globalForBudget = globalThis as unknown as { __keygateBudgetRefusals?: Map<string, BudgetRefusal> };

function budgetRefusals(): Map<string, BudgetRefusal> {
  return (globalForBudget.__keygateBudgetRefusals ??= new Map());
}

/** One `budget_exceeded` refusal (a Map update: no I/O); a key's first since the last write is enough. */
export function countBudgetRefusal(keyId: string, at = Date.now()): void {
  if (!budgetRefusals().has(keyId)) budgetRefusals().set(keyId, { keyId, at });
}

/** Takes them (the writer, before its transaction). */
export function takeBudgetRefusals(): BudgetRefusal[] {
  const map = budgetRefusals();
  if (!map.size) return [];
  const out = [...map.values()];
  map.clear();
  return out;
}

/** Puts them back after a write that failed. */
export function restoreBudgetRefusals(taken: BudgetRefusal[]): void {
  for (const t of taken) if (!budgetRefusals().has(t.keyId)) budgetRefusals().set(t.keyId, t);
}
