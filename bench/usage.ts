/**
 * `npm run bench:usage`: seeds one account with BENCH_USAGE_ROWS request log
 * rows (1,000,000 by default) over 100 keys and 10 models in the last 30
 * days, and their daily rollups, in bulk; then measures GET /api/usage (the
 * default 30 days, each groupBy) and the first page of GET
 * /api/usage/requests, through the real route handlers in process. On the
 * embedded database (PGlite, in memory) or, with DATABASE_URL, on PostgreSQL
 * (use a database of its own: the rows are deleted at the end, with the
 * account). Numbers, not assertions: correctness lives in the tests.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";

process.env.KEYGATE_DATA_DIR ??= "memory";
process.env.NEXTAUTH_SECRET ??= "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz";
process.env.ADMIN_API_TOKEN ??= "bench-admin-token-0123456789abcdef";
process.env.KEYGATE_DEMO_ACCOUNT = "off";

const ROWS = Number(process.env.BENCH_USAGE_ROWS ?? 1_000_000);
const ITERATIONS = Number(process.env.BENCH_USAGE_ITERATIONS ?? 200);
const KEYS = 100;
const MODELS = 10;
/** Rows per INSERT … SELECT generate_series statement. */
const SEED_BATCH = 100_000;
const DAY_MS = 86_400_000;

interface Result {
  name: string;
  p50: number;
  p99: number;
}

async function serial(name: string, iterations: number, fn: () => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < Math.min(20, iterations); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { name, p50: samples[Math.floor(samples.length * 0.5)], p99: samples[Math.floor(samples.length * 0.99)] };
}

