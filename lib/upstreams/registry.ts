import { sharedCache } from "@/lib/cache/epoch-cache";
import { announce, onInvalidation } from "@/lib/cluster/coherence";
import { decryptSecret, SecretDecryptionError } from "@/lib/crypto/secrets";
import { prisma } from "@/lib/db";
import { env, type Env } from "@/lib/env";
import { logger } from "@/lib/ops/logger";
import type { Upstream } from "@/generated/prisma/client.ts";

/**
 * The upstreams the gateway can send to, with their secrets decrypted, from
 * memory: the Upstream table is read once, then again only after a write to
 * it (the unit of work calls upstreamsChanged after commit, and other
 * instances hear of it through lib/cluster/coherence.ts), so no request
 * reads the database for it. The environment's OPENAI_* / ANTHROPIC_*
 * upstreams are included as read-only `env-openai` / `env-anthropic`.
 */

export interface UpstreamRecord {
  name: string;
  protocol: "openai" | "anthropic";
  baseUrl: string;
  apiKey: string | null;
  headers: Record<string, string>;
  timeoutMs: number | null;
  active: boolean;
  readOnly: boolean;
}

export const ENV_OPENAI = "env-openai";
export const ENV_ANTHROPIC = "env-anthropic";
/** Names only the environment's upstreams may have. */
export const ENV_UPSTREAM_NAMES: readonly string[] = [ENV_OPENAI, ENV_ANTHROPIC];

export const API_KEY_CONTEXT = "upstream.apiKey";
export const HEADERS_CONTEXT = "upstream.headers";

/**
 * The environment's upstreams, read here rather than from lib/gateway (domains
 * never import the gateway). Same rules as the protocol adapters' envUpstream:
 * configured when the base URL or the key is set, with the SDKs' default URLs.
 */
export function environmentUpstreams(e: Env = env()): UpstreamRecord[] {
  const out: UpstreamRecord[] = [];
  const base = { headers: {}, timeoutMs: null, active: true, readOnly: true };
  if (e.OPENAI_BASE_URL || e.OPENAI_API_KEY) {
    out.push({ ...base, name: ENV_OPENAI, protocol: "openai", baseUrl: e.OPENAI_BASE_URL ?? "https://api.openai.com/v1", apiKey: e.OPENAI_API_KEY ?? null });
  }
  if (e.ANTHROPIC_BASE_URL || e.ANTHROPIC_API_KEY) {
    out.push({
      ...base,
      name: ENV_ANTHROPIC,
      protocol: "anthropic",
      baseUrl: e.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com",
      apiKey: e.ANTHROPIC_API_KEY ?? null,
    });
  }
  return out;
}

/** The upstreams stored as rows, decrypted (env upstreams are kept apart: the environment can change under tests). */
const cache = () => sharedCache<"rows", Map<string, UpstreamRecord>>("upstreams");

interface Merged {
  /** The env() object the merged map was built from. */
  env: Env;
  rows: Map<string, UpstreamRecord>;
  all: Map<string, UpstreamRecord>;
}
const globalForRegistry = globalThis as unknown as { __keygateUpstreams?: Merged };

/** Decrypts a row; a secret that cannot be opened is logged, and the upstream left out rather than sent without its key. */
export function toUpstreamRecord(row: Upstream): UpstreamRecord {
  return {
    name: row.name,
    protocol: row.protocol,
    baseUrl: row.baseUrl,
    apiKey: decryptSecret(row.apiKeyCiphertext, API_KEY_CONTEXT),
    headers: row.headersCiphertext ? (JSON.parse(decryptSecret(row.headersCiphertext, HEADERS_CONTEXT)) as Record<string, string>) : {},
    timeoutMs: row.timeoutMs,
    active: row.active,
    readOnly: false,
  };
}

async function loadRows(): Promise<Map<string, UpstreamRecord>> {
  const cached = cache().peek("rows");
  if (cached) return cached;
  return cache().get("rows", async () => {
    const db = await prisma();
    const map = new Map<string, UpstreamRecord>();
    for (const row of await db.upstream.findMany()) {
      try {
        map.set(row.name, toUpstreamRecord(row));
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        logger().error(`upstream "${row.name}" is unusable until its secrets are entered again: ${err.message}`);
      }
    }
    return map;
  });
}

function merged(rows: Map<string, UpstreamRecord>): Map<string, UpstreamRecord> {
  const e = env();
  const m = globalForRegistry.__keygateUpstreams;
  if (m && m.rows === rows && m.env === e) return m.all;
  const all = new Map(rows);
  for (const record of environmentUpstreams(e)) all.set(record.name, record);
  globalForRegistry.__keygateUpstreams = { env: e, rows, all };
  return all;
}

/** From memory after the first load (no database read in steady state); env upstreams included. */
export async function upstreamByName(name: string): Promise<UpstreamRecord | undefined> {
  return merged(cache().peek("rows") ?? (await loadRows())).get(name);
}

/** Every upstream, env ones included, by name. */
export async function allUpstreams(): Promise<UpstreamRecord[]> {
  return [...merged(cache().peek("rows") ?? (await loadRows())).values()];
}

/** Drops this process's copy; the next lookup reloads. */
export function invalidateUpstreams(): void {
  cache().clear();
}

/** After every committed write to the Upstream table: drop the copy here, and tell the other instances. */
export async function upstreamsChanged(): Promise<void> {
  invalidateUpstreams();
  await announce("upstreams", "*");
}

onInvalidation("upstreams", invalidateUpstreams, invalidateUpstreams);
