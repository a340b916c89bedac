import { afterAll, beforeAll } from "vitest";
import { closeDb } from "@/lib/db";
import { migrate } from "@/lib/migrate";
import { resetEnvCache } from "@/lib/env";

beforeAll(async () => {
  resetEnvCache();
  await migrate();
});

afterAll(async () => {
  await closeDb();
});
