import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Unit and in-process API tests. Suites that never open the database run once
 * (the "unit" project); the others always run on embedded PostgreSQL (PGlite,
 * in memory, one database per test file). With TEST_DATABASE_URL set, they run
 * a second time on that real PostgreSQL server; with TEST_REDIS_URL, the
 * gateway's suites run a third time with REDIS_URL (the limits store, leases
 * and revocation in Redis).
 */

const baseEnv = {
  NODE_ENV: "test",
  KEYGATE_DATA_DIR: "memory",
  KEYGATE_DEMO_ACCOUNT: "off",
  NEXTAUTH_SECRET: "test-secret-0123456789abcdefghijklmnopqrstuvwxyz",
  NEXTAUTH_URL: "http://localhost:3000",
  ADMIN_API_TOKEN: "test-admin-token-0123456789abcdef",
  DATABASE_URL: "",
};

const ALL_SUITES = ["lib/**/*.test.ts", "test/**/*.test.ts"];
// Suites that never open the database (pure functions, the translators' property tests, the lint rules, PGlite's own
// thread, the fake upstream): the "unit" project runs them once, without the database every other file's set-up
// (test/setup.ts) opens and migrates. One that used the database here would fail: nothing migrates it.
const DATABASE_FREE = [
  "lib/billing/money.test.ts",
  "lib/client/blocks.test.ts",
  "lib/client/field-message.test.ts",
  "lib/client/money.test.ts",
  "lib/crypto/secrets.test.ts",
  "lib/env.test.ts",
  "lib/gateway/charge.test.ts",
  "lib/gateway/protocols/*.test.ts",
  "lib/gateway/routing.test.ts",
  "lib/gateway/translate/*.test.ts",
  "lib/http/node-guards.test.ts",
  "lib/http/request.test.ts",
  "lib/import-boundaries.test.ts",
  "lib/keys/format.test.ts",
  "lib/limits/memory.test.ts",
  "lib/pglite-thread.test.ts",
  "lib/pools/blocks.test.ts",
  "test/fake-upstream.test.ts",
];
const postgresUrl = process.env.TEST_DATABASE_URL;
// With TEST_REDIS_URL (CI sets it), the gateway's suites run once more with the limits store in that Redis.
const redisUrl = process.env.TEST_REDIS_URL;
const REDIS_SUITES = [
  "test/gateway.test.ts",
  "test/embeddings.test.ts",
  "test/gateway-hardening.test.ts",
  "test/gateway-routing.test.ts",
  "test/gateway-translation.test.ts",
  "test/gateway-subscription.test.ts",
  "test/subscriptions.test.ts",
  "test/management-keys.test.ts",
  "test/usage-writer.test.ts",
  "test/usage-api.test.ts",
  "test/budget-periods.test.ts",
  "test/allowlists.test.ts",
  "test/rotation.test.ts",
];

// Files run at least two at a time (Vitest's default is one less than the cores: one on a 2-core CI machine), which cut
// CI's Vitest from 16 to 11 minutes. Each file has a database of its own, on the real PostgreSQL server too
// (test/setup.ts). The redis project's files share one Redis, where state such as an upstream's health is
// deployment-wide by design: they run one at a time, after the others.
const parallel = { maxWorkers: Math.max(2, os.availableParallelism() - 1), sequence: { groupOrder: 0 } };
const alone = { maxWorkers: 1, sequence: { groupOrder: 1 } };

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "unit", include: DATABASE_FREE, env: baseEnv, ...parallel } },
      { extends: true, test: { name: "embedded", include: ALL_SUITES, exclude: DATABASE_FREE, setupFiles: ["test/setup.ts"], env: baseEnv, ...parallel } },
      // The coding agents' runs (test/agent-clients.test.ts) do not depend on the database: once, on the embedded one.
      ...(postgresUrl
        ? [
            {
              extends: true,
              test: {
                name: "postgres",
                include: ALL_SUITES,
                exclude: [...DATABASE_FREE, "test/agent-clients.test.ts"],
                setupFiles: ["test/setup.ts"],
                env: { ...baseEnv, DATABASE_URL: postgresUrl },
                ...parallel,
              },
            },
          ]
        : []),
      ...(redisUrl
        ? [
            {
              extends: true,
              test: { name: "redis", include: REDIS_SUITES, setupFiles: ["test/setup.ts"], env: { ...baseEnv, REDIS_URL: redisUrl }, ...alone },
            },
          ]
        : []),
    ],
  },
});
