import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import net from "node:net";
import { z } from "zod";

/**
 * The one place that reads process.env. Values are validated once, lazily:
 * `next build` imports route modules, and nothing may fail or touch the disk
 * at import time.
 */

const blankIsUnset = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(blankIsUnset, z.string().optional());

// Secrets people paste from examples. A deployment running on one of these is
// as good as unauthenticated.
const PLACEHOLDER_SECRETS = new Set(["secret", "changeme", "change-me", "your-secret", "development", "keygate"]);

/** One trusted network: an address is a network with the full prefix. */
export interface ProxyNetwork {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

const PROXY_SHORTHANDS: Record<string, readonly ProxyNetwork[]> = {
  loopback: [
    { address: "127.0.0.0", prefix: 8, family: "ipv4" },
    { address: "::1", prefix: 128, family: "ipv6" },
  ],
  private: [
    { address: "10.0.0.0", prefix: 8, family: "ipv4" },
    { address: "172.16.0.0", prefix: 12, family: "ipv4" },
    { address: "192.168.0.0", prefix: 16, family: "ipv4" },
    { address: "fc00::", prefix: 7, family: "ipv6" },
  ],
};

/** TRUST_PROXY's entries as networks, and the entries that are none. */
export function parseTrustProxy(value: string): { networks: ProxyNetwork[]; invalid: string[] } {
  const networks: ProxyNetwork[] = [];
  const invalid: string[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const shorthand = PROXY_SHORTHANDS[entry.toLowerCase()];
    if (shorthand) {
      networks.push(...shorthand);
      continue;
    }
    const slash = entry.indexOf("/");
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const version = net.isIP(address);
    const max = version === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1);
    const prefix = Number(prefixText);
    // A zone (fe80::1%eth0) names an interface, not a network.
    if (!version || address.includes("%") || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
      invalid.push(entry);
      continue;
    }
    networks.push({ address, prefix, family: version === 4 ? "ipv4" : "ipv6" });
  }
  return { networks, invalid };
}

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(65535).default(3000)),
  DATABASE_URL: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// connection string")
      .optional(),
  ),
  NEXTAUTH_SECRET: z.preprocess(
    blankIsUnset,
    z
      .string()
      .min(32, "NEXTAUTH_SECRET must be at least 32 characters (try: openssl rand -base64 32)")
      .refine((s) => !PLACEHOLDER_SECRETS.has(s.toLowerCase()), "NEXTAUTH_SECRET is a placeholder; generate a real one")
      .optional(),
  ),
  NEXTAUTH_URL: z.preprocess(blankIsUnset, z.url().optional()),
  ADMIN_API_TOKEN: z.preprocess(blankIsUnset, z.string().min(24, "ADMIN_API_TOKEN must be at least 24 characters").optional()),
  // Operators: signed-in users whose session is accepted on /api/admin/* as ADMIN_API_TOKEN is.
  // Comma-separated emails, compared case-insensitively.
  KEYGATE_ADMIN_EMAILS: z.preprocess(blankIsUnset, z.string().optional()).transform((value, ctx) => {
    const emails = (value ?? "")
      .split(",")
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean);
    for (const bad of emails.filter((e) => !/^[^\s@]+@[^\s@]+$/.test(e))) {
      ctx.addIssue({ code: "custom", message: `KEYGATE_ADMIN_EMAILS entry "${bad}" is not an email address` });
    }
    return new Set(emails);
  }),
  // The key upstream credentials are encrypted with (HKDF-SHA256 → AES-256-GCM); unset means derived
  // from the session secret. _PREVIOUS is the key before a change, still accepted for reading.
  KEYGATE_ENCRYPTION_KEY: z.preprocess(
    blankIsUnset,
    z
      .string()
      .min(32, "KEYGATE_ENCRYPTION_KEY must be at least 32 characters (try: openssl rand -base64 32)")
      .refine((s) => !PLACEHOLDER_SECRETS.has(s.toLowerCase()), "KEYGATE_ENCRYPTION_KEY is a placeholder; generate a real one")
      .optional(),
  ),
  KEYGATE_ENCRYPTION_KEY_PREVIOUS: z.preprocess(blankIsUnset, z.string().min(1).optional()),
  // Shared state for several instances (limits, reservations, leases, revocation,
  // sign-in limits): redis://[user:password@]host:port[/db]. Unset means one
  // process keeps it in memory.
  REDIS_URL: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^rediss?:\/\//, "REDIS_URL must be a redis:// or rediss:// URL")
      .optional(),
  ),
  KEYGATE_DATA_DIR: z.preprocess(blankIsUnset, z.string().default(".data")),
  // Where the embedded database runs: on a thread of its own (lib/pglite-thread.ts),
  // or `main`, in the server's own thread as before (for comparison in benchmarks).
  KEYGATE_PGLITE_THREAD: z.preprocess(blankIsUnset, z.enum(["worker", "main"]).default("worker")),
  // auto: on for the embedded database (a local try-out), off on a shared
  // PostgreSQL, where a demo login printed to the logs would be a hole.
  KEYGATE_DEMO_ACCOUNT: z.preprocess(blankIsUnset, z.enum(["auto", "on", "off"]).default("auto")),
  // The interface server.ts listens on; unset means every interface.
  HOST: optionalString,
  // The reverse proxies whose X-Forwarded-For/-Host/-Proto are believed: a
  // comma-separated list of addresses, CIDRs, `loopback` and `private`. Unset
  // trusts none: without a proxy those headers come straight from the client,
  // who could choose its own address or make a foreign page look like ours.
  TRUST_PROXY: z.preprocess(blankIsUnset, z.string().optional()).transform((value, ctx) => {
    const parsed = parseTrustProxy(value ?? "");
    for (const bad of parsed.invalid) {
      ctx.addIssue({
        code: "custom",
        message: `TRUST_PROXY entry "${bad}" is not an IP address, a CIDR (10.0.0.0/8, fd00::/8), "loopback" or "private"`,
      });
    }
    return parsed.networks;
  }),
  // Replaced by TRUST_PROXY. Refused rather than mapped: the old `true`
  // believed any peer, and no list of networks says the same thing safely.
  KEYGATE_TRUST_PROXY: z.preprocess(
    blankIsUnset,
    z
      .undefined({
        error:
          "KEYGATE_TRUST_PROXY was replaced by TRUST_PROXY, the list of proxies to trust: remove it, and behind a proxy set e.g. TRUST_PROXY=loopback (a proxy on this machine), TRUST_PROXY=10.0.0.5 or TRUST_PROXY=10.0.0.0/8 (its address or network), or TRUST_PROXY=loopback,private",
      })
      .optional(),
  ),
  // Bearer token GET /metrics requires; unset serves the metrics to anyone who can reach the port.
  METRICS_TOKEN: z.preprocess(blankIsUnset, z.string().min(16, "METRICS_TOKEN must be at least 16 characters (try: openssl rand -hex 24)").optional()),
  // Unset means info, or silent under NODE_ENV=test.
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : v),
    z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .optional(),
  ),
  KEYGATE_SIGNUPS_PER_HOUR: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).default(20)),
  // Upstreams, with the official SDKs' conventions: OPENAI_BASE_URL includes
  // /v1, ANTHROPIC_BASE_URL does not.
  OPENAI_BASE_URL: z.preprocess(blankIsUnset, z.url().optional()),
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: z.preprocess(blankIsUnset, z.url().optional()),
  ANTHROPIC_API_KEY: optionalString,
  // The built-in keygate/echo model: auto means on while no real upstream is configured.
  KEYGATE_DEMO_UPSTREAM: z.preprocess(blankIsUnset, z.enum(["auto", "on", "off"]).default("auto")),
  // How long the gateway waits for an upstream's response headers, and then between two chunks.
  KEYGATE_UPSTREAM_TIMEOUT_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(1000).default(600_000)),
  // Routing (lib/gateway/routing.ts): attempts per request across a model's routes, and how long a failing upstream is skipped.
  KEYGATE_MAX_ATTEMPTS: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(10).default(3)),
  KEYGATE_COOLDOWN_S: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(86_400).default(30)),
  KEYGATE_COOLDOWN_AFTER_FAILURES: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(1_000_000_000).default(3)),
  // A client must deliver its whole request (headers and body) within this, or it gets 408.
  KEYGATE_REQUEST_TIMEOUT_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(100).max(3_600_000).default(30_000)),
  // How long a credit key's reservation and a subscription key's one slot live without renewal: an
  // instance renews them every third of it while the request runs, and one that crashed frees them within it.
  KEYGATE_LEASE_TTL_S: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(3600).default(30)),
  // How often each process writes waiting usage records (lib/usage/writer.ts); tests lengthen it to open a crash window.
  KEYGATE_USAGE_FLUSH_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(50).max(600_000).default(1_000)),
  // How long a usage record given to a writer may wait unacknowledged before another process claims it (its writer died).
  // The Redis stream of usage records waiting to be written: one name for every instance of a deployment (tests give each file its own).
  KEYGATE_USAGE_STREAM: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,100}$/)
      .default("kg:usage"),
  ),
  KEYGATE_USAGE_CLAIM_IDLE_MS: z.preprocess(blankIsUnset, z.coerce.number().int().min(100).max(3_600_000).default(10_000)),
  // Alerts by webhook: 1 lets webhooks reach private, loopback and link-local addresses (a receiver on the same network, tests).
  KEYGATE_WEBHOOKS_ALLOW_PRIVATE: z.preprocess(blankIsUnset, z.enum(["0", "1"], { error: "KEYGATE_WEBHOOKS_ALLOW_PRIVATE must be 0 or 1" }).default("0")),
  // Days a request log row (UsageRecord) is kept; the daily rollups behind GET /api/usage are kept for good (lib/usage/retention.ts).
  KEYGATE_REQUEST_LOG_DAYS: z.preprocess(blankIsUnset, z.coerce.number().int().min(1).max(36_500).default(30)),
  GITHUB_ID: optionalString,
  GITHUB_SECRET: optionalString,
  // Card top-ups through Stripe Checkout: on only when both are set.
  STRIPE_SECRET_KEY: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(
        /^(sk|rk)_(test|live)_/,
        "STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_…, sk_test_…) or a restricted key (rk_…), not the publishable pk_… key",
      )
      .optional(),
  ),
  STRIPE_WEBHOOK_SECRET: z.preprocess(
    blankIsUnset,
    z.string().startsWith("whsec_", "STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_…)").optional(),
  ),
  // Tests only: where the Stripe client sends API calls (a local fake, or
  // stripe-mock), e.g. http://127.0.0.1:12111. Unset means Stripe itself.
  STRIPE_API_BASE: z.preprocess(blankIsUnset, z.url({ protocol: /^https?$/ }).optional()),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

