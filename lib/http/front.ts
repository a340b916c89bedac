import crypto from "node:crypto";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { redisEnabled, redisReady } from "@/lib/cluster/redis";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { handleGateway } from "@/lib/gateway/router";
import { bearerToken } from "@/lib/http/bearer";
import { rejectDuplicateCredentials, resolveForwardedHeaders, sendJson, sendJsonError, TrustedProxies } from "@/lib/http/node-guards";
import { pendingMigrations } from "@/lib/migrate";
import { redact } from "@/lib/log";
import { assignRequestId, logger } from "@/lib/ops/logger";
import { countHttpRequest, metricsRegistry, routeLabel, type RouteLabel } from "@/lib/ops/metrics";
import { startUsageWriter } from "@/lib/usage/writer";

/**
 * The front of Keygate's one process, before Next: a request id, the request
 * count and access log, raw-request checks, the operations endpoints
 * (/healthz, /readyz, /metrics), the gateway's hot path, then Next for
 * everything else. No Next import here, so tests run it with a
 * stand-in for Next's handler.
 */

export type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Header limit: Node's default, stated. Bodies are capped per route (16 KB for the API, 4 MB for inference). */
const MAX_HEADER_BYTES = 16 * 1024;

export function createKeygateServer(next: NextHandler): http.Server {
  const { KEYGATE_REQUEST_TIMEOUT_MS: requestTimeout, TRUST_PROXY } = env();
  const proxies = new TrustedProxies(TRUST_PROXY);
  // From the start, not the first request: it also writes the records a dead instance left in the outbox.
  startUsageWriter();
  const server = http.createServer(
    {
      // A request whose headers and body do not arrive within this gets 408 (a Content-Length that never comes).
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 20_000),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeout / 4))),
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    (req, res) => {
      const started = performance.now();
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const route = routeLabel(path);
      const requestId = assignRequestId(req, res);
      // "close" comes after "finish", and also when the client leaves first.
      res.once("close", () => requestDone(req, res, route, requestId, started));
      if (rejectDuplicateCredentials(req, res)) return;
      if (rejectMalformedUrl(req, res)) return;
      resolveForwardedHeaders(req, proxies);
      if (handleOperations(req, res, path)) return;
      if (handleGateway(req, res)) return;
      next(req, res).catch((err: unknown) => {
        logger().error({ requestId }, `request failed: ${redact(err instanceof Error ? err.message : String(err))}`);
        if (!res.headersSent) sendJsonError(res, 500, "internal_error", "Something went wrong on our side. The request was not completed; please try again.");
        else res.destroy();
      });
    },
  );
  // A client that hangs up mid-request is routine, not an error worth a stack trace.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  return server;
}

/**
 * Counts the request and writes its access-log line. A response that never
 * completed (the client went away) counts as 499, nginx's "client closed
 * request". Only the route label is logged, not the URL: a query string may
 * carry a secret.
 */
function requestDone(req: IncomingMessage, res: ServerResponse, route: RouteLabel, requestId: string, started: number): void {
  const status = res.writableFinished ? res.statusCode : 499;
  countHttpRequest(route, status);
  const log = logger();
  if (log.isLevelEnabled("info")) {
    log.info({ requestId, method: req.method, route, status, durationMs: Math.round((performance.now() - started) * 100) / 100 }, "request");
  }
}

/**
 * A path with a malformed percent-encoding (`/api/keys/%`, `/api/%zz`) gets
 * a 400 here; Next would answer it with an unlogged plain-text 500.
 */
function rejectMalformedUrl(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  try {
    decodeURIComponent(q < 0 ? url : url.slice(0, q));
    return false;
  } catch {
    sendJsonError(res, 400, "invalid_path", "The request path has a malformed percent-encoding (a '%' not followed by two hex digits). Encode '%' as '%25'.");
    return true;
  }
}

/**
 * GET /healthz: the process is up. GET /readyz: the database answers and
 * every migration is applied. GET /metrics: Prometheus metrics.
 */
function handleOperations(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (path !== "/healthz" && path !== "/readyz" && path !== "/metrics") return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    sendJsonError(res, 405, "method_not_allowed", `${path} answers GET.`);
    return true;
  }
  if (path === "/healthz") {
    sendJson(res, 200, { status: "ok" });
    return true;
  }
  if (path === "/metrics") {
    serveMetrics(req, res);
    return true;
  }
  void readiness().then(({ ready, checks }) => sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not_ready", checks }));
  return true;
}

async function readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  try {
    const db = await getDb();
    await db.session((s) => s.query("SELECT 1"));
    checks.database = "ok";
    const pending = await pendingMigrations();
    checks.migrations = pending.length ? `pending: ${pending.join(", ")}` : "ok";
  } catch (err) {
    // The cause goes to the log, not to an unauthenticated caller.
    logger().error(`readiness: the database is unreachable: ${redact(err instanceof Error ? err.message : String(err))}`);
    checks.database = "unreachable";
  }
  // With REDIS_URL the gateway cannot admit anything without Redis (it fails closed), so neither is it ready.
  if (redisEnabled()) checks.redis = (await redisReady()) ? "ok" : "unreachable";
  return { ready: Object.values(checks).every((v) => v === "ok"), checks };
}

/**
 * The metrics in Prometheus's text format. With METRICS_TOKEN set, only for
 * `Authorization: Bearer <METRICS_TOKEN>`; unset, for anyone who can reach
 * the port (keep it on a private network then).
 */
function serveMetrics(req: IncomingMessage, res: ServerResponse): void {
  const token = env().METRICS_TOKEN;
  if (token && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader("WWW-Authenticate", 'Bearer realm="metrics"');
    sendJsonError(res, 401, "unauthorized", "GET /metrics requires 'Authorization: Bearer <METRICS_TOKEN>', the token this server was configured with.");
    return;
  }
  const registry = metricsRegistry();
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": registry.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
      res.end(text);
    },
    (err: unknown) => {
      logger().error(`metrics: collecting failed: ${redact(err instanceof Error ? err.message : String(err))}`);
      sendJsonError(res, 500, "internal_error", "Collecting the metrics failed; please try again.");
    },
  );
}

/** Compares digests, so the time taken says nothing about how much of the token matched, nor its length. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = bearerToken(header) ?? "";
  const digest = (s: string) => crypto.createHash("sha256").update(s).digest();
  return crypto.timingSafeEqual(digest(given), digest(token));
}
