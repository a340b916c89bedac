/**
 * `npm run bench:gateway`: what the gateway's hot path costs, measured side by
 * side in one run against a fake upstream that answers at once
 * (test/fake-upstream.ts, 5 output tokens):
 *
 *   (a) direct        autocannon → fake upstream (the ceiling)
 *   (d) bare proxy    node:http + undici Pool pass-through, written below (the floor for any proxy)
 *   (c) Portkey       @portkey-ai/gateway's open-source Node server, custom host = the fake upstream
 *   (b) Keygate       server.ts with a credit key: auth, limits, metering, usage queue
 *   (e) verify        Keygate's POST /api/keys/verify (no upstream call)
 *   (f) Keygate+Redis one Keygate with REDIS_URL (a private redis-server): the limits store in Redis
 *   (g) 2× Keygate+Redis  two Keygate processes on one PostgreSQL and one Redis, the load split between
 *                     them (one autocannon per instance, half the connections each; 1 conn uses one)
 *   (h) Keygate, fallback  (b)'s Keygate, a model with two routes whose first refuses connections: every
 *                     request pays one fallback (KEYGATE_COOLDOWN_AFTER_FAILURES is set very high for the
 *                     bench, so the dead route never cools down and is tried each time)
 *   (i) Keygate, translated  (b)'s request to an Anthropic model: the OpenAI client's request, the
 *                     answer and the stream are translated (Chat Completions ↔ Anthropic Messages)
 *   (j) Keygate without Next  bench/gateway-only.ts: the same front and start-up as (b), on (b)'s
 *                     database, without Next in the process (what sharing the process with Next costs)
 *
 * "server CPU µs/req" is the CPU the target's own server processes (every
 * thread: PGlite's, GC's) used per 2xx answer over the measured seconds, from
 * /proc; "× (d)" divides it by the bare proxy's. On a machine whose cores the
 * load generator and the upstream share, it is a steadier measure of a
 * proxy's cost than its req/s. A database server's and Redis's CPU are not in
 * it (Redis's is in the Redis table).
 *
 * "main thread busy" is how much of the measured seconds the target's main
 * thread (its JavaScript's one thread; the busiest instance's for (g)) spent
 * on a CPU, and "machine busy" the share of all cores in use (interrupt time
 * left out): a target whose main thread is near 100 % while the machine is
 * not is bound by that thread, not by the machine.
 *
 * Each Keygate run also reports its event-loop delay (p50, p99, max: how late
 * the thread was for a timer, from Keygate's own /metrics), which is where a
 * database flush or a garbage collection in the gateway's thread shows.
 *
 * For (f) and (g) a third table gives Redis commands per request (INFO's
 * total_commands_processed over the run, background sweeps and flushes
 * included): the target is one (the admission script) per request; and
 * Redis's own CPU per request (INFO cpu), which bounds what one Redis serves.
 *
 * Chat targets run plain and streamed (`stream: true`, include_usage off);
 * each at 1 and 64 connections, BENCH_SECONDS (default 5) each after a 1 s
 * warm-up. Every server is its own child process; autocannon runs in this one.
 *
 * How to read it: the machine has 2 cores shared by autocannon, the proxy under
 * test and the fake upstream, so absolute numbers are low and noisy; read the
 * ratios. "+p50" is the latency a target adds over (a) at the same connections
 * and mode; "% of (a)" / "% of (d)" are its throughput relative to direct and
 * to the bare proxy. Latencies are 2xx responses only, in ms with sub-ms
 * precision (recorded from autocannon's per-response events, not its
 * whole-ms histogram). A target with non-2xx answers is flagged, not averaged.
 *
 * Database work per request (b, e): Keygate runs on a fresh PostgreSQL database
 * (BENCH_PG_URL, default postgresql://root@127.0.0.1:5432/postgres; dropped at
 * the end; BENCH_DB=embedded for PGlite and no count). pg_stat_database is
 * read around each Keygate run, each time after 11 s without Keygate traffic,
 * because a backend may hold its counters for up to 10 s
 * (PGSTAT_IDLE_INTERVAL); the other targets run in those gaps. The hot path
 * reads nothing from the database; the usage flush writes in the background,
 * one transaction per batch, so the second table shows transactions per
 * request and how many requests one batch carried.
 *
 * Knobs: BENCH_SECONDS; BENCH_DB=embedded (no f, g); BENCH_PG_URL; BENCH_TARGETS=a,d,…
 * (a subset); BENCH_SERVER_LOGS=<dir> (each server's output in <dir>/<name>.log); BENCH_CPU_PROF=<dir> (.cpuprofile files in <dir>/<server>/, the
 * main thread's is the largest). Runs during which other processes used more
 * than a quarter of a core are listed at the end: on a shared machine, rerun.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Pool, type Dispatcher } from "undici";
import Redis from "ioredis";
import { startRedis, type TestRedis } from "../test/redis-server";
import { freePort } from "../test/free-port";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const CONNECTIONS = [1, 64] as const;
/** PostgreSQL flushes a backend's pending counters within 10 s of it going idle. */
const PG_STATS_SETTLE_MS = 11_000;
const PROFILE_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null;
const NEXT_LOCK = "/tmp/keygate-next.lock";
const CHAT_BODY = { model: "bench-model", messages: [{ role: "user", content: "Say hello" }], max_tokens: 16 };
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

