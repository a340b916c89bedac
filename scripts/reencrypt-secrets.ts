/**
 * `npm run secrets:reencrypt`: after changing KEYGATE_ENCRYPTION_KEY (with the
 * old key in KEYGATE_ENCRYPTION_KEY_PREVIOUS), re-encrypts every stored
 * upstream secret and webhook signing secret with the new key, so the previous one can be removed. Safe
 * to run while servers on a shared PostgreSQL are up (they read both keys);
 * with the embedded database, stop the server first: PGlite allows one
 * process per data directory. See docs/operations.md.
 */
import { loadEnvConfig } from "@next/env";

loadEnvConfig(process.cwd(), false);

async function main() {
  const { systemActor } = await import("@/lib/auth/actor");
  const { closeDb } = await import("@/lib/db");
  const { reencryptUpstreamSecrets } = await import("@/lib/upstreams/service");
  const { reencryptWebhookSecrets } = await import("@/lib/webhooks/service");
  const { reencrypted, failed } = await reencryptUpstreamSecrets(systemActor("secrets-reencrypt"));
  const webhooks = await reencryptWebhookSecrets(systemActor("secrets-reencrypt"));
  console.log(`re-encrypted ${webhooks.reencrypted} webhook signing secret${webhooks.reencrypted === 1 ? "" : "s"} with the current key`);
  if (webhooks.failed.length) {
    console.error(
      `could not decrypt the signing secrets of webhooks ${webhooks.failed.join(", ")}: set the key they were written with as KEYGATE_ENCRYPTION_KEY_PREVIOUS and run this again, or have their owners delete and add them again`,
    );
  }
  console.log(`re-encrypted ${reencrypted} stored secret${reencrypted === 1 ? "" : "s"} with the current key`);
  if (failed.length) {
    console.error(
      `could not decrypt the secrets of ${failed.join(", ")} with KEYGATE_ENCRYPTION_KEY or KEYGATE_ENCRYPTION_KEY_PREVIOUS: set the key they were written with as KEYGATE_ENCRYPTION_KEY_PREVIOUS and run this again, or enter their apiKey and headers again (PUT /api/admin/upstreams/{id})`,
    );
  }
  await closeDb();
  if (failed.length || webhooks.failed.length) process.exit(2);
}

main().catch((err) => {
  console.error(`re-encryption failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
