import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Unit and in-process API tests. They always run on embedded PostgreSQL
 * (PGlite, in memory, one database per test file). With TEST_DATABASE_URL
 * set, the same suite runs a second time on that real PostgreSQL server; with
 * TEST_REDIS_URL, the gateway's suites run a third time with REDIS_URL (the
 * limits store, leases and revocation in Redis).
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

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "embedded", include: ALL_SUITES, env: baseEnv } },
      // The coding agents' runs (test/agent-clients.test.ts) do not depend on the database: once, on the embedded one.
      ...(postgresUrl
        ? [
            {
              extends: true,
              test: { name: "postgres", include: ALL_SUITES, exclude: ["test/agent-clients.test.ts"], env: { ...baseEnv, DATABASE_URL: postgresUrl } },
            },
          ]
        : []),
      ...(redisUrl ? [{ extends: true, test: { name: "redis", include: REDIS_SUITES, env: { ...baseEnv, REDIS_URL: redisUrl } } }] : []),
    ],
  },
});
