import { boot } from "@/lib/boot";
import { env, listenHost } from "@/lib/env";
import { createKeygateServer } from "@/lib/http/front";
import { logger } from "@/lib/ops/logger";

/**
 * `bench:gateway`'s target (j): Keygate's front server without Next. The same
 * start-up (lib/boot.ts) and the same front (lib/http/front.ts) as server.ts,
 * but everything the front does not answer itself gets 404 instead of going
 * to Next, and Next is never loaded: no instrumentation of its own in the
 * process (its AsyncLocalStorage instances, its patched fetch). Run beside
 * (b) on the same database, it measures what sharing the process with Next
 * costs the gateway. Not a way to run Keygate: it has no dashboard and no
 * management API.
 */
async function main(): Promise<void> {
  await boot();
  const server = createKeygateServer(async (_req, res) => void res.writeHead(404).end());
  server.listen(env().PORT, listenHost(), () => logger().info(`gateway only, listening on port ${env().PORT}`));
  process.on("SIGTERM", () => process.exit(143));
}

main().catch((err: unknown) => {
  logger().fatal(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
