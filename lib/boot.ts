import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { systemActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { authSecret, dataDir, demoAccountEnabled, env, publicOrigin, usesEmbeddedDatabase } from "@/lib/env";
import { migrate } from "@/lib/migrate";
import { appendEntry } from "@/lib/billing/ledger";
import { usdToMicros } from "@/lib/billing/money";
import { hashPassword } from "@/lib/auth/password";
import { RESERVED_MODEL_NAME } from "@/lib/models/schemas";
import { startSubscriptionSweep } from "@/lib/subscriptions/sweep";
import { startWebhookWorker } from "@/lib/webhooks/worker";
import { startRequestLogRetention } from "@/lib/usage/retention";
import { startIdempotencySweep } from "@/lib/writes/idempotency";
import { logger } from "@/lib/ops/logger";
import { write } from "@/lib/writes/unit";

/**
 * Start-up: validate configuration, apply migrations, and on an empty embedded
 * database create a demo account and a demo pool so a new user can sign in
 * and try both kinds of key at once; then start the subscription sweep, the
 * webhook delivery worker and the request log's retention.
 */

export const DEMO_EMAIL = "demo@keygate.local";
const DEMO_CREDIT_USD = 5;

export async function boot(): Promise<void> {
  const e = env();
  authSecret();
  const { applied } = await migrate();
  const where = usesEmbeddedDatabase() ? `embedded PostgreSQL in ${path.join(dataDir(), "pglite")}` : "PostgreSQL (DATABASE_URL)";
  logger().info(`database: ${where}; ${applied.length ? `applied ${applied.join(", ")}` : "schema up to date"}`);
  if (demoAccountEnabled() && e.KEYGATE_DATA_DIR !== "memory") {
    await ensureDemoAccount();
    await ensureDemoPool();
  }
  // Charges auto-renewals and expires ended subscriptions: now, then every 30 s.
  startSubscriptionSweep();
  // Delivers webhook events (every second) and notices subscriptions about to end (every minute).
  startWebhookWorker();
  // Deletes request log rows older than KEYGATE_REQUEST_LOG_DAYS: now, then every 10 minutes.
  startRequestLogRetention();
  // Erases held Idempotency-Key answers (a rotation's new secret, encrypted) once their 10 minutes are over: every minute.
  startIdempotencySweep();
  if (!e.ADMIN_API_TOKEN) logger().info("admin API off (set ADMIN_API_TOKEN to grant credits)");
}

async function ensureDemoAccount(): Promise<void> {
  const file = path.join(dataDir(), "demo-account.txt");
  const db = await prisma();
  if ((await db.user.count()) === 0) {
    const password = crypto.randomBytes(12).toString("base64url");
    const passwordHash = await hashPassword(password);
    // A system row in the demo account's log, so its owner sees where the account and its credit came from.
    await write(systemActor("boot", { action: "account.create", targetType: "user" }), async (tx, after) => {
      const user = await tx.user.create({ data: { email: DEMO_EMAIL, name: "Demo", passwordHash } });
      await appendEntry(tx, after, { userId: user.id, kind: "grant", amountMicros: usdToMicros(DEMO_CREDIT_USD), note: "Demo credit" });
      after.audit({ targetId: user.id, accountId: user.id, changes: { email: [null, user.email], name: [null, user.name], balanceUsd: [0, DEMO_CREDIT_USD] } });
    });
    // Kept beside the database so later starts can print it again; the
    // database itself holds only the argon2 hash.
    fs.mkdirSync(dataDir(), { recursive: true });
    fs.writeFileSync(file, `${DEMO_EMAIL}\n${password}\n`, { mode: 0o600 });
  }
  if (!fs.existsSync(file)) return;
  const [email, password] = fs.readFileSync(file, "utf8").split("\n");
  logger().info(`demo account: ${email} / ${password}  (sign in at ${publicOrigin()}/sign-in; delete ${file} to stop printing this)`);
}

/** One pool serving the demo model, so the subscription flow works out of the box (the demo credit pays for a block). */
async function ensureDemoPool(): Promise<void> {
  const db = await prisma();
  if ((await db.pool.count()) > 0) return;
  await db.pool.create({
    data: { name: "Demo pool", models: [RESERVED_MODEL_NAME], blockHours: 6, capacity: 5, pricePerBlockMicros: usdToMicros(1) },
  });
  logger().info(`demo pool: "Demo pool" serves ${RESERVED_MODEL_NAME} in four 6-hour blocks, $1 per block per 30 days`);
}
