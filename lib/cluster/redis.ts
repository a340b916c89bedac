import { logger } from "@/lib/ops/logger";
import Redis from "ioredis";
import { env } from "@/lib/env";
import { redact } from "@/lib/log";

/**
 * The one Redis connection of this process (REDIS_URL), on globalThis like
 * every other piece of shared state (Next bundles its own copy of lib/).
 *
 * Fail closed, fast: commands are not queued while the connection is down
 * (enableOfflineQueue: false) and time out after COMMAND_TIMEOUT_MS, so a
 * request that needs Redis gets StoreUnavailableError at once and the
 * gateway answers 503 instead of admitting unchecked traffic. ioredis keeps
 * reconnecting in the background; the first command after it is back works.
 */

const COMMAND_TIMEOUT_MS = 2_000;
/** How long a command waits for the first connection (startup) before it fails. */
const CONNECT_WAIT_MS = 1_000;

export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/**
 * Whether `err` says Redis is unreachable. By name, not instanceof: Next
 * bundles its own copy of lib/, and the store on globalThis may have been
 * made by the other copy, whose class is a different object.
 */
export function isStoreUnavailable(err: unknown): boolean {
  return err instanceof Error && err.name === "StoreUnavailableError";
}

interface RedisState {
  client: Redis;
  url: string;
  /** Called when the connection comes back after it was lost: what was missed while away must be re-read. */
  onReconnect: Set<() => void>;
  wasReady: boolean;
  lost: boolean;
}

const globalForRedis = globalThis as unknown as { __keygateRedis?: RedisState };

export function redisEnabled(): boolean {
  return Boolean(env().REDIS_URL);
}

function state(): RedisState {
  const url = env().REDIS_URL;
  if (!url) throw new Error("redis() without REDIS_URL");
  const current = globalForRedis.__keygateRedis;
  if (current && current.url === url) return current;
  if (current) current.client.disconnect();
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
  });
  const s: RedisState = { client, url, onReconnect: new Set(), wasReady: false, lost: false };
  client.on("ready", () => {
    if (s.wasReady && s.lost) {
      logger().warn("Redis is reachable again");
      for (const fn of s.onReconnect) fn();
    }
    s.wasReady = true;
    s.lost = false;
  });
  client.on("error", (err: Error) => {
    if (!s.lost) logger().error(`Redis is unreachable; the gateway refuses what it cannot check until it is back: ${redact(err.message)}`);
    s.lost = true;
  });
  client.on("end", () => {
    s.lost = true;
  });
  globalForRedis.__keygateRedis = s;
  return s;
}

/** The client; commands on it throw while Redis is down (see `call`). */
export function redis(): Redis {
  return state().client;
}

/** Registers `fn` to run each time the connection comes back after a loss. */
export function onRedisReconnect(fn: () => void): void {
  state().onReconnect.add(fn);
}

/** Waits briefly for the connection (a fresh process), then runs `fn`; any failure becomes StoreUnavailableError. */
export async function call<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
  const s = state();
  // A fresh process waits briefly for its first connection; after that, a lost connection fails at once.
  if (s.client.status !== "ready" && !s.wasReady) await waitReady(s.client);
  try {
    return await fn(s.client);
  } catch (err) {
    if (err instanceof Error && /ERR|WRONGTYPE|NOSCRIPT/.test(err.message) && !/connect|closed|writeable|timed out/i.test(err.message)) throw err;
    throw new StoreUnavailableError(`Redis did not answer: ${redact(err instanceof Error ? err.message : String(err))}`);
  }
}

function waitReady(client: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.status === "ready") return resolve();
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new StoreUnavailableError("Redis is unreachable"));
    }, CONNECT_WAIT_MS);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/** /readyz: answers PING within the command timeout. */
export async function redisReady(): Promise<boolean> {
  try {
    return (await call((c) => c.ping())) === "PONG";
  } catch {
    return false;
  }
}

/** Tests and shutdown. */
export async function closeRedis(): Promise<void> {
  const s = globalForRedis.__keygateRedis;
  if (!s) return;
  globalForRedis.__keygateRedis = undefined;
  await s.client.quit().catch(() => s.client.disconnect());
}
