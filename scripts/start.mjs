#!/usr/bin/env node
// `npm start`: build if the sources changed since the last build, then serve
// with server.ts (Next plus raw-request guards, and later the gateway's hot
// path) through tsx. Migrations, the generated session secret and the demo
// account are handled by the server itself at start-up (instrumentation.ts),
// so PGlite's one-process rule holds. PORT (default 3000) and HOST (default:
// every interface, as `next start`) say where it listens.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import nextEnv from "@next/env";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
process.chdir(root);
nextEnv.loadEnvConfig(root, false);

const port = process.env.PORT || "3000";
process.env.NEXT_TELEMETRY_DISABLED = "1";

const SOURCES = ["app", "components", "lib", "prisma", "instrumentation.ts", "next.config.mjs", "package-lock.json", "postcss.config.mjs", "tsconfig.json"];

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

// When the last successful build *started*: a file saved during a build may
// not be in it, so comparing against the build's end time would miss it.
const STAMP = path.join(".next", "keygate-build-started");

function buildIsFresh() {
  try {
    if (!fs.existsSync(path.join(".next", "BUILD_ID"))) return false;
    const started = Number(fs.readFileSync(STAMP, "utf8"));
    return SOURCES.every((s) => newestMtime(s) < started);
  } catch {
    return false;
  }
}

const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");

if (process.env.KEYGATE_SKIP_BUILD !== "1" && !buildIsFresh()) {
  console.log("[keygate] building (first start, or the sources changed)…");
  const started = Date.now();
  const build = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env: process.env });
  if (build.status !== 0) process.exit(build.status ?? 1);
  fs.writeFileSync(STAMP, String(started));
}

// Always a production server, as `next start` (server.ts serves development only when NODE_ENV=development).
const serverEnv = { ...process.env, PORT: port, NODE_ENV: "production" };
const server = spawn(process.execPath, ["--import", "tsx", path.join(root, "server.ts")], { stdio: "inherit", env: serverEnv });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
