import { afterAll, beforeAll } from "vitest";
import { closeDb } from "@/lib/db";
import { migrate } from "@/lib/migrate";
import { resetEnvCache } from "@/lib/env";

// Test files run in parallel on one Redis (the redis project's TEST_REDIS_URL), each on its own database: each gets its
// own usage stream, so one file's writer never takes another's records (their users are not in its database). The
// instances a file starts inherit it, and share it as a deployment's instances do.
process.env.KEYGATE_USAGE_STREAM ||= `kg:usage:test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  resetEnvCache();
  await migrate();
});

afterAll(async () => {
  await closeDb();
});