let cached: Env | undefined;

export function env(): Env {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "env"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  cached = parsed.data;
  return cached;
}

/** Tests change process.env between cases; this drops the cached parse. */
export function resetEnvCache(): void {
  cached = undefined;
  cachedSecret = undefined;
}

/** `memory` keeps the embedded database in memory (tests); anything else is a directory. */
export function dataDir(): string {
  return path.resolve(env().KEYGATE_DATA_DIR);
}

/**
 * Whether start-up creates (and prints) the demo account: `auto` means on the
 * embedded database only, never on a shared PostgreSQL.
 */
export function demoAccountEnabled(): boolean {
  const e = env();
  return e.KEYGATE_DEMO_ACCOUNT === "auto" ? usesEmbeddedDatabase() : e.KEYGATE_DEMO_ACCOUNT === "on";
}

/**
 * The interface the server listens on: HOST, else loopback only while a demo
 * login is printed at start (anyone who could reach the port could use it),
 * else every interface (undefined).
 */
export function listenHost(): string | undefined {
  return env().HOST ?? (demoAccountEnabled() ? "127.0.0.1" : undefined);
}

/**
 * Where people reach this Keygate when no request says so (start-up
 * messages): NEXTAUTH_URL, else the address the server listens on. Pages use
 * the address the browser used instead.
 */