// ---------- autocannon (untyped package) ----------

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  method: "POST" | "GET";
  headers: Record<string, string>;
  body?: string;
  timeout?: number;
}
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { sent: number };
}
interface AutocannonInstance {
  on(event: "response", fn: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: AutocannonOptions, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

// ---------- child processes ----------

const children = new Set<ChildProcess>();
/** Each server's process by the port it listens on, for its CPU per request (a target's URL names the port). */
const pidByPort = new Map<string, number>();

interface Started {
  child: ChildProcess;
  /** The line that matched `ready`. */
  line: string;
}

/** Spawns a server and resolves once a line of its output matches `ready`; rejects with its last output if it exits first. */
function startServer(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 120_000): Promise<Started> {
  const child = spawn(process.execPath, [...profileArgs(name), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  const tail: string[] = [];
  // BENCH_SERVER_LOGS=<dir>: every line each server prints, in <dir>/<name>.log (to see why a target answered non-2xx).
  const logDir = process.env.BENCH_SERVER_LOGS;
  if (logDir) fs.mkdirSync(logDir, { recursive: true });
  const logFile = logDir ? fs.createWriteStream(path.join(logDir, `${name}.log`), { flags: "a" }) : null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${tail.join("\n")}`)), timeoutMs);
    const onLine = (line: string) => {
      logFile?.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (ready.test(line)) {
        clearTimeout(timer);
        // Servers name their port in that line: "…127.0.0.1:<port>…", "…port <port>", "… listening on <port>" (Portkey's is set by its caller).
        const port = /(?:127\.0\.0\.1:|port )(\d+)/.exec(line)?.[1] ?? /(\d+)\s*$/.exec(line)?.[1];
        if (port && child.pid) pidByPort.set(port, child.pid);
        resolve({ child, line });
      }
    };
    for (const stream of [child.stdout, child.stderr]) lines(stream, onLine);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${tail.join("\n")}`));
    });
  });
}

function profileArgs(name: string): string[] {
  if (!PROFILE_DIR) return [];
  // Portkey dies on SIGTERM without a handler, and a killed process writes no profile.
  const exitOnTerm = "data:text/javascript,process.on('SIGTERM',()=>process.exit(0))";
  // A directory per server: with --import tsx, the loader thread writes a profile of its own.
  return ["--cpu-prof", `--cpu-prof-dir=${path.join(PROFILE_DIR, name)}`, "--import", exitOnTerm];
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buffered = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split(/\r?\n/);
    buffered = parts.pop() ?? "";
    for (const part of parts) onLine(part);
  });
}

/** SIGTERM every child (Keygate drains and flushes on it), SIGKILL any still alive after 8 s. */
async function stopChildren(): Promise<void> {
  const alive = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = alive.map((c) => new Promise<void>((resolve) => c.once("exit", () => resolve())));
  for (const c of alive) c.kill("SIGTERM");
  const deadline = sleep(8_000).then(() => alive.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));
  await Promise.race([Promise.all(exited), deadline]);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------- (d) the bare pass-through proxy, run as a child: `gateway.ts --serve-proxy <origin>` ----------

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function serveProxy(origin: string): void {
  const upstream = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000 });
  const server = http.createServer((req, res) => {
    const method = (req.method ?? "GET") as Dispatcher.HttpMethod;
    const body = method === "GET" || method === "HEAD" ? null : req;
    upstream
      .request({ path: req.url ?? "/", method, headers: endToEnd(req.headers), body })
      .then((up) => {
        res.writeHead(up.statusCode, endToEnd(up.headers));
        // Not stream.pipeline: it aborts an AbortController per call, and building that DOMException was 6% of this proxy's CPU.
        up.body.on("error", () => res.destroy());
        res.on("close", () => up.body.destroy());
        up.body.pipe(res);
      })
      .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  });
  server.listen(0, "127.0.0.1", () => console.log(`bare proxy listening on ${(server.address() as AddressInfo).port}`));
  process.on("SIGTERM", () => process.exit(0));
}

// ---------- PostgreSQL ----------

interface PgCounters {
  xact_commit: number;
  xact_rollback: number;
  tup_returned: number;
  tup_fetched: number;
  tup_inserted: number;
  tup_updated: number;
}

interface BenchDb {
  url: string;
  name: string;
  /** A connection to the maintenance database, so reading the counters adds nothing to the bench database's. */
  admin: pg.Client;
}

