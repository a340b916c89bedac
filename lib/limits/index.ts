/**
 * The limits store (see store.ts for what it keeps and promises): the one
 * store of this process, and the names the rest of lib/ imports.
 *   store.ts   the LimitsStore interface, its types and pure helpers
 *   memory.ts  one process: synchronous steps in memory
 *   redis.ts   several instances: one Lua script an operation (scripts/*.lua)
 */

import { redisEnabled } from "@/lib/cluster/redis";
import { MemoryLimitsStore } from "@/lib/limits/memory";
import { RedisLimitsStore } from "@/lib/limits/redis";
import type { LimitsStore } from "@/lib/limits/store";

export { MemoryLimitsStore } from "@/lib/limits/memory";
export { costMicros } from "@/lib/limits/store";
export type { Admission, AdmitResult, Cooling, LimitsStore, RateState, Refused } from "@/lib/limits/store";

const globalForLimits = globalThis as unknown as { __keygateLimits?: LimitsStore };

/**
 * The process's one store, shared by the gateway and Next's route handlers
 * (globalThis: Next bundles its own copy of lib/): Redis with REDIS_URL,
 * memory without. Its sweep runs every 5 s for the life of the process.
 */
export function limits(): LimitsStore {
  if (!globalForLimits.__keygateLimits) {
    const store: LimitsStore = redisEnabled() ? new RedisLimitsStore() : new MemoryLimitsStore();
    globalForLimits.__keygateLimits = store;
    setInterval(() => {
      store.sweep(Date.now()).catch(() => undefined);
    }, 5_000).unref();
  }
  return globalForLimits.__keygateLimits;
}

/**
 * A committed ledger change moves the balance the gateway decides with, from
 * the very next request, on every instance. Awaited by the writer before it
 * answers; in Redis mode a failure is retried in the background (see
 * RedisLimitsStore.credit) rather than failing a write that has committed.
 */
export async function accountBalanceChanged(userId: string, deltaMicros: bigint): Promise<void> {
  await limits().credit(userId, Number(deltaMicros));
}
