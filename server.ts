import next from "next";
import { closeDb } from "@/lib/db";
import { env, listenHost } from "@/lib/env";
import { drainGateway } from "@/lib/gateway/proxy";
import { limits } from "@/lib/limits";
import { drainUsage } from "@/lib/usage/writer";
import { stopSubscriptionSweep } from "@/lib/subscriptions/sweep";
import { stopWebhookWorker } from "@/lib/webhooks/worker";
import { createKeygateServer } from "@/lib/http/front";
import { logger } from "@/lib/ops/logger";

/**
 * Keygate's one process: a node:http server that checks every raw request,
 * answers the gateway's hot path (/v1/*, POST /api/keys/verify) with plain
 * handlers, because Next's routing costs ~40x a plain handler (see
 * docs/benchmarks.md), and hands everything else to Next (pages, /api route
 * handlers). Run through tsx (scripts/start.mjs).
 * Shared state lives on globalThis: Next bundles its own copy of lib/.
 */

async function main() {
  const { PORT: port, NODE_ENV } = env();
  const dev = NODE_ENV === "development";
  const hostname = listenHost();
  // Without a configured public URL, NextAuth takes its own from each request's
  // Host, so sign-in redirects and cookies follow the address the browser used
  // (127.0.0.1, a LAN name…) instead of a guessed localhost. The X-Forwarded-*
  // headers it would also read are the socket's own unless a proxy is trusted.
  if (!env().NEXTAUTH_URL) {
    // next-auth's client module parses a blank NEXTAUTH_URL as a URL and throws.
    delete process.env.NEXTAUTH_URL;
    process.env.AUTH_TRUST_HOST = "1";
  }
  const app = next({ dev, dir: import.meta.dirname, hostname, port });
  const handle = app.getRequestHandler();
  // Runs instrumentation.ts: migrations and the demo account, before the first request.
  await app.prepare();

  const server = createKeygateServer(handle);

  server.on("error", (err: NodeJS.ErrnoException) => {
    const where = `${hostname ?? "all interfaces"} port ${port}`;
    logger().fatal(
      err.code === "EADDRINUSE" ? `cannot listen on ${where}: it is already in use. Set PORT to a free one.` : `cannot listen on ${where}: ${err.message}`,
    );
    process.exit(1);
  });

  server.listen(port, hostname, () => {
    const shown = !hostname || hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname.includes(":") ? `[${hostname}]` : hostname;
    const scope = !hostname
      ? " (all interfaces)"
      : hostname === "127.0.0.1" && !env().HOST
        ? " (this machine only, because a demo login is printed; set HOST=0.0.0.0 to listen on every interface)"
        : "";
    logger().info({ url: `http://${shown}:${port}`, dev }, `listening on http://${shown}:${port}${scope}${dev ? " in development mode" : ""}`);
  });

  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger().info({ signal }, `${signal}: shutting down`);
      const code = signal === "SIGINT" ? 130 : 143;
      // Stop accepting; in-flight gateway requests get a grace period, then are
      // aborted and settled; usage is flushed; then the database is closed.
      // A hard limit ends it regardless.
      setTimeout(() => process.exit(code), 20_000).unref();
      server.close();
      server.closeIdleConnections();
      void (async () => {
        try {
          stopSubscriptionSweep();
          await drainGateway(10_000);
          // Attempts in progress finish (5 s at most each); what is left is claimed again by any instance.
          await stopWebhookWorker();
          await drainUsage();
          // Settlements still waiting for Redis (with REDIS_URL) go now, not when a timer would have fired.
          await limits().close();
          // PGlite writes to its data directory: close it cleanly.
          await closeDb();
        } catch (err) {
          logger().error(`shutting down: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          process.exit(code);
        }
      })();
    });
  }
}

main().catch((err: unknown) => {
  logger().fatal(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