async function createBenchDb(): Promise<BenchDb | null> {
  if (process.env.BENCH_DB === "embedded") return null;
  const base = process.env.BENCH_PG_URL ?? "postgresql://root@127.0.0.1:5432/postgres";
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`> PostgreSQL at ${base} is not reachable (${(err as Error).message}): using the embedded database, no query count.`);
    return null;
  }
  const name = `keygate_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, admin };
}

async function readCounters(db: BenchDb): Promise<PgCounters> {
  await db.admin.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await db.admin.query<Record<keyof PgCounters, string>>(
    "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = $1",
    [db.name],
  );
  const row = rows[0];
  return {
    xact_commit: Number(row.xact_commit),
    xact_rollback: Number(row.xact_rollback),
    tup_returned: Number(row.tup_returned),
    tup_fetched: Number(row.tup_fetched),
    tup_inserted: Number(row.tup_inserted),
    tup_updated: Number(row.tup_updated),
  };
}

async function dropBenchDb(db: BenchDb): Promise<void> {
  await db.admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  await db.admin.end();
}

// ---------- Keygate ----------

/**
 * Builds Next unless the build on disk is fresh (scripts/build-freshness.mjs, as `npm start` decides),
 * under the build lock so a concurrent bench waits for one build. A stale build would serve the old
 * Prisma client and answer 500s, measured as Keygate.
 */
function ensureNextBuild(): void {
  const build = spawnSync("flock", [NEXT_LOCK, process.execPath, "scripts/build-freshness.mjs"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("next build failed");
}

/**
 * A shared hold on the build lock while Keygate starts and its setup requests
 * load Next's route bundles, so another session's `next build` cannot swap
 * .next underneath them. Released by closing flock's stdin.
 */
async function holdBuildLock(): Promise<() => void> {
  const lock = spawn("flock", ["-s", NEXT_LOCK, "-c", "echo locked; cat >/dev/null"], { stdio: ["pipe", "pipe", "ignore"] });
  const slow = setTimeout(() => console.log("> waiting for a concurrent `next build` to finish…"), 1_000);
  const acquired = await new Promise<boolean>((resolve) => {
    lock.once("error", () => resolve(false)); // no flock on this machine: go on without it
    lock.once("exit", () => resolve(false));
    lines(lock.stdout, (line) => line === "locked" && resolve(true));
  });
  clearTimeout(slow);
  return () => {
    if (acquired) lock.stdin?.end();
  };
}

async function startKeygate(upstreamOrigin: string, dataDir: string, db: BenchDb | null, redisUrl = "", entry = "server.ts"): Promise<string> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: redisUrl,
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    KEYGATE_DATA_DIR: dataDir,
    DATABASE_URL: db?.url ?? "",
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    NEXTAUTH_SECRET: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    NEXTAUTH_URL: "",
    OPENAI_BASE_URL: `${upstreamOrigin}/v1`,
    OPENAI_API_KEY: "test",
    KEYGATE_DEMO_UPSTREAM: "off",
    KEYGATE_DEMO_ACCOUNT: "off",
    KEYGATE_SIGNUPS_PER_HOUR: "100000",
    // (h): the dead route is tried on every request instead of cooling down after three failures.
    KEYGATE_COOLDOWN_AFTER_FAILURES: "1000000000",
  };
  const name = entry !== "server.ts" ? "keygate-gateway-only" : redisUrl ? `keygate-redis-${port}` : "keygate";
  await startServer(name, ["--import", "tsx", entry], env, /listening/);
  return `http://127.0.0.1:${port}`;
}

async function post<T>(base: string, route: string, body: unknown, token?: string): Promise<{ status: number; data: T; text: string }> {
  const res = await fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let data: T | undefined;
  try {
    data = (JSON.parse(text) as { data?: T }).data;
  } catch {
    data = undefined; // an HTML error page, say: the status tells the caller
  }
  return { status: res.status, data: data as T, text };
}

async function mustPost<T>(base: string, route: string, body: unknown, token?: string): Promise<T> {
  const res = await post<T>(base, route, body, token);
  if (res.status >= 300) throw new Error(`setup: POST ${route} answered ${res.status}: ${res.text.slice(0, 400)}`);
  return res.data;
}

/** The catalogue row via the admin API, or (if that route is missing) straight into the table. */
async function addModel(base: string, db: BenchDb | null): Promise<void> {
  const model = { model: CHAT_BODY.model, provider: "openai", inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01, maxOutputTokens: 64 };
  const res = await post(base, "/api/admin/models", model, ADMIN_TOKEN);
  if (res.status < 300) return;
  if (res.status !== 404 || !db) throw new Error(`setup: POST /api/admin/models answered ${res.status}: ${res.text.slice(0, 400)}`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    `INSERT INTO "Model" (model, provider, "upstreamModel", "inputMicrosPerMTok", "outputMicrosPerMTok", "maxOutputTokens", active, "updatedAt") VALUES ($1, 'openai', NULL, 10000, 10000, 64, true, now())`,
    [model.model],
  );
  await client.end();
}

/** (h)'s model: two routes, the first to an upstream that refuses connections (a port nothing listens on), the second to the fake upstream. */
const FALLBACK_MODEL = "bench-fallback";

async function addFallbackModel(base: string, upstreamOrigin: string): Promise<void> {
  const dead = `http://127.0.0.1:${await freePort()}/v1`;
  await mustPost(base, "/api/admin/upstreams", { name: "bench-dead", protocol: "openai", baseUrl: dead, apiKey: "bench-dead-key" }, ADMIN_TOKEN);
  await mustPost(base, "/api/admin/upstreams", { name: "bench-up", protocol: "openai", baseUrl: `${upstreamOrigin}/v1`, apiKey: "test" }, ADMIN_TOKEN);
  const routes = [
    { upstream: "bench-dead", priority: 0 },
    { upstream: "bench-up", priority: 1 },
  ];
  const model = { model: FALLBACK_MODEL, provider: "openai", inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01, maxOutputTokens: 64, routes };
  await mustPost(base, "/api/admin/models", model, ADMIN_TOKEN);
}

/** (i)'s model: an Anthropic model (one route to the fake upstream's /v1/messages) that the bench asks through /v1/chat/completions, so every request and answer is translated. */
const TRANSLATED_MODEL = "bench-translated";

async function addTranslatedModel(base: string, upstreamOrigin: string): Promise<void> {
  await mustPost(base, "/api/admin/upstreams", { name: "bench-anthropic", protocol: "anthropic", baseUrl: upstreamOrigin, apiKey: "test" }, ADMIN_TOKEN);
  const routes = [{ upstream: "bench-anthropic", upstreamModel: "claude-test" }];
  await mustPost(
    base,
    "/api/admin/models",
    { model: TRANSLATED_MODEL, provider: "anthropic", inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01, maxOutputTokens: 64, routes },
    ADMIN_TOKEN,
  );
}

