/**
 * `npm run bench:docs`: how long a reader waits for /docs, in Chromium.
 *
 * For each of BENCH_DOCS_RUNS (default 7) cold loads, each in a fresh browser
 * context (no HTTP cache, no service worker), it records from navigation start
 * (performance.timeOrigin):
 *
 *   first paint    the browser's first-contentful-paint entry
 *   heading        a level-1 heading of the document is visible (checked every
 *                  animation frame, so it is when the frame with it is painted)
 *   interactive    Scalar's own reference has rendered and is shown (its
 *                  sidebar link to an operation is visible)
 *
 * and prints the median and the range of each. One load before them is thrown
 * away, so the server's first-request costs (loading the route, reading the
 * bundle) are not counted.
 *
 * The server: BENCH_DOCS_URL (e.g. http://127.0.0.1:3000) if set; otherwise
 * `node scripts/start.mjs` (which builds Next if the sources changed) on a
 * free port with a throw-away embedded database, stopped at the end.
 *
 * The browser is Debian's /usr/bin/chromium (CHROMIUM_PATH), launched with the
 * flags playwright.config.ts uses on these machines. The machine is shared:
 * the load average is printed with the result; read it beside the numbers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "@playwright/test";
import { freePort } from "../test/free-port";
import { CHROMIUM_ARGS } from "../e2e/test-env";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_DOCS_RUNS ?? 7);
/** Past this, a load counts as "never" (and is reported as such). */
const GIVE_UP_MS = 30_000;

/**
 * Runs in the page before any of its scripts: stamps the first frame with a
 * visible h1. A string, not a function: tsx would wrap named inner functions
 * in a `__name` helper that does not exist in the page.
 */
const PROBE = `(() => {
  const bench = (window.__docsBench = {});
  const check = () => {
    const h1 = [...document.querySelectorAll("h1")].find((h) => h.checkVisibility() && h.getBoundingClientRect().height > 0);
    if (h1) bench.heading = performance.now();
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

async function startServer(): Promise<{ base: string; stop: () => void }> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-bench-docs-"));
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      KEYGATE_DATA_DIR: dataDir,
      DATABASE_URL: "",
      NEXTAUTH_URL: "",
      NEXTAUTH_SECRET: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
      KEYGATE_DEMO_ACCOUNT: "off",
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
    },
  });
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGTERM"); // start.mjs and the server it spawned
    } catch {
      // already gone
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000; // a first start builds Next
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/docs`)).ok) return { base, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error("the server did not answer /docs within 5 minutes");
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Sample {
  firstPaint: number | null;
  heading: number | null;
  interactive: number | null;
}

async function load(browser: import("@playwright/test").Browser, base: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  try {
    const page = await context.newPage();
    await page.addInitScript({ content: PROBE });
    await page.goto(`${base}/docs`, { waitUntil: "commit" });
    const heading = await page
      .waitForFunction(() => (window as unknown as { __docsBench: { heading?: number } }).__docsBench.heading, null, { timeout: GIVE_UP_MS })
      .then((h) => h.jsonValue() as Promise<number>)
      .catch(() => null);
    // Scalar's sidebar: an operation's link, shown once the reference has taken over.
    const interactive = await page
      .waitForFunction(
        () => {
          const link = [...document.querySelectorAll("#app a")].find((a) => a.textContent?.trim().startsWith("Create a credit key"));
          return link && link.checkVisibility() ? performance.now() : 0;
        },
        null,
        { timeout: GIVE_UP_MS, polling: "raf" },
      )
      .then((h) => h.jsonValue() as Promise<number>)
      .catch(() => null);
    const firstPaint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
    return { firstPaint, heading, interactive };
  } finally {
    await context.close();
  }
}

function summary(values: Array<number | null>): string {
  const ok = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (!ok.length) return "never";
  const median = ok.length % 2 ? ok[(ok.length - 1) / 2]! : (ok[ok.length / 2 - 1]! + ok[ok.length / 2]!) / 2;
  const never = values.length - ok.length;
  return `${Math.round(median)} ms (${Math.round(ok[0]!)}–${Math.round(ok[ok.length - 1]!)})${never ? `, never in ${never}` : ""}`;
}

async function main(): Promise<void> {
  const server = process.env.BENCH_DOCS_URL ? { base: process.env.BENCH_DOCS_URL.replace(/\/$/, ""), stop: () => {} } : await startServer();
  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const browser = await chromium.launch({ executablePath: fs.existsSync(chromiumPath) ? chromiumPath : undefined, args: CHROMIUM_ARGS });
  try {
    await load(browser, server.base); // warm-up, not counted
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = await load(browser, server.base);
      samples.push(s);
      const ms = (v: number | null) => (v === null ? "never" : `${Math.round(v)} ms`);
      console.log(`load ${i + 1}/${RUNS}: first paint ${ms(s.firstPaint)}, heading ${ms(s.heading)}, interactive ${ms(s.interactive)}`);
    }
    console.log(`\n/docs, median of ${RUNS} cold loads (min–max), from navigation start, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}:`);
    console.log(`  first contentful paint   ${summary(samples.map((s) => s.firstPaint))}`);
    console.log(`  level-1 heading visible  ${summary(samples.map((s) => s.heading))}`);
    console.log(`  Scalar interactive       ${summary(samples.map((s) => s.interactive))}`);
    console.log(
      `  load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")}`,
    );
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
