import net from "node:net";
import type { LookupFunction } from "node:net";
import { Agent, request } from "undici";
import { Webhook } from "standardwebhooks";
import { hostOf, isPrivateAddress, lookupAll, privateTargetsAllowed } from "@/lib/webhooks/address";

/**
 * One delivery attempt: POST the event, signed the Standard Webhooks way
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 of
 * `id.timestamp.body` with the webhook's secret), within 5 seconds, never
 * following a redirect. Success is a 2xx answer; anything else (another
 * status, a refused or slow connection, a refused address) is a failure the
 * worker retries on its schedule.
 */

export const DELIVERY_TIMEOUT_MS = 5_000;

export class RefusedAddressError extends Error {
  override name = "RefusedAddressError";
}

/**
 * Resolves the host and refuses private addresses before connecting, handing
 * the socket the very address it checked: nothing resolves the name again
 * between the check and the connection, so DNS rebinding cannot swap it.
 */
const checkedLookup: LookupFunction = (hostname, options, callback) => {
  lookupAll(hostname).then(
    (found) => {
      const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
      if (!wanted.length) {
        callback(Object.assign(new Error(`${hostname} does not resolve`), { code: "ENOTFOUND" }), "", 0);
        return;
      }
      const allowed = privateTargetsAllowed();
      const bad = wanted.find((a) => isPrivateAddress(a.address));
      if (bad && !allowed) {
        callback(new RefusedAddressError(`${hostname} resolves to ${bad.address}, a private, loopback or link-local address`), "", 0);
        return;
      }
      if (options.all) (callback as unknown as (err: null, addresses: Array<{ address: string; family: number }>) => void)(null, wanted);
      else callback(null, wanted[0].address, wanted[0].family);
    },
    (err: Error) => callback(err as NodeJS.ErrnoException, "", 0),
  );
};

const globalForAgent = globalThis as unknown as { __keygateWebhookAgent?: Agent };

function agent(): Agent {
  return (globalForAgent.__keygateWebhookAgent ??= new Agent({
    connect: { lookup: checkedLookup, timeout: DELIVERY_TIMEOUT_MS },
    headersTimeout: DELIVERY_TIMEOUT_MS,
    bodyTimeout: DELIVERY_TIMEOUT_MS,
    // A receiver behind one address now may be behind another at the next delivery: no pooled sockets outlive a check by long.
    keepAliveTimeout: 1_000,
    connections: 16,
  }));
}

export interface AttemptResult {
  ok: boolean;
  /** The receiver's status; null when none answered. */
  statusCode: number | null;
  error?: string;
}

export interface SignedEvent {
  id: string;
  type: string;
  /** When the event happened: the body's `timestamp`. */
  createdAt: Date;
  data: unknown;
}

/** The exact bytes sent: `{type, timestamp, data}`. */
export function eventBody(e: SignedEvent): string {
  return JSON.stringify({ type: e.type, timestamp: e.createdAt.toISOString(), data: e.data });
}

/** The Standard Webhooks headers for this body, signed at `sentAt`. */
export function signatureHeaders(secret: string, e: SignedEvent, body: string, sentAt: Date): Record<string, string> {
  return {
    "webhook-id": e.id,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(e.id, sentAt, body),
  };
}

export async function attemptDelivery(url: string, secret: string, e: SignedEvent, sentAt: Date): Promise<AttemptResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, statusCode: null, error: "the URL is not valid" };
  }
  // A literal address is connected to without any lookup, so it is checked here.
  const host = hostOf(target);
  if (net.isIP(host) && isPrivateAddress(host) && !privateTargetsAllowed()) {
    return { ok: false, statusCode: null, error: `refused: ${host} is a private, loopback or link-local address` };
  }
  const body = eventBody(e);
  try {
    const res = await request(target, {
      method: "POST",
      dispatcher: agent(),
      headers: {
        "content-type": "application/json",
        "user-agent": "Keygate-Webhooks/1",
        ...signatureHeaders(secret, e, body, sentAt),
      },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    // What the receiver says is not used; drain it (bounded by the timeout) so the socket can be reused.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return { ok: res.statusCode >= 200 && res.statusCode < 300, statusCode: res.statusCode };
  } catch (err) {
    const refused = err instanceof RefusedAddressError || (err instanceof Error && err.cause instanceof RefusedAddressError);
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, statusCode: null, error: refused ? `refused: ${message}` : message };
  }
}