/** A user with $1M of credit, the bench model, and `count` credit keys (one per run, so no run meets another's rpm window). */
async function setUpKeygate(base: string, db: BenchDb | null, count: number): Promise<string[]> {
  const email = `bench-${process.pid}-${Date.now()}@example.com`;
  const password = "bench-password-0123456789";
  await mustPost(base, "/api/auth/signup", { email, password });
  const { token } = await mustPost<{ token: string }>(base, "/api/auth/token", { email, password });
  await mustPost(base, "/api/admin/credits", { email, amountUsd: 1_000_000 }, ADMIN_TOKEN);
  await addModel(base, db);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push((await mustPost<{ apiKey: string }>(base, "/api/keys/credit", { name: `bench-${i}`, rpm: 100_000 }, token)).apiKey);
  return keys;
}

// ---------- targets ----------

type Mode = "plain" | "stream" | "verify";

interface Target {
  id: "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h" | "i" | "j";
  label: string;
  mode: Mode;
  url: string;
  /** More instances behind the same load (g): the connections are split between url and these. */
  moreUrls?: string[];
  /** Count Redis commands around this target's runs. */
  redis?: boolean;
  keygate: boolean;
  /** Request headers per connection count (Keygate gets a key per run). */
  headers: (connections: number) => Record<string, string>;
  body: string;
}

interface Servers {
  upstream: string;
  proxy: string;
  portkey: string;
  keygate: string;
  /** Credit keys by run: [plain 1, plain 64, stream 1, stream 64, then the same for (f), then plain 1, plain 64 for (g)]; the last six for (h) and (i). */
  keys: string[];
  /** Two Keygate instances with REDIS_URL, or none (BENCH_DB=embedded). */
  redisKeygate: string[];
  /** (j): the front without Next on (b)'s database, and its keys [plain 1, plain 64, stream 1, stream 64]; none with BENCH_DB=embedded. */
  gatewayOnly: { url: string; keys: string[] } | null;
}

const JSON_HEADERS = { "content-type": "application/json" };
const chatBody = (mode: Mode) => JSON.stringify(mode === "stream" ? { ...CHAT_BODY, stream: true } : CHAT_BODY);

function chatTargets(s: Servers, mode: "plain" | "stream"): Target[] {
  const suffix = mode === "stream" ? ", stream" : "";
  const body = chatBody(mode);
  const bearer = { ...JSON_HEADERS, authorization: "Bearer test" };
  const portkey = { ...bearer, "x-portkey-provider": "openai", "x-portkey-custom-host": `${s.upstream}/v1` };
  const keyFor = (connections: number) => s.keys[(mode === "stream" ? 2 : 0) + (connections === 1 ? 0 : 1)];
  const translatedKey = (connections: number) => s.keys[s.keys.length - 4 + (mode === "stream" ? 2 : 0) + (connections === 1 ? 0 : 1)];
  return [
    { id: "a", label: `(a) direct${suffix}`, mode, url: `${s.upstream}/v1/chat/completions`, keygate: false, headers: () => bearer, body },
    { id: "d", label: `(d) bare proxy${suffix}`, mode, url: `${s.proxy}/v1/chat/completions`, keygate: false, headers: () => bearer, body },
    { id: "c", label: `(c) Portkey${suffix}`, mode, url: `${s.portkey}/v1/chat/completions`, keygate: false, headers: () => portkey, body },
    {
      id: "b",
      label: `(b) Keygate${suffix}`,
      mode,
      url: `${s.keygate}/v1/chat/completions`,
      keygate: true,
      headers: (c) => ({ ...JSON_HEADERS, authorization: `Bearer ${keyFor(c)}` }),
      body,
    },
    {
      id: "i",
      label: `(i) Keygate, translated${suffix}`,
      mode,
      url: `${s.keygate}/v1/chat/completions`,
      keygate: true,
      headers: (c) => ({ ...JSON_HEADERS, authorization: `Bearer ${translatedKey(c)}` }),
      body: JSON.stringify({ ...JSON.parse(body), model: TRANSLATED_MODEL }),
    },
    ...(s.gatewayOnly
      ? [
          {
            id: "j" as const,
            label: `(j) Keygate without Next${suffix}`,
            mode,
            url: `${s.gatewayOnly.url}/v1/chat/completions`,
            keygate: true,
            headers: (c: number) => ({ ...JSON_HEADERS, authorization: `Bearer ${s.gatewayOnly!.keys[(mode === "stream" ? 2 : 0) + (c === 1 ? 0 : 1)]}` }),
            body,
          },
        ]
      : []),
    ...(s.redisKeygate.length
      ? [
          {
            id: "f" as const,
            label: `(f) Keygate+Redis${suffix}`,
            mode,
            url: `${s.redisKeygate[0]}/v1/chat/completions`,
            keygate: true,
            redis: true,
            headers: (c: number) => ({ ...JSON_HEADERS, authorization: `Bearer ${s.keys[4 + (mode === "stream" ? 2 : 0) + (c === 1 ? 0 : 1)]}` }),
            body,
          },
          ...(mode === "plain"
            ? [
                {
                  id: "g" as const,
                  label: "(g) 2× Keygate+Redis",
                  mode,
                  url: `${s.redisKeygate[0]}/v1/chat/completions`,
                  moreUrls: [`${s.redisKeygate[1]}/v1/chat/completions`],
                  keygate: true,
                  redis: true,
                  headers: (c: number) => ({ ...JSON_HEADERS, authorization: `Bearer ${s.keys[8 + (c === 1 ? 0 : 1)]}` }),
                  body,
                },
              ]
            : []),
        ]
      : []),
  ];
}

/** BENCH_TARGETS=a,b,… runs only those targets (for a quick look; the ratios need a and d). */
function selected(t: Target): boolean {
  const only = process.env.BENCH_TARGETS?.split(",").map((x) => x.trim());
  return !only || only.includes(t.id);
}

