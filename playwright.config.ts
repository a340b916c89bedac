import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { CHROMIUM_ARGS, E2E_ADMIN_API_TOKEN, E2E_NEXTAUTH_SECRET, E2E_OPERATOR_EMAIL } from "./e2e/test-env";

/**
 * Browser tests against a production build (`npm start`) on its own port,
 * with a fresh embedded database per run so no run sees another's users.
 */

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://localhost:${port}`;

// This file is evaluated again in every worker. The main process creates the
// data directory and records it in the environment, which workers inherit, so
// all of them agree on one directory per run.
let dataDir = process.env.KEYGATE_E2E_DATA;
if (!dataDir) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-e2e-"));
  process.env.KEYGATE_E2E_DATA = dataDir = dir;
  // Only the process that made it removes it; Playwright stops the web
  // server before its own process exits.
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  // Screenshots for reviewers (see e2e/fixtures.ts): only this run's.
  fs.rmSync(path.join(__dirname, "e2e", ".artifacts"), { recursive: true, force: true });
}

// Debian's Chromium where it exists (CI, these machines, where `playwright
// install` cannot download a browser); Playwright's own browser on a laptop.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const executablePath = fs.existsSync(chromiumPath) ? chromiumPath : undefined;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  workers: Math.min(2, os.cpus().length),
  retries: process.env.CI ? 1 : 0,
  reporter: "list",
  // A journey of many steps on a busy 2-core machine: the limit is for a test that hangs, not a speed target.
  // Journeys with four axe scans took up to 56 s in CI (an axe scan alone takes 4 to 6 s there), and one went over 60.
  timeout: 120_000,
  // Assertions wait for what a user waits for (a heading, a row, a toast); on
  // a busy 2-core machine that can take longer than Playwright's 5 s default.
  // A condition that never comes still fails, just later.
  expect: { timeout: 15_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath,
          args: CHROMIUM_ARGS,
        },
      },
    },
  ],
  webServer: {
    command: "node scripts/start.mjs",
    url: `${baseURL}/sign-in`,
    // The first start includes `next build`.
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      // No NEXTAUTH_URL, as `npm start` runs by default: the app takes its
      // address from each request (e2e/address.spec.ts browses by 127.0.0.1).
      NEXTAUTH_URL: "",
      NEXTAUTH_SECRET: E2E_NEXTAUTH_SECRET,
      ADMIN_API_TOKEN: E2E_ADMIN_API_TOKEN,
      // The operator users.operator() signs in as (e2e/admin.spec.ts).
      KEYGATE_ADMIN_EMAILS: E2E_OPERATOR_EMAIL,
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_DEMO_ACCOUNT: "off",
      // Every test signs up its own user from 127.0.0.1.
      KEYGATE_SIGNUPS_PER_HOUR: "10000",
      NEXT_TELEMETRY_DISABLED: "1",
      // Always the embedded database, whatever the shell exports.
      DATABASE_URL: "",
      // e2e/webhooks.spec.ts's receiver listens on 127.0.0.1.
      KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1",
      // Warnings and errors only: an access line per request would bury a failure's output.
      LOG_LEVEL: "warn",
    },
  },
});
