// Whether the .next build on disk was made from the sources as they are now:
// `npm start` (scripts/start.mjs) builds when it is not, and so does
// `npm run bench:gateway` (a stale build serves the old Prisma client and
// answers 500s, which would be measured as Keygate).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** What a build is made from; a change to any of them makes the build stale. */
export const SOURCES = [
  "app",
  "components",
  "lib",
  "prisma",
  "instrumentation.ts",
  "next.config.mjs",
  "package-lock.json",
  "postcss.config.mjs",
  "tsconfig.json",
];

// When the last successful build *started*: a file saved during a build may
// not be in it, so comparing against the build's end time would miss it.
export const STAMP = path.join(".next", "keygate-build-started");

function newestMtime(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** True when `root`/.next holds a build that started after the newest change to SOURCES. */
export function buildIsFresh(root) {
  try {
    if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) return false;
    const started = Number(fs.readFileSync(path.join(root, STAMP), "utf8"));
    return SOURCES.every((s) => newestMtime(path.join(root, s)) < started);
  } catch {
    return false;
  }
}

/** Records that a build started at `started` (ms) succeeded. */
export function stampBuild(root, started) {
  fs.writeFileSync(path.join(root, STAMP), String(started));
}

/** Builds Next in `root` unless its build is fresh; exits the process if the build fails. */
export function buildIfStale(root) {
  if (buildIsFresh(root)) return;
  console.log("[keygate] building (first start, or the sources changed)…");
  const started = Date.now();
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: root, stdio: "inherit", env: process.env });
  if (build.status !== 0) process.exit(build.status ?? 1);
  stampBuild(root, started);
}

// `node scripts/build-freshness.mjs`: build the checkout this file is in if it is stale (bench/gateway.ts runs it under its build lock).
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  buildIfStale(path.resolve(path.dirname(new URL(import.meta.url).pathname), ".."));
}