function allTargets(s: Servers): Target[] {
  const verify: Target = {
    id: "e",
    label: "(e) Keygate verify",
    mode: "verify",
    url: `${s.keygate}/api/keys/verify`,
    keygate: true,
    headers: () => JSON_HEADERS,
    body: JSON.stringify({ key: s.keys[0] }),
  };
  const fallback: Target = {
    id: "h",
    label: "(h) Keygate, 1st route down",
    mode: "plain",
    url: `${s.keygate}/v1/chat/completions`,
    keygate: true,
    headers: (c) => ({ ...JSON_HEADERS, authorization: `Bearer ${s.keys[s.keys.length - (c === 1 ? 6 : 5)]}` }),
    body: JSON.stringify({ ...CHAT_BODY, model: FALLBACK_MODEL }),
  };
  return [...chatTargets(s, "plain"), fallback, ...chatTargets(s, "stream"), verify].filter(selected);
}

/** One request before the load, so a misconfigured target fails loudly instead of producing numbers. */
async function probe(t: Target): Promise<void> {
  const res = await fetch(t.url, { method: "POST", headers: t.headers(1), body: t.body });
  const text = await res.text();
  const complete = t.mode !== "stream" || text.includes("[DONE]");
  if (!res.ok || !complete) throw new Error(`${t.label}: probe answered ${res.status}${complete ? "" : " (stream without [DONE])"}: ${text.slice(0, 300)}`);
}

// ---------- other load on the machine (Linux /proc; reads as zero elsewhere) ----------

const USER_HZ = 100;

function processCpuSeconds(pid: number | undefined, file = `/proc/${pid}/stat`): number {
  try {
    const stat = fs.readFileSync(file, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime + stime
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by a process's main thread (its JavaScript's thread, for a Node server). */
function mainThreadCpuSeconds(pid: number): number {
  return processCpuSeconds(pid, `/proc/${pid}/task/${pid}/stat`);
}

/** CPU seconds used so far by the whole machine and by this bench's own processes. */
function cpuSeconds(): { machine: number; ours: number } {
  try {
    // Interrupt time (irq, softirq) is left out: on loopback it is the benchmark's own networking, which no process is charged for.
    const [user, nice, system, , , , , steal] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const ours = [process.pid, ...[...children].map((c) => c.pid)].reduce<number>((sum, pid) => sum + processCpuSeconds(pid), 0);
    return { machine: (user + nice + system + steal) / USER_HZ, ours };
  } catch {
    return { machine: 0, ours: 0 };
  }
}

// ---------- load ----------

interface Run {
  target: Target;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  /** Requests sent, warm-up included (the denominator for database counts). */
  sent: number;
  failures: string | null;
  /** Cores' worth of CPU that processes other than this bench's used during the run (other sessions, PostgreSQL). */
  otherCores: number;
  /** PostgreSQL counter deltas over this run (warm-up and the quiet gap after it included). */
  db?: PgCounters;
  /** Redis script calls (round trips) and commands (inside scripts too) over this run, warm-up included, for the Redis targets. */
  redis?: { scripts: number; commands: number; cpuSeconds: number };
  /** Keygate's event-loop delay during the measured seconds (its /metrics: prom-client's monitorEventLoopDelay), in ms. */
  loop?: { p50: number; p99: number; max: number };
  /** CPU the target's own server processes used per 2xx answer in the measured seconds (all their threads), in µs; null if unknown. */
  cpuUsPerRequest: number | null;
  /** How busy the target's main thread was over the measured seconds, 0 to 1 (the busiest instance's); null if unknown. */
  mainThreadBusy: number | null;
  /** How busy the whole machine was (all cores, interrupts left out), 0 to 1. */
  machineBusy: number;
}

/** The target's server processes (every instance), found by the ports of its URLs. */
function serverPids(t: Target): number[] {
  return [t.url, ...(t.moreUrls ?? [])].map((u) => pidByPort.get(new URL(u).port)).filter((pid): pid is number => pid !== undefined);
}

/** One autocannon per instance of the target, the connections split between them, and the results added up. */
async function autocannonRun(t: Target, connections: number, seconds: number, latencies: number[] | null): Promise<AutocannonResult> {
  const urls = connections > 1 ? [t.url, ...(t.moreUrls ?? [])] : [t.url];
  if (urls.length === 1) return autocannonOne(t, t.url, connections, connections, seconds, latencies);
  const results = await Promise.all(urls.map((url) => autocannonOne(t, url, connections, Math.floor(connections / urls.length), seconds, latencies)));
  const statusCodeStats: Record<string, { count: number }> = {};
  for (const r of results)
    for (const [code, { count }] of Object.entries(r.statusCodeStats)) statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + count };
  const sum = (f: (r: AutocannonResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    "2xx": sum((r) => r["2xx"]),
    statusCodeStats,
    requests: { sent: sum((r) => r.requests.sent) },
  };
}

function autocannonOne(
  t: Target,
  url: string,
  keyConnections: number,
  connections: number,
  seconds: number,
  latencies: number[] | null,
): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const opts: AutocannonOptions = { url, connections, duration: seconds, method: "POST", headers: t.headers(keyConnections), body: t.body, timeout: 10 };
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on("response", (_client, status, _bytes, ms) => {
      if (latencies && status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function failuresOf(r: AutocannonResult): string | null {
  if (!r.non2xx && !r.errors && !r.timeouts) return null;
  const codes = Object.entries(r.statusCodeStats)
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, { count }]) => `${count}×${code}`);
  return [...codes, r.errors ? `${r.errors} errors` : "", r.timeouts ? `${r.timeouts} timeouts` : ""].filter(Boolean).join(", ");
}

let benchRedis: Redis | null = null;

/** Script calls (EVALSHA and EVAL: each one round trip) and every command Redis ran (those inside scripts too), so far. */
async function redisCommandsSoFar(): Promise<{ scripts: number; commands: number; cpuSeconds: number }> {
  if (!benchRedis) return { scripts: 0, commands: 0, cpuSeconds: 0 };
  // Redis's own CPU (its main thread and the rest, user + system), microsecond resolution.
  const cpu = await benchRedis.info("cpu");
  const cpuSeconds = ["used_cpu_user", "used_cpu_sys"].reduce((sum, f) => sum + Number(new RegExp(`^${f}:(\\S+)`, "m").exec(cpu)?.[1] ?? 0), 0);
  const stats = await benchRedis.info("commandstats");
  let scripts = 0;
  let commands = 0;
  for (const m of stats.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+)/gm)) {
    const calls = Number(m[2]);
    commands += calls;
    if (m[1] === "evalsha" || m[1] === "eval") scripts += calls;
  }
  return { scripts, commands, cpuSeconds };
}

