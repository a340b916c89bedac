import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { handleGateway } from "@/lib/gateway/handler";
import { dropUntrustedForwardedHeaders, rejectDuplicateCredentials, sendJson, sendJsonError } from "@/lib/http/node-guards";
import { pendingMigrations } from "@/lib/migrate";
import { redact } from "@/lib/log";

/**
 * The front of Keygate's one process, before Next: raw-request checks, the
 * operations endpoints (/healthz, /readyz), the gateway's hot path, then
 * Next for everything else. No Next import here, so tests run it with a
 * stand-in for Next's handler.
 */

export type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Header limit: Node's default, stated. Bodies are capped per route (16 KB for the API, 4 MB for inference). */
const MAX_HEADER_BYTES = 16 * 1024;

export function createKeygateServer(next: NextHandler): http.Server {
  const { KEYGATE_REQUEST_TIMEOUT_MS: requestTimeout, KEYGATE_TRUST_PROXY: trustProxy } = env();
  const server = http.createServer(
    {
      // A request whose headers and body do not arrive within this gets 408 (a Content-Length that never comes).
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 20_000),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeout / 4))),
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    (req, res) => {
      if (rejectDuplicateCredentials(req, res)) return;
      if (rejectMalformedUrl(req, res)) return;
      dropUntrustedForwardedHeaders(req, trustProxy);
      if (handleOperations(req, res)) return;
      if (handleGateway(req, res)) return;
      next(req, res).catch((err: unknown) => {
        console.error("[keygate] request failed:", redact(err instanceof Error ? err.message : String(err)));
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

/** GET /healthz: the process is up. GET /readyz: the database answers and every migration is applied. */
function handleOperations(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/healthz" && path !== "/readyz") return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    sendJsonError(res, 405, "method_not_allowed", `${path} answers GET.`);
    return true;
  }
  if (path === "/healthz") {
    sendJson(res, 200, { status: "ok" });
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
    console.error(`[keygate] readiness: the database is unreachable: ${redact(err instanceof Error ? err.message : String(err))}`);
    checks.database = "unreachable";
  }
  return { ready: Object.values(checks).every((v) => v === "ok"), checks };
}
