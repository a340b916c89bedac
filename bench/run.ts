/**
 * `npm run bench`: prints throughput and latency for the key paths, on the
 * embedded database (in memory) or, with DATABASE_URL, on PostgreSQL.
 * Numbers, not assertions: correctness lives in the tests.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";

process.env.KEYGATE_DATA_DIR ??= "memory";
process.env.NEXTAUTH_SECRET ??= "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz";
process.env.ADMIN_API_TOKEN ??= "bench-admin-token-0123456789abcdef";
process.env.KEYGATE_DEMO_ACCOUNT = "off";

interface Result {
  name: string;
  ops: number;
  p50?: number;
  p99?: number;
}

function sync(name: string, iterations: number, fn: () => unknown): Result {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const ms = performance.now() - start;
  return { name, ops: (iterations / ms) * 1000 };
}

async function serial(name: string, iterations: number, fn: () => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < 50; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const ms = performance.now() - start;
  samples.sort((a, b) => a - b);
  return {
    name,
    ops: (iterations / ms) * 1000,
    p50: samples[Math.floor(samples.length * 0.5)],
    p99: samples[Math.floor(samples.length * 0.99)],
  };
}

async function main() {
  const { newKey, parseKey, hashKey } = await import("@/lib/keys/format");
  const { SCOPES } = await import("@/lib/keys/scopes");
  const { migrate } = await import("@/lib/migrate");
  const { prisma, closeDb } = await import("@/lib/db");
  const { resolveCaller } = await import("@/lib/auth/caller");
  const { issueSessionToken } = await import("@/lib/auth/session-token");
  const keysRoute = await import("@/app/api/keys/route");

  await migrate();
  const db = await prisma();
  const user = await db.user.create({ data: { email: `bench-${Date.now()}@example.com` } });
  const mk = newKey("management");
  await db.managementKey.create({ data: { userId: user.id, name: "bench", keyHash: mk.hash, keyPrefix: mk.prefix, scopes: [...SCOPES] } });
  for (let i = 0; i < 50; i++) {
    const k = newKey("credit");
    await db.apiKey.create({ data: { userId: user.id, name: `k${i}`, keyType: "credit", keyHash: k.hash, keyPrefix: k.prefix, rpmLimit: 60 } });
  }
  const { token } = await issueSessionToken({ id: user.id, email: user.email, name: null });

  const forged = newKey("credit").key.slice(0, -1) + "0";
  const valid = newKey("credit").key;
  const req = (auth: string) => new Request("http://localhost:3000/api/keys", { headers: { authorization: `Bearer ${auth}`, host: "localhost:3000" } });
  const ctx = { params: Promise.resolve({}) };

  const results: Result[] = [
    sync("newKey() (generate + hash)", 100_000, () => newKey("credit")),
    sync("parseKey() valid key (checksum)", 500_000, () => parseKey(valid)),
    sync("parseKey() forged key, refused without I/O", 500_000, () => parseKey(forged)),
    sync("sha256 of a key", 500_000, () => hashKey(valid)),
    await serial("resolveCaller(Bearer mk_…), from the key cache", 2_000, () => resolveCaller(req(mk.key), "session-or-mk")),
    await serial("resolveCaller(Bearer session JWT)", 2_000, () => resolveCaller(req(token), "session-or-mk")),
    await serial("GET /api/keys (50 keys) via mk_, in process", 1_000, () => keysRoute.GET(req(mk.key), ctx)),
  ];

  const kind = process.env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : "embedded PGlite (in memory)";
  console.log(`Keygate bench — ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, Node ${process.version}, ${kind}\n`);
  const fmt = (n?: number) => (n === undefined ? "" : n.toFixed(3));
  console.log(`${"what".padEnd(52)} ${"ops/s".padStart(12)} ${"p50 ms".padStart(9)} ${"p99 ms".padStart(9)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(52)} ${Math.round(r.ops).toLocaleString("en-US").padStart(12)} ${fmt(r.p50).padStart(9)} ${fmt(r.p99).padStart(9)}`);
  }
  await db.user.delete({ where: { id: user.id } });
  await closeDb();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
