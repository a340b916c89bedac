import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { getDb } from "@/lib/db";

/**
 * Applies prisma/migrations/<name>/migration.sql in name order, each once,
 * inside a transaction, at start-up. Prisma's own `migrate deploy` needs a
 * second process, and PGlite admits only one per data directory; this runner
 * works the same on both databases. An advisory lock keeps several instances
 * starting at once on a shared PostgreSQL from racing.
 */

const MIGRATIONS_DIR = path.join(process.cwd(), "prisma", "migrations");
const LOCK_ID = 727_274_001;

export interface MigrationResult {
  applied: string[];
}

function migrationNames(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
}

/** The migrations on disk that the database has not recorded as applied (for /readyz). Throws when the database cannot be reached. */
export async function pendingMigrations(dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const db = await getDb();
  const done = await db.session(async (s) => {
    const table = await s.query<{ name: string | null }>(`SELECT to_regclass('"_keygate_migrations"')::text AS name`);
    if (!table[0]?.name) return new Set<string>();
    return new Set((await s.query<{ name: string }>(`SELECT name FROM "_keygate_migrations"`)).map((r) => r.name));
  });
  return migrationNames(dir).filter((n) => !done.has(n));
}

export async function migrate(dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const db = await getDb();
  const names = migrationNames(dir);

  const applied: string[] = [];
  await db.session(async (s) => {
    if (db.kind === "postgres") await s.query("SELECT pg_advisory_lock($1)", [LOCK_ID]);
    try {
      await s.exec(`CREATE TABLE IF NOT EXISTS "_keygate_migrations" (
        name TEXT PRIMARY KEY,
        checksum TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const done = new Map(
        (await s.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "_keygate_migrations"`)).map((r) => [r.name, r.checksum]),
      );
      for (const name of names) {
        const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
        const checksum = crypto.createHash("sha256").update(sql).digest("hex");
        const previous = done.get(name);
        if (previous) {
          if (previous !== checksum) {
            throw new Error(`Migration ${name} was edited after it was applied; add a new migration instead.`);
          }
          continue;
        }
        const escapedName = name.replace(/'/g, "''");
        try {
          await s.exec(`BEGIN;\n${sql}\n;INSERT INTO "_keygate_migrations" (name, checksum) VALUES ('${escapedName}', '${checksum}');\nCOMMIT;`);
        } catch (err) {
          await s.exec("ROLLBACK").catch(() => {});
          throw new Error(`Migration ${name} failed: ${(err as Error).message}`);
        }
        applied.push(name);
      }
    } finally {
      if (db.kind === "postgres") await s.query("SELECT pg_advisory_unlock($1)", [LOCK_ID]);
    }
  });
  return { applied };
}
