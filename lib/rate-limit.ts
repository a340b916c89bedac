import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { env } from "@/lib/env";
import { TooManyRequestsError } from "@/lib/http/errors";

/**
 * Named in-process limiters (rate-limiter-flexible). They live on globalThis
 * so every route bundle shares one counter.
 */

interface LimitSpec {
  points: number;
  durationSeconds: number;
}

const globalForLimits = globalThis as unknown as { __keygateLimiters?: Map<string, RateLimiterMemory> };

function limiter(name: string, spec: LimitSpec): RateLimiterMemory {
  const all = (globalForLimits.__keygateLimiters ??= new Map());
  let l = all.get(name);
  if (!l) {
    l = new RateLimiterMemory({ keyPrefix: name, points: spec.points, duration: spec.durationSeconds });
    all.set(name, l);
  }
  return l;
}

export async function consume(name: string, key: string, spec: LimitSpec, message: string): Promise<void> {
  try {
    await limiter(name, spec).consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new TooManyRequestsError(message, err.msBeforeNext / 1000);
    throw err;
  }
}

/** Gives back a point spent by `consume`, for an attempt that turned out not to count. */
export async function reward(name: string, key: string, spec: LimitSpec): Promise<void> {
  await limiter(name, spec).reward(key);
}

export async function reset(name: string, key: string, spec: LimitSpec): Promise<void> {
  await limiter(name, spec).delete(key);
}

/**
 * The first X-Forwarded-For hop. server.ts sets that header to the socket's
 * peer address unless KEYGATE_TRUST_PROXY says a proxy in front sets it, so a
 * client cannot choose its own address. (Under `next dev` without server.ts
 * a client still could.) The per-account login limit does not depend on it.
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