/** prom-client's monitorEventLoopDelay samples every 10 ms (its default), and Node records the whole time between two samples. */
const LOOP_SAMPLE_MS = 10;

/**
 * Keygate's event-loop delay from its /metrics (prom-client samples it with
 * monitorEventLoopDelay and resets the histogram at each scrape, so a scrape
 * before a run starts the window and one after reads it), in ms beyond the
 * sampling interval: 0 means the thread was never late.
 */
async function eventLoopDelay(t: Target): Promise<{ p50: number; p99: number; max: number } | null> {
  const res = await fetch(new URL("/metrics", t.url));
  if (!res.ok) return null;
  const text = await res.text();
  const read = (name: string) => {
    const seconds = Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    return Math.max(0, seconds * 1000 - LOOP_SAMPLE_MS);
  };
  return { p50: read("p50"), p99: read("p99"), max: read("max") };
}

async function measure(t: Target, connections: number): Promise<Run> {
  process.stdout.write(`  ${t.label.padEnd(24)} ${String(connections).padStart(2)} conn … `);
  const commandsBefore = t.redis ? await redisCommandsSoFar() : null;
  const warm = await autocannonRun(t, connections, WARMUP_SECONDS, null);
  const latencies: number[] = [];
  if (t.keygate) await eventLoopDelay(t);
  const pids = serverPids(t);
  const serverCpu = () => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const serverBefore = serverCpu();
  const mainBefore = pids.map(mainThreadCpuSeconds);
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  const result = await autocannonRun(t, connections, SECONDS, latencies);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds();
  const serverSeconds = serverCpu() - serverBefore;
  const mainBusy = pids.map((pid, i) => (mainThreadCpuSeconds(pid) - mainBefore[i]) / seconds);
  const loop = t.keygate ? await eventLoopDelay(t) : null;
  const otherCores = (cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours)) / seconds;
  const sorted = Float64Array.from(latencies).sort();
  const failures = failuresOf(result) ?? (failuresOf(warm) ? `warm-up: ${failuresOf(warm)}` : null);
  const run: Run = {
    target: t,
    connections,
    rps: result["2xx"] / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    sent: warm.requests.sent + result.requests.sent,
    failures,
    otherCores,
    ...(loop ? { loop } : {}),
    cpuUsPerRequest: pids.length && result["2xx"] ? (serverSeconds * 1e6) / result["2xx"] : null,
    mainThreadBusy: mainBusy.length ? Math.max(...mainBusy) : null,
    machineBusy: (cpuAfter.machine - cpuBefore.machine) / seconds / os.cpus().length,
  };
  if (commandsBefore) {
    const after = await redisCommandsSoFar();
    // Two INFOs ran between the snapshots (the first's commandstats, the second's cpu): not the gateway's.
    run.redis = {
      scripts: after.scripts - commandsBefore.scripts,
      commands: after.commands - commandsBefore.commands - 2,
      cpuSeconds: after.cpuSeconds - commandsBefore.cpuSeconds,
    };
  }
  console.log(failures ? `NON-2xx: ${failures}` : `${Math.round(run.rps)} req/s`);
  return run;
}

/** The first requests after start-up run cold (JIT, first key and balance loads): 2 s at 64 connections on each Keygate target first. */
async function warmUpKeygate(targets: Target[]): Promise<void> {
  for (const t of targets.filter((x) => x.keygate)) await autocannonRun(t, 64, 2, null);
}

function diff(before: PgCounters, after: PgCounters): PgCounters {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof PgCounters)[]) out[k] = after[k] - before[k];
  return out;
}

/**
 * Runs every target at each connection count. With PostgreSQL, each Keygate
 * run is followed by PG_STATS_SETTLE_MS without Keygate traffic (the other
 * targets run then) and the counters are read before and after.
 */
async function runAll(targets: Target[], db: BenchDb | null): Promise<Run[]> {
  const runs: Run[] = [];
  const fillers = targets.filter((t) => !t.keygate).flatMap((t) => CONNECTIONS.map((c) => ({ t, c })));
  const fill = async (ms: number) => {
    const end = performance.now() + ms;
    while (fillers.length && performance.now() < end) {
      const next = fillers.shift()!;
      runs.push(await measure(next.t, next.c));
    }
    await sleep(Math.max(0, end - performance.now()));
  };
  await warmUpKeygate(targets);
  if (db) await fill(PG_STATS_SETTLE_MS);
  let before = db ? await readCounters(db) : null;
  for (const t of targets.filter((x) => x.keygate)) {
    for (const c of CONNECTIONS) {
      const run = await measure(t, c);
      if (db && before) {
        await fill(PG_STATS_SETTLE_MS);
        const after = await readCounters(db);
        run.db = diff(before, after);
        before = after;
      }
      runs.push(run);
    }
  }
  for (const f of fillers.splice(0)) runs.push(await measure(f.t, f.c));
  return runs;
}

