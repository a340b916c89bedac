import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { closeDb } from "@/lib/db";
import { migrate } from "@/lib/migrate";
import { resetEnvCache } from "@/lib/env";

// Test files share one Redis (the redis project's TEST_REDIS_URL), each on its own database: each gets its own usage
// stream, so one file's writer never takes another's records (their users are not in its database), even when one was
// left behind. The instances a file starts inherit it, and share it as a deployment's instances do.
process.env.KEYGATE_USAGE_STREAM ||= `kg:usage:test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

// On a real PostgreSQL server (the postgres project) each file gets a database of its own, named after the one of
// TEST_DATABASE_URL with a suffix, created here and dropped after the file; so files run in parallel there too, and the
// instances a file starts share its database. (.ci/run also drops any a killed run left behind.)
const server = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL) : null;
const fileDatabase = server && `${server.pathname.slice(1)}_f${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
if (server && fileDatabase) {
  const url = new URL(server);
  url.pathname = `/${fileDatabase}`;
  process.env.DATABASE_URL = url.toString();
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server!.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  if (fileDatabase) await onServer(`CREATE DATABASE "${fileDatabase}"`);
  resetEnvCache();
  await migrate();
});

afterAll(async () => {
  await closeDb();
  if (fileDatabase) await onServer(`DROP DATABASE IF EXISTS "${fileDatabase}" WITH (FORCE)`);
});