async function main() {
  const { newKey } = await import("@/lib/keys/format");
  const { migrate } = await import("@/lib/migrate");
  const { prisma, closeDb } = await import("@/lib/db");
  const { issueSessionToken } = await import("@/lib/auth/session-token");
  const usageRoute = await import("@/app/api/usage/route");
  const requestsRoute = await import("@/app/api/usage/requests/route");

  await migrate();
  const db = await prisma();
  const user = await db.user.create({ data: { email: `bench-usage-${Date.now()}@example.com` } });
  const keyIds: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const k = newKey("credit");
    const row = await db.apiKey.create({ data: { userId: user.id, name: `key ${i}`, keyType: "credit", keyHash: k.hash, keyPrefix: k.prefix } });
    keyIds.push(row.id);
  }
  const { token } = await issueSessionToken({ id: user.id, email: user.email, name: null });

  // Seeding: the rows in bulk (one statement per SEED_BATCH), newest at now, one every 30 days / ROWS; then their rollups, as the
  // usage writer would have kept them, in its four grains (as the migration backfills them).
  const seedStart = performance.now();
  const now = Date.now();
  const stepMs = (30 * DAY_MS - 60_000) / ROWS;
  const keysArray = `ARRAY[${keyIds.map((id) => `'${id}'`).join(",")}]`;
  const base = new Date(now).toISOString().replace("T", " ").replace("Z", "");
  for (let from = 1; from <= ROWS; from += SEED_BATCH) {
    const to = Math.min(ROWS, from + SEED_BATCH - 1);
    await db.$executeRawUnsafe(
      `INSERT INTO "UsageRecord" ("id","userId","apiKeyId","model","provider","inputTokens","outputTokens","costMicros","inputMicrosPerMTok","outputMicrosPerMTok","status","latencyMs","ttftMs","streamed","upstream","attempts","createdAt")
       SELECT 'usg_bench_${user.id}_' || g, '${user.id}', (${keysArray})[1 + g % ${KEYS}], 'bench-model-' || ((g / ${KEYS}) % ${MODELS}), 'openai',
              100 + g % 900, 10 + g % 500, 50 + g % 1000, 150000, 600000, CASE WHEN g % 50 = 0 THEN 500 ELSE 200 END, 200 + g % 3000, NULL,
              g % 2 = 0, 'env-openai', 1, TIMESTAMP '${base}' - (g::float8 * ${stepMs}) * INTERVAL '1 millisecond'
         FROM generate_series(${from}, ${to}) AS g`,
    );
    process.stderr.write(`\rseeded ${to.toLocaleString("en-US")} rows`);
  }
  await db.$executeRawUnsafe(
    `INSERT INTO "UsageRollup" ("userId","day","apiKeyId","model","requests","inputTokens","outputTokens","costMicros")
     SELECT "userId", "createdAt"::date, COALESCE(CASE WHEN GROUPING("apiKeyId") = 0 THEN "apiKeyId" END, ''),
            COALESCE(CASE WHEN GROUPING("model") = 0 THEN "model" END, ''), COUNT(*), SUM("inputTokens"), SUM("outputTokens"), SUM("costMicros")
       FROM "UsageRecord" WHERE "userId" = '${user.id}'
      GROUP BY GROUPING SETS (("userId", "createdAt"::date, "apiKeyId", "model"), ("userId", "createdAt"::date, "apiKeyId"),
                              ("userId", "createdAt"::date, "model"), ("userId", "createdAt"::date))`,
  );
  await db.$executeRawUnsafe(`ANALYZE "UsageRecord"`);
  await db.$executeRawUnsafe(`ANALYZE "UsageRollup"`);
  const rollups = await db.usageRollup.count({ where: { userId: user.id } });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  process.stderr.write(`\n`);

  const ctx = { params: Promise.resolve({}) };
  const get = async (route: { GET: (req: Request, c: typeof ctx) => Promise<Response> }, path: string) => {
    const res = await route.GET(new Request(`http://localhost:3000${path}`, { headers: { authorization: `Bearer ${token}`, host: "localhost:3000" } }), ctx);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  // One sanity check before timing: the rollups hold every row.
  const check = (await get(usageRoute, `/api/usage?from=${new Date(now - 31 * DAY_MS).toISOString().slice(0, 10)}`)) as {
    data: { totals: { requests: number } };
  };
  if (check.data.totals.requests !== ROWS) throw new Error(`the rollups hold ${check.data.totals.requests} requests, not ${ROWS}`);

  const results: Result[] = [];
  for (const groupBy of ["day", "key", "model"]) {
    results.push(await serial(`GET /api/usage?groupBy=${groupBy} (30 days)`, ITERATIONS, () => get(usageRoute, `/api/usage?groupBy=${groupBy}`)));
  }
  results.push(await serial("GET /api/usage/requests (first page, 50 rows)", ITERATIONS, () => get(requestsRoute, "/api/usage/requests")));
  results.push(await serial("GET /api/usage/requests?status=500 (first page)", ITERATIONS, () => get(requestsRoute, "/api/usage/requests?status=500")));
  results.push(await serial(`GET /api/usage/requests?keyId=… (first page)`, ITERATIONS, () => get(requestsRoute, `/api/usage/requests?keyId=${keyIds[7]}`)));
  // A page deep in the log: the cursor of the 20th page, then that page.
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++)
    cursor = ((await get(requestsRoute, `/api/usage/requests?limit=500${cursor ? `&cursor=${cursor}` : ""}`)) as { nextCursor: string }).nextCursor;
  results.push(await serial("GET /api/usage/requests?cursor=… (row 10,000 on)", ITERATIONS, () => get(requestsRoute, `/api/usage/requests?cursor=${cursor}`)));

  const kind = process.env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : "embedded PGlite (in memory)";
  console.log(
    `Keygate bench:usage — ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, Node ${process.version}, ${kind}; ` +
      `${ROWS.toLocaleString("en-US")} rows, ${KEYS} keys, ${MODELS} models, ${rollups.toLocaleString("en-US")} rollup rows, seeded in ${seedSeconds.toFixed(1)} s\n`,
  );
  console.log(`${"what".padEnd(52)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)}`);
  for (const r of results) console.log(`${r.name.padEnd(52)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)}`);
  await db.user.delete({ where: { id: user.id } });
  await closeDb();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