export function publicOrigin(): string {
  const e = env();
  if (e.NEXTAUTH_URL) return new URL(e.NEXTAUTH_URL).origin;
  const host = listenHost();
  const shown = !host || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${e.PORT}`;
}

/** Whether keygate/echo is served: `auto` means while no real upstream is configured. */
export function demoUpstreamEnabled(): boolean {
  const e = env();
  if (e.KEYGATE_DEMO_UPSTREAM !== "auto") return e.KEYGATE_DEMO_UPSTREAM === "on";
  return !(e.OPENAI_BASE_URL || e.OPENAI_API_KEY || e.ANTHROPIC_BASE_URL || e.ANTHROPIC_API_KEY);
}

/** Whether this email belongs to an operator (KEYGATE_ADMIN_EMAILS, case-insensitive). */
export function isOperatorEmail(email: string): boolean {
  return env().KEYGATE_ADMIN_EMAILS.has(email.trim().toLowerCase());
}

/** Stripe's keys when card top-ups are on (both are set), else null. */
export function stripeSettings(): { secretKey: string; webhookSecret: string; apiBase?: URL } | null {
  const e = env();
  if (!e.STRIPE_SECRET_KEY || !e.STRIPE_WEBHOOK_SECRET) return null;
  return {
    secretKey: e.STRIPE_SECRET_KEY,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET,
    apiBase: e.STRIPE_API_BASE ? new URL(e.STRIPE_API_BASE) : undefined,
  };
}

export function usesEmbeddedDatabase(): boolean {
  return !env().DATABASE_URL;
}

let cachedSecret: string | undefined;

/**
 * The NextAuth secret: NEXTAUTH_SECRET, or one generated on first start and
 * kept in the data directory so sessions survive restarts with zero setup.
 * A shared database means several instances may serve it, and each would
 * generate its own secret, so there an explicit secret is required.
 */
export function authSecret(): string {
  if (cachedSecret) return cachedSecret;
  const e = env();
  if (e.NEXTAUTH_SECRET) return (cachedSecret = e.NEXTAUTH_SECRET);
  if (e.NODE_ENV === "production" && e.DATABASE_URL) {
    throw new ConfigError(
      "NEXTAUTH_SECRET is required when DATABASE_URL is set in production: every instance must sign sessions with the same secret (try: openssl rand -base64 32)",
    );
  }
  if (e.KEYGATE_DATA_DIR === "memory") {
    throw new ConfigError("NEXTAUTH_SECRET must be set when KEYGATE_DATA_DIR=memory (there is nowhere to keep a generated one)");
  }
  const file = path.join(dataDir(), "auth-secret");
  try {
    cachedSecret = fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(dataDir(), { recursive: true });
    cachedSecret = crypto.randomBytes(32).toString("base64url");
    // wx: two processes racing on first start must not overwrite each other.
    try {
      fs.writeFileSync(file, cachedSecret + "\n", { mode: 0o600, flag: "wx" });
    } catch {
      cachedSecret = fs.readFileSync(file, "utf8").trim();
    }
  }
  return cachedSecret;
}
