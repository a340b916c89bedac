#!/usr/bin/env node
// `npm start`: build if the sources changed since the last build, then serve
// with server.ts (Next plus raw-request guards, and later the gateway's hot
// path) through tsx. Migrations, the generated session secret and the demo
// account are handled by the server itself at start-up (instrumentation.ts),
// so PGlite's one-process rule holds. PORT (default 3000) and HOST (default:
// every interface, as `next start`) say where it listens.
import { spawn } from "node:child_process";
import path from "node:path";
import nextEnv from "@next/env";
import { buildIfStale } from "./build-freshness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
process.chdir(root);
nextEnv.loadEnvConfig(root, false);

const port = process.env.PORT || "3000";
process.env.NEXT_TELEMETRY_DISABLED = "1";

if (process.env.KEYGATE_SKIP_BUILD !== "1") buildIfStale(root);

// Always a production server, as `next start` (server.ts serves development only when NODE_ENV=development).
const serverEnv = { ...process.env, PORT: port, NODE_ENV: "production" };
const server = spawn(process.execPath, ["--import", "tsx", path.join(root, "server.ts")], { stdio: "inherit", env: serverEnv });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
