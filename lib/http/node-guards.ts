import type { IncomingMessage, ServerResponse } from "node:http";
import { CREDENTIAL_HEADERS, duplicateCredentialsMessage } from "@/lib/http/request";

/**
 * Checks on the raw node:http request, made in server.ts before Next (or a
 * plain hot-path handler) sees it. They exist because Node's parser loses
 * information on the way to `req.headers`, and with it to Next's Request.
 * No Next imports here: the gateway's fast path uses these too.
 */

const CREDENTIAL_HEADER_NAMES: ReadonlySet<string> = new Set(CREDENTIAL_HEADERS);

/**
 * Answers 400 duplicate_credentials, and returns true (handled), when a
 * request carries Authorization or x-api-key more than once. Node keeps only
 * the first Authorization in `req.headers` and drops the rest, so a proxy in
 * front that reads the last one would authorize a different caller than we
 * do; only `rawHeaders` still shows the repeat.
 */
export function rejectDuplicateCredentials(req: IncomingMessage, res: ServerResponse): boolean {
  const seen = new Set<string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (!CREDENTIAL_HEADER_NAMES.has(name)) continue;
    if (seen.has(name)) {
      sendJsonError(res, 400, "duplicate_credentials", duplicateCredentialsMessage(name));
      return true;
    }
    seen.add(name);
  }
  return false;
}

/**
 * Unless a trusted proxy sets them (KEYGATE_TRUST_PROXY), the X-Forwarded-*
 * headers come from the client. Next builds the request URL's scheme from
 * X-Forwarded-Proto when present, so they are dropped here and Next fills
 * them in from the socket instead; X-Forwarded-For becomes the socket's
 * address, so per-address limits count the real peer, not a chosen one.
 */
export function dropUntrustedForwardedHeaders(req: IncomingMessage, trustProxy: boolean): void {
  if (trustProxy) return;
  delete req.headers["x-forwarded-proto"];
  delete req.headers["x-forwarded-host"];
  delete req.headers["x-forwarded-port"];
  delete req.headers["x-real-ip"];
  const peer = req.socket?.remoteAddress;
  if (peer) req.headers["x-forwarded-for"] = peer;
  else delete req.headers["x-forwarded-for"];
}

/** A JSON answer written without Next. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}

/** The native error envelope, written without Next. */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { success: false, error: { code, message } });
}
