import dns from "node:dns";
import net from "node:net";
import { env } from "@/lib/env";

/**
 * Which addresses a webhook may reach. A webhook URL is chosen by a user and
 * fetched by the server, so without these rules it would be a way into the
 * server's own network (SSRF): the cloud metadata service at 169.254.169.254,
 * a database on 10.x, an admin port on 127.0.0.1. They are checked when a
 * webhook is created and again at every delivery, on the address the
 * connection is actually made to (lib/webhooks/deliver.ts), so a name that
 * resolves to a public address at creation and a private one later (DNS
 * rebinding) is refused too. KEYGATE_WEBHOOKS_ALLOW_PRIVATE=1 lifts them, for
 * a receiver on the operator's own network and for tests.
 */

const blocked = new net.BlockList();
for (const [address, prefix] of [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, with the cloud metadata address
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and the broadcast address
] as const) {
  blocked.addSubnet(address, prefix, "ipv4");
}
for (const [address, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some)
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(address, prefix, "ipv6");
}

/** IPv6 ranges that carry an IPv4 address in their last 32 bits: that address decides. */
const EMBEDDING_V4: ReadonlyArray<readonly [string, number]> = [
  ["::ffff:0:0", 96], // IPv4-mapped
  ["::", 96], // IPv4-compatible (deprecated)
  ["64:ff9b::", 96], // NAT64
];

/** Whether a literal IP address is private, loopback, link-local or otherwise not a public unicast address. */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const version = net.isIP(bare);
  if (version === 4) return blocked.check(bare, "ipv4");
  if (version !== 6) return true; // not an address at all: never connect to it
  const bytes = ipv6Bytes(bare);
  if (!bytes) return true;
  for (const [prefixAddress, prefix] of EMBEDDING_V4) {
    const inRange = new net.BlockList();
    inRange.addSubnet(prefixAddress, prefix, "ipv6");
    if (inRange.check(bare, "ipv6")) {
      const v4 = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      // ::0.0.0.0 and ::1 are covered by the IPv6 rules; the rest by their IPv4 address.
      return blocked.check(bare, "ipv6") || blocked.check(v4, "ipv4");
    }
  }
  return blocked.check(bare, "ipv6");
}

/** The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad expanded), or null. */
function ipv6Bytes(ip: string): number[] | null {
  let text = ip.split("%")[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const p = dotted[1].split(".").map(Number);
    text = text.slice(0, -dotted[1].length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) return null;
  const out: number[] = [];
  for (const g of groups) {
    const n = parseInt(g || "0", 16);
    if (!Number.isFinite(n) || n < 0 || n > 0xffff) return null;
    out.push(n >> 8, n & 0xff);
  }
  return out;
}

export function privateTargetsAllowed(): boolean {
  return env().KEYGATE_WEBHOOKS_ALLOW_PRIVATE === "1";
}

export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemLookup: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

// On globalThis: Next bundles its own copy of lib/, and a test's lookup must reach both.
const globalForLookup = globalThis as unknown as { __keygateWebhookLookup?: LookupAll };

/** Tests: resolve names with `fn` instead of the system resolver (null: the system's again). */
export function setWebhookLookupForTests(fn: LookupAll | null): void {
  globalForLookup.__keygateWebhookLookup = fn ?? undefined;
}

export function lookupAll(hostname: string): Promise<Array<{ address: string; family: number }>> {
  return (globalForLookup.__keygateWebhookLookup ?? systemLookup)(hostname);
}

/** A URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Why this URL may not be a webhook target, or null when it may. The host's
 * addresses are resolved now; a name that does not resolve is accepted here
 * (it may be a receiver not yet deployed) and checked at each delivery.
 */
export async function refusedTarget(raw: string): Promise<string | null> {
  const url = new URL(raw);
  if (privateTargetsAllowed()) return null;
  const host = hostOf(url).toLowerCase();
  if (net.isIP(host)) {
    return isPrivateAddress(host) ? `url points at a private, loopback or link-local address (${host}), which webhooks may not reach` : null;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return `url points at ${host}, a loopback name, which webhooks may not reach`;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookupAll(host);
  } catch {
    return null;
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  return bad ? `url's host ${host} resolves to a private, loopback or link-local address (${bad.address}), which webhooks may not reach` : null;
}
