import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import type { ProxyNetwork } from "@/lib/env";
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

/** The proxies TRUST_PROXY names, as a matcher for peer addresses. */
export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly any: boolean;

  constructor(networks: readonly ProxyNetwork[]) {
    for (const n of networks) this.list.addSubnet(n.address, n.prefix, n.family);
    this.any = networks.length > 0;
  }

  has(address: string): boolean {
    if (!this.any) return false;
    const version = net.isIP(address);
    return version !== 0 && this.list.check(address, version === 4 ? "ipv4" : "ipv6");
  }
}

/**
 * An address as a client-address key: an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, a dual-stack socket's view of an IPv4 peer) as plain
 * IPv4; a proxy's `[v6]:port` or `v4:port` without the port. Null when it is
 * not an address at all.
 */
export function normalizeAddress(text: string): string | null {
  let a = text.trim();
  if (a.startsWith("[")) {
    const close = a.indexOf("]");
    if (close < 0) return null;
    a = a.slice(1, close);
  } else if (a.indexOf(":") > 0 && a.indexOf(":") === a.lastIndexOf(":")) {
    a = a.slice(0, a.indexOf(":"));
  }
  const version = net.isIP(a);
  if (version === 0) return null;
  if (version === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) return a.slice(7);
  return a;
}

/**
 * Decides what the X-Forwarded-* headers say before Next or the gateway
 * reads them. Next builds the request URL's scheme from X-Forwarded-Proto,
 * serverOrigin() (lib/auth/caller.ts) reads X-Forwarded-Host, and
 * per-address limits read the first X-Forwarded-For entry, so:
 * - from a peer that is not a trusted proxy (TRUST_PROXY), all of them came
 *   from the client: X-Forwarded-Proto/Host/Port and X-Real-IP are dropped
 *   (Next fills in its own from the socket) and X-Forwarded-For becomes the
 *   socket's address;
 * - from a trusted proxy, X-Forwarded-Proto/Host/Port are kept, and
 *   X-Forwarded-For becomes the one client address: the right-most hop that
 *   is not itself a trusted proxy. Hops to its left were written by the
 *   client, who can put anything there.
 */
export function resolveForwardedHeaders(req: IncomingMessage, proxies: TrustedProxies): void {
  delete req.headers["x-real-ip"];
  const peer = req.socket?.remoteAddress ? normalizeAddress(req.socket.remoteAddress) : null;
  if (!peer || !proxies.has(peer)) {
    delete req.headers["x-forwarded-proto"];
    delete req.headers["x-forwarded-host"];
    delete req.headers["x-forwarded-port"];
    if (peer) req.headers["x-forwarded-for"] = peer;
    else delete req.headers["x-forwarded-for"];
    return;
  }
  req.headers["x-forwarded-for"] = clientBehind(peer, req.headers["x-forwarded-for"], proxies);
}

/** Walks X-Forwarded-For right to left from a trusted peer to the first hop that is not a trusted proxy. */
function clientBehind(peer: string, forwardedFor: string | string[] | undefined, proxies: TrustedProxies): string {
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "")).split(",");
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!hops[i].trim()) continue;
    const hop = normalizeAddress(hops[i]);
    // A trusted proxy wrote something that is no address ("unknown"): the
    // nearest address it vouched for stands in, rather than a string a
    // client may have chosen.
    if (!hop) break;
    client = hop;
    if (!proxies.has(hop)) break;
  }
  return client;
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
