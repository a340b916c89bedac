import fs from "node:fs";
import path from "node:path";
import { Prisma, PrismaClient } from "@/generated/prisma/client.ts";
import { dataDir, env } from "@/lib/env";
import { logger } from "@/lib/ops/logger";
import type { PGlite } from "@electric-sql/pglite";

/**
 * The one Prisma client. It is created on first use, never at import time:
 * `next build` imports route modules, and PGlite must not open its data
 * directory then. The handle lives on globalThis in every mode, not only in
 * development: Next may instantiate this module once per route bundle, and two
 * PGlite instances on one directory would corrupt it.
 */

export type DatabaseKind = "embedded" | "postgres";

/** Raw SQL on one connection (migrations, advisory locks, test dumps). */
export interface SqlSession {
  /** Runs a multi-statement SQL script. */
  exec(sql: string): Promise<void>;
  /** Runs one parameterised query. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

interface DbHandle {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /** Runs fn on one dedicated connection, so session state (locks, BEGIN) holds. */
  session<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const globalForDb = globalThis as unknown as { __keygateDb?: Promise<DbHandle> | DbHandle };

async function openEmbedded(): Promise<DbHandle> {
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const dir = env().KEYGATE_DATA_DIR === "memory" ? undefined : path.join(dataDir(), "pglite");
  if (dir) fs.mkdirSync(path.dirname(dir), { recursive: true });
  // On its own thread by default (lib/pglite-thread.ts): a usage batch's inserts must not stop the gateway's event loop.
  const pglite =
    env().KEYGATE_PGLITE_THREAD === "main"
      ? new (await import("@electric-sql/pglite")).PGlite(dir)
      : new (await import("@/lib/pglite-thread")).PGliteThread(dir);
  await pglite.waitReady;
  // The thread's proxy offers the part of PGlite's interface the adapter uses (lib/pglite-thread.ts).
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite as PGlite) });
  return {
    kind: "embedded",
    prisma,
    session: (fn) =>
      fn({
        exec: async (sql) => {
          await pglite.exec(sql);
        },
        query: async <T>(sql: string, params: unknown[] = []) => (await pglite.query<T>(sql, params)).rows,
      }),
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

async function openPostgres(url: string): Promise<DbHandle> {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const pg = await import("pg");
  const pool = new pg.default.Pool({ connectionString: url, max: 10 });
  // A dropped connection must not crash the process; pg reconnects on next use.
  pool.on("error", (err) => logger().error(`idle PostgreSQL client error: ${err.message}`));
  // adapter-pg 7.x (needed for its `name` column support) types trail the 6.19 client's.
  const adapter = new PrismaPg(pool) as unknown as NonNullable<ConstructorParameters<typeof PrismaClient>[0]>["adapter"];
  const prisma = new PrismaClient({ adapter });
  return {
    kind: "postgres",
    prisma,
    session: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => {
            await client.query(sql);
          },
          query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        });
      } finally {
        client.release();
      }
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

export function getDb(): Promise<DbHandle> {
  const existing = globalForDb.__keygateDb;
  if (existing) return Promise.resolve(existing);
  const url = env().DATABASE_URL;
  const opening = (url ? openPostgres(url) : openEmbedded()).then((handle) => (globalForDb.__keygateDb = handle));
  opening.catch(() => {
    globalForDb.__keygateDb = undefined;
  });
  globalForDb.__keygateDb = opening;
  return opening;
}

/** The Prisma client, opening the database on first use. */
export async function prisma(): Promise<PrismaClient> {
  return (await getDb()).prisma;
}

export async function closeDb(): Promise<void> {
  const existing = globalForDb.__keygateDb;
  globalForDb.__keygateDb = undefined;
  if (existing) await (await existing).close();
}

/**
 * A unique-constraint violation, as either driver reports it: adapter-pg maps
 * it to Prisma's P2002, but pglite-prisma-adapter passes the raw PostgreSQL
 * error (SQLSTATE 23505) through as the cause of a DriverAdapterError.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) return err.code === "P2002";
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause === "object" && cause !== null && cause.code === "23505";
}
