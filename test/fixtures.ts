import { expect } from "vitest";
import type { UserActor } from "@/lib/auth/actor";
import { getDb, prisma } from "@/lib/db";
import { newKey } from "@/lib/keys/format";
import { ADMIN_TOKEN, call, ORIGIN, type ApiResponse, type TestUser } from "./api";

/**
 * Small helpers shared by the API suites. They go through the real routes,
 * except `dumpTable`, which reads the database as an attacker with a backup
 * would.
 */

/** A date the API accepts as "in the future" for decades (the example dates in the CheapestInference and ModelSwitch documentation have passed). */
export const FUTURE = "2099-12-31T00:00:00Z";
export const FUTURE_ISO = "2099-12-31T00:00:00.000Z";

/** The actor of a test that calls a service directly, as if the user sent a session token. */
export function testActor(userId: string): UserActor {
  return { userId, via: "session", session: "session-token", clientAddress: "127.0.0.1", userAgent: "vitest", requestId: null };
}

/** Headers of a browser request from the dashboard: the session cookie, sent from our own origin. */
export function sameOriginCookie(user: TestUser): Record<string, string> {
  return { cookie: `next-auth.session-token=${user.token}`, origin: ORIGIN, "sec-fetch-site": "same-origin" };
}

/** Only the session cookie: what a foreign page's forged request would carry. */
export function cookieOnly(user: TestUser): Record<string, string> {
  return { cookie: `next-auth.session-token=${user.token}` };
}

export interface CreatedKey {
  id: string;
  apiKey: string;
  keyPrefix: string;
}

export async function createCreditKey(user: TestUser, body: Record<string, unknown> = {}): Promise<CreatedKey> {
  const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "test-key", ...body } });
  expect(res.status, res.text).toBe(201);
  const { id, apiKey, keyPrefix } = res.json.data;
  return { id, apiKey, keyPrefix };
}

export async function createManagementKey(user: TestUser, body: Record<string, unknown> = {}): Promise<CreatedKey> {
  const res = await call("POST", "/api/keys/management", { token: user.token, body: { name: "test-mk", ...body } });
  expect(res.status, res.text).toBe(201);
  const { id, apiKey, keyPrefix } = res.json.data;
  return { id, apiKey, keyPrefix };
}

/** Everything a user can see about their account, to prove a refused request changed nothing. */
export async function accountSnapshot(user: TestUser) {
  const [keys, management, billing] = await Promise.all([
    call("GET", "/api/keys", { token: user.token }),
    call("GET", "/api/keys/management", { token: user.token }),
    call("GET", "/api/billing/status", { token: user.token }),
  ]);
  for (const r of [keys, management, billing]) expect(r.status, r.text).toBe(200);
  return { keys: keys.json.data, management: management.json.data, billing: billing.json.data };
}

export async function listKeys(user: TestUser, token = user.token): Promise<Array<Record<string, unknown>>> {
  const res = await call("GET", "/api/keys", { token });
  expect(res.status, res.text).toBe(200);
  return res.json.data;
}

/** Every row of a table, as JSON text (BigInt as a string). */
/** A pool created through the admin API: by default the demo model, four 6-hour blocks of 5 seats, $1 per block. */
export async function createPool(body: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/admin/pools", {
    token: ADMIN_TOKEN,
    body: { name: "Test pool", models: ["keygate/echo"], blockHours: 6, capacity: 5, pricePerBlockUsd: 1, ...body },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.data as { id: string; name: string; capacity: number; blocks: Array<{ index: number; remaining: number }> };
}

/** Subscribes through the API, expecting 201; answers the subscription. */
export async function subscribe(user: TestUser, poolId: string, blocks: number[], token = user.token) {
  const res = await call("POST", `/api/pools/${poolId}/subscribe`, { token, body: { blocks } });
  expect(res.status, res.text).toBe(201);
  return res.json.data as {
    id: string;
    poolId: string;
    blocks: number[];
    status: string;
    periodStart: string;
    periodEnd: string;
    autoRenew: boolean;
    keyCount: number;
    endedReason: string | null;
  };
}

export async function dumpTable(
  table: "ApiKey" | "ManagementKey" | "User" | "LedgerEntry" | "UsageRecord" | "Upstream" | "ModelRoute" | "Model",
): Promise<string> {
  const rows = await (await getDb()).session((s) => s.query(`SELECT * FROM "${table}"`));
  return JSON.stringify(rows, (_key, value) => (typeof value === "bigint" ? value.toString() : value));
}

/** Every row of every table in the database's public schema, by table: what a full backup holds. */
export async function dumpAllTables(): Promise<Record<string, string>> {
  return (await getDb()).session(async (s) => {
    const tables = await s.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      const rows = await s.query(`SELECT * FROM "${name}"`);
      out[name] = JSON.stringify(rows, (_key, value) => (typeof value === "bigint" ? value.toString() : value));
    }
    return out;
  });
}

/** Expects a 400 validation_error whose message or details name this field. */
export function expectFieldError(res: ApiResponse, field: string) {
  expect(res.status, res.text).toBe(400);
  expect(res.json?.success).toBe(false);
  expect(res.json.error.code).toBe("validation_error");
  const named =
    res.json.error.message.includes(field) ||
    (res.json.error.details ?? []).some((d: { path?: string; message: string }) => d.path === field || d.message.includes(field));
  expect(named, `error should name '${field}': ${res.text}`).toBe(true);
}

/**
 * Writes a pool and an active subscription to it straight to the database,
 * without charging anyone: for tests about what surrounds a subscription
 * (key lists, key updates), not about buying one.
 */
export async function insertSubscription(user: TestUser, opts: { blocks?: number[]; periodEnd?: Date; status?: "active" | "expired" } = {}) {
  const db = await prisma();
  const pool = await db.pool.create({
    data: { name: "Fixture pool", models: ["keygate/echo"], blockHours: 6, capacity: 5, pricePerBlockMicros: BigInt(1_000_000) },
  });
  return db.subscription.create({
    data: {
      userId: user.id,
      poolId: pool.id,
      status: opts.status ?? "active",
      periodStart: new Date(),
      periodEnd: opts.periodEnd ?? new Date(Date.now() + 30 * 24 * 3600_000),
      blocks: { create: (opts.blocks ?? [0, 1, 2, 3]).map((blockIndex) => ({ blockIndex })) },
    },
  });
}

/**
 * A subscription key on a fresh subscription (see insertSubscription), as the
 * pool flow makes them. Created a second in the future so it lists first.
 */
export async function insertSubscriptionKey(user: TestUser, name = "prod-key") {
  const subscription = await insertSubscription(user);
  const material = newKey("subscription");
  const db = await prisma();
  return db.apiKey.create({
    data: {
      userId: user.id,
      name,
      keyType: "subscription",
      keyHash: material.hash,
      keyPrefix: material.prefix,
      subscriptionId: subscription.id,
      rpmLimit: null,
      createdAt: new Date(Date.now() + 1000),
    },
  });
}
