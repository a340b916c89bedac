import type Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { call, redis } from "@/lib/cluster/redis";
import { env } from "@/lib/env";
import { TooManyRequestsError } from "@/lib/http/errors";

/**
 * Named limiters (rate-limiter-flexible) for sign-in and sign-up. With
 * REDIS_URL every instance counts in Redis (`kg:rl:<name>:<key>`), so ten
 * instances do not allow ten times the guesses; without it each counts in
 * memory. They live on globalThis so every route bundle shares one counter.
 *
 * While Redis is down, each instance counts in its own memory instead (the
 * insurance limiter, same points and duration). These limits protect
 * against password guessing, not money: falling back to a per-process limit
 * beats locking everyone out of sign-in. (The gateway's limits, which guard
 * money, fail closed instead: lib/limits/redis.ts.)
 */

interface LimitSpec {
  points: number;
  durationSeconds: number;
}

interface CachedLimiter {
  limiter: RateLimiterAbstract;
  /** The Redis client it counts on (null: memory); a replaced client (closeRedis, another REDIS_URL) means a new limiter. */
  client: Redis | null;
}

const globalForLimits = globalThis as unknown as { __keygateLimiters?: Map<string, CachedLimiter> };

function limiter(name: string, spec: LimitSpec): CachedLimiter {
  const all = (globalForLimits.__keygateLimiters ??= new Map());
  const client = env().REDIS_URL ? redis() : null;
  // Keyed by the backing store too: tests switch REDIS_URL within one process.
  const cacheKey = `${name}:${client ? "redis" : "memory"}`;
  const cached = all.get(cacheKey);
  if (cached && cached.client === client) return cached;
  const memory = new RateLimiterMemory({ keyPrefix: name, points: spec.points, duration: spec.durationSeconds });
  const created: CachedLimiter = {
    client,
    limiter: client
      ? new RateLimiterRedis({
          storeClient: client,
          // ioredis, not node-redis: the library then calls it with ioredis's argument style.
          useRedisPackage: false,
          // Not ready (down, reconnecting): straight to the insurance limiter rather than waiting on a dead socket.
          rejectIfRedisNotReady: true,
          keyPrefix: `kg:rl:${name}`,
          points: spec.points,
          duration: spec.durationSeconds,
          insuranceLimiter: memory,
        })
      : memory,
  };
  all.set(cacheKey, created);
  return created;
}

/**
 * The limiter for `name`, after giving a connection that is being made (a
 * fresh process, a reconnect) a moment to become ready, so the first sign-in
 * of a process counts in Redis rather than in the insurance limiter.
 */
async function ready(name: string, spec: LimitSpec): Promise<RateLimiterAbstract> {
  const l = limiter(name, spec);
  if (l.client && (l.client.status === "wait" || l.client.status === "connecting" || l.client.status === "connect")) {
    await call(async () => undefined).catch(() => undefined);
  }
  return l.limiter;
}

export async function consume(name: string, key: string, spec: LimitSpec, message: string): Promise<void> {
  try {
    await (await ready(name, spec)).consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new TooManyRequestsError(message, err.msBeforeNext / 1000);
    throw err;
  }
}

/** Gives back a point spent by `consume`, for an attempt that turned out not to count. */
export async function reward(name: string, key: string, spec: LimitSpec): Promise<void> {
  await (await ready(name, spec)).reward(key);
}

export async function reset(name: string, key: string, spec: LimitSpec): Promise<void> {
  await (await ready(name, spec)).delete(key);
}

/**
 * The first X-Forwarded-For hop. server.ts (lib/http/node-guards.ts) rewrites
 * that header to the one real client address before anything reads it: the
 * socket's peer, or, from a proxy TRUST_PROXY lists (addresses or CIDRs), the
 * right-most hop that is not itself a trusted proxy. So a client cannot choose
 * its own address. (Under `next dev` without server.ts a client still could.)
 * The per-account login limit does not depend on it.
 */
export function clientIp(req: Request): string {
  return clientIpFromHeaders(req.headers.get("x-forwarded-for"), req.headers.get("x-real-ip"));
}

/** The same rule for callers that only have raw header values (NextAuth's authorize). */
export function clientIpFromHeaders(forwardedFor: string | null | undefined, realIp: string | null | undefined): string {
  return forwardedFor?.split(",")[0]?.trim() || realIp || "unknown";
}

/** Failed sign-ins per account, whatever the source address (password guessing). */
export const LOGIN_FAILURES_PER_EMAIL: LimitSpec = { points: 10, durationSeconds: 15 * 60 };
/** Failed sign-ins per address (spraying many accounts). */
export const LOGIN_FAILURES_PER_IP: LimitSpec = { points: 50, durationSeconds: 15 * 60 };
export function signupPerIp(): LimitSpec {
  return { points: env().KEYGATE_SIGNUPS_PER_HOUR, durationSeconds: 60 * 60 };
}
