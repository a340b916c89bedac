import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Unit and in-process API tests. They always run on embedded PostgreSQL
 * (PGlite, in memory, one database per test file). With TEST_DATABASE_URL
 * set, the same suite runs a second time on that real PostgreSQL server.
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

const postgresUrl = process.env.TEST_DATABASE_URL;

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["lib/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "embedded", env: baseEnv } },
      ...(postgresUrl
        ? [{ extends: true, test: { name: "postgres", env: { ...baseEnv, DATABASE_URL: postgresUrl } } }]
        : []),
    ],
  },
});