// ---------- report ----------

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

function baselineMode(mode: Mode): Mode {
  return mode === "stream" ? "stream" : "plain";
}

function table(runs: Run[]): string {
  const order = ["a", "d", "c", "b", "j", "i", "h", "f", "g", "e"];
  const modes: Mode[] = ["plain", "stream", "verify"];
  const sorted = [...runs].sort(
    (x, y) =>
      modes.indexOf(x.target.mode) - modes.indexOf(y.target.mode) || order.indexOf(x.target.id) - order.indexOf(y.target.id) || x.connections - y.connections,
  );
  const find = (id: "a" | "d", mode: Mode, c: number) =>
    runs.find((r) => r.target.id === id && r.target.mode === baselineMode(mode) && r.connections === c && !r.failures);
  const out = [
    "| target | conns | req/s | p50 ms | p99 ms | +p50 ms vs (a) | req/s % of (a) | req/s % of (d) | server CPU µs/req | × (d) | main thread busy | machine busy |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of sorted) {
    if (r.failures) {
      out.push(`| ${r.target.label} | ${r.connections} | **non-2xx: ${r.failures}** | | | | | | | | | |`);
      continue;
    }
    const a = find("a", r.target.mode, r.connections);
    const d = find("d", r.target.mode, r.connections);
    const pct = (base?: Run) => (base ? `${Math.round((r.rps / base.rps) * 100)}%` : "—");
    const added = a ? fmt(r.p50 - a.p50) : "—";
    const cpu = r.cpuUsPerRequest === null ? "—" : Math.round(r.cpuUsPerRequest).toLocaleString("en-US");
    const cpuRatio = r.cpuUsPerRequest !== null && d?.cpuUsPerRequest ? `${(r.cpuUsPerRequest / d.cpuUsPerRequest).toFixed(1)}×` : "—";
    const share = (x: number | null) => (x === null ? "—" : `${Math.round(x * 100)}%`);
    out.push(
      `| ${r.target.label} | ${r.connections} | ${Math.round(r.rps).toLocaleString("en-US")} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.target.id === "a" ? "" : added} | ${r.target.id === "a" ? "" : pct(a)} | ${r.target.id === "d" || r.target.id === "a" ? "" : pct(d)} | ${cpu} | ${r.target.id === "a" || r.target.id === "d" ? "" : cpuRatio} | ${share(r.mainThreadBusy)} | ${share(r.machineBusy)} |`,
    );
  }
  return out.join("\n");
}

