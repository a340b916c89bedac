/**
 * One webhook worker as its own process, for test/webhooks.test.ts: on the
 * PostgreSQL of DATABASE_URL, it waits until START_AT (epoch ms, so several
 * processes begin together), runs delivery rounds until one finds nothing
 * due, prints "attempted <n>" and exits.
 *
 *   START_AT=… DATABASE_URL=… node --import tsx test/webhook-worker.ts
 */
import { closeDb } from "@/lib/db";
import { runDeliveries } from "@/lib/webhooks/worker";

async function main() {
  const wait = Number(process.env.START_AT ?? 0) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  let attempted = 0;
  for (;;) {
    const n = await runDeliveries();
    attempted += n;
    if (n === 0) break;
  }
  console.log(`attempted ${attempted}`);
  await closeDb();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
