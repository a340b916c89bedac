/**
 * `npm run db:migrate`: applies pending migrations without starting the
 * server (the server also does this at start). With the embedded database,
 * stop the server first: PGlite allows one process per data directory.
 */
import { loadEnvConfig } from "@next/env";

loadEnvConfig(process.cwd(), false);

async function main() {
  const { migrate } = await import("@/lib/migrate");
  const { closeDb } = await import("@/lib/db");
  const { applied } = await migrate();
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "schema up to date");
  await closeDb();
}

main().catch((err) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