function machine(db: BenchDb | null): string {
  const cpus = os.cpus();
  return [
    `# Gateway benchmark`,
    ``,
    `- machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    `- node ${process.version}; autocannon in this process, every server in its own; ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up`,
    `- upstream: test/fake-upstream.ts, no latency, 5 output tokens; Keygate database: ${db ? `PostgreSQL (${db.name}, dropped at the end)` : "embedded PGlite"}${db ? "; (f), (g): a private redis-server (no persistence) on loopback" : ""}`,
  ].join("\n");
}

// ---------- main ----------

/** Portkey 1.15.2 with @hono/node-server 1.19 appends headers to the upstream fetch Response, whose headers are immutable: every stream is a 500. Re-wrapping SSE responses (only those) works around it. */
const PORTKEY_SSE_SHIM =
  "data:text/javascript," +
  encodeURIComponent(
    `const f=globalThis.fetch;globalThis.fetch=async(...a)=>{const r=await f(...a);return(r.headers.get("content-type")??"").startsWith("text/event-stream")?new Response(r.body,{status:r.status,statusText:r.statusText,headers:new Headers(r.headers)}):r};`,
  );

async function startPortkey(): Promise<string> {
  const port = await freePort();
  const script = path.join(ROOT, "node_modules/@portkey-ai/gateway/build/start-server.js");
  const { child } = await startServer(
    "portkey",
    ["--import", PORTKEY_SSE_SHIM, script, `--port=${port}`, "--headless"],
    { ...process.env, NODE_ENV: "production" },
    /Ready for connections/,
  );
  if (child.pid) pidByPort.set(String(port), child.pid);
  return `http://127.0.0.1:${port}`;
}

async function startServers(db: BenchDb | null, dataDir: string, redisServer: TestRedis | null): Promise<Servers> {
  const up = await startServer("upstream", ["--import", "tsx", "test/fake-upstream.ts", "--port", "0", "--output-tokens", "5"], process.env, /listening on/);
  const upstream = /(http:\/\/\S+)/.exec(up.line)![1];
  const proxyStarted = startServer(
    "proxy",
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve-proxy", upstream],
    process.env,
    /bare proxy listening/,
  );
  const portkey = startPortkey();
  const release = await holdBuildLock();
  let keygate: string;
  let keys: string[];
  try {
    keygate = await startKeygate(upstream, dataDir, db);
    // Keys by run: (b) plain/stream × 1/64, then (f) and (g) with Redis, then two for (h) and four for (i); then four for (j).
    keys = await setUpKeygate(keygate, db, (redisServer ? 10 : 4) + 6 + (db ? 4 : 0));
    await addFallbackModel(keygate, upstream);
    await addTranslatedModel(keygate, upstream);
  } finally {
    release();
  }
  // Two more instances on the same database, sharing one Redis (their own data dirs: only the secret file lives there).
  const redisKeygate =
    redisServer && db
      ? await Promise.all([0, 1].map((i) => startKeygate(upstream, fs.mkdtempSync(path.join(dataDir, `redis-${i}-`)), db, redisServer.url)))
      : [];
  // (j): a second process on the same database, its own keys (each process holds its keys' limits in memory).
  const gatewayOnly = db
    ? { url: await startKeygate(upstream, fs.mkdtempSync(path.join(dataDir, "gateway-only-")), db, "", "bench/gateway-only.ts"), keys: keys.splice(-4) }
    : null;
  const proxy = `http://127.0.0.1:${/(\d+)$/.exec((await proxyStarted).line)![1]}`;
  return { upstream, proxy, portkey: await portkey, keygate, keys, redisKeygate, gatewayOnly };
}

async function main(): Promise<void> {
  ensureNextBuild();
  if (PROFILE_DIR) fs.mkdirSync(PROFILE_DIR, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-bench-"));
  let db: BenchDb | null = null;
  let redisServer: TestRedis | null = null;
  const cleanup = async () => {
    await stopChildren();
    benchRedis?.disconnect();
    await redisServer?.close();
    redisServer = null;
    if (db) await dropBenchDb(db).catch((err: Error) => console.error(`! could not drop ${db?.name}: ${err.message}`));
    db = null;
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  process.once("exit", () => children.forEach((c) => c.kill("SIGKILL")));
  try {
    db = await createBenchDb();
    console.log(machine(db) + "\n");
    if (db) {
      redisServer = await startRedis();
      benchRedis = new Redis(redisServer.url);
    }
    const servers = await startServers(db, dataDir, redisServer);
    const targets = allTargets(servers);
    for (const t of targets) await probe(t);
    report(await runAll(targets, db));
  } finally {
    await cleanup();
  }
}

function dbTable(runs: Run[]): string {
  const out = [
    "| Keygate run | conns | requests | commits | commits/req | requests per commit | rows inserted/req | rows read/req |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of runs) {
    if (!r.db) continue;
    const per = (n: number) => (n / r.sent).toFixed(4);
    const perCommit = r.db.xact_commit ? Math.round(r.sent / r.db.xact_commit).toLocaleString("en-US") : "—";
    out.push(
      `| ${r.target.label} | ${r.connections} | ${r.sent.toLocaleString("en-US")} | ${r.db.xact_commit} | ${per(r.db.xact_commit)} | ${perCommit} | ${per(r.db.tup_inserted)} | ${per(r.db.tup_returned + r.db.tup_fetched)} |`,
    );
  }
  return out.join("\n");
}

function report(runs: Run[]): void {
  console.log(`\n${table(runs)}\n`);
  if (runs.some((r) => r.db)) {
    console.log(
      "PostgreSQL work per Keygate run (requests sent, warm-up included; rollbacks: " + runs.reduce((n, r) => n + (r.db?.xact_rollback ?? 0), 0) + "):\n",
    );
    console.log(`${dbTable(runs)}\n`);
    console.log(
      '- The hot path itself reads nothing: keys, balances and the catalogue are in memory. The commits are the usage flush (lib/gateway/usage.ts): one transaction per batch, written in the background; "requests per commit" is the batch size it reached.',
    );
  }
  const loopRuns = runs.filter((r) => r.loop);
  if (loopRuns.length) {
    console.log(
      "Event-loop delay in Keygate during each measured run (its /metrics, monitorEventLoopDelay: how late a sample taken every 10 ms came; the first instance for (g)):\n",
    );
    console.log("| Keygate run | conns | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|");
    for (const r of loopRuns) console.log(`| ${r.target.label} | ${r.connections} | ${fmt(r.loop!.p50)} | ${fmt(r.loop!.p99)} | ${fmt(r.loop!.max)} |`);
    console.log(
      "\n- A delay is time a request's next step waited for the thread: the usage flush (on the embedded database, PGlite runs in this thread), garbage collection, other requests' work.\n",
    );
  }
  const redisRuns = runs.filter((r) => r.redis);
  if (redisRuns.length) {
    console.log("\nRedis work per request (Keygate with REDIS_URL; target: one round trip, the admission script):\n");
    console.log(
      "| Keygate run | conns | requests | script calls (round trips) | round trips/req | commands run inside Redis/req | Redis CPU µs/req |\n|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const r of redisRuns)
      console.log(
        `| ${r.target.label} | ${r.connections} | ${r.sent.toLocaleString("en-US")} | ${r.redis!.scripts.toLocaleString("en-US")} | ${(r.redis!.scripts / r.sent).toFixed(3)} | ${(r.redis!.commands / r.sent).toFixed(1)} | ${Math.round((r.redis!.cpuSeconds * 1e6) / r.sent)} |`,
      );
    console.log(
      "\n- A request's admission is one script; its settlement rides along with the next admission (or goes within 5 ms, batched). The usage flush adds one script per batch, the sweep one every 5 s per instance. Commands inside a script cost Redis CPU, not a round trip.\n",
    );
  }
  const disturbed = runs.filter((r) => r.otherCores > 0.25).map((r) => `${r.target.label} ${r.connections} conns (${r.otherCores.toFixed(2)} cores)`);
  if (disturbed.length) console.log(`- other processes used CPU during: ${disturbed.join("; ")}. Those rows are suspect; run again on a quiet machine.`);
  const failed = runs.filter((r) => r.failures);
  for (const r of failed) console.error(`! ${r.target.label} at ${r.connections} conns answered non-2xx (${r.failures}); its numbers are left out.`);
  if (failed.length) process.exitCode = 1;
}

if (process.argv[2] === "--serve-proxy") serveProxy(process.argv[3]);
else
  main().catch((err: unknown) => {
    console.error(`! ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
