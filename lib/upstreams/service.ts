import type { Actor } from "@/lib/auth/actor";
import { decryptSecret, encryptSecret, isCurrentSecret, SecretDecryptionError } from "@/lib/crypto/secrets";
import { isUniqueViolation, prisma } from "@/lib/db";
import type { Upstream } from "@/generated/prisma/client.ts";
import { ConflictError, NotFoundError } from "@/lib/http/errors";
import { upstreamHealth } from "@/lib/limits/health";
import { RESERVED_UPSTREAM_PREFIX, type CreateUpstreamInput, type UpdateUpstreamInput, type UpstreamView } from "@/lib/upstreams/schemas";
import { API_KEY_CONTEXT, ENV_UPSTREAM_NAMES, environmentUpstreams, HEADERS_CONTEXT, type UpstreamRecord } from "@/lib/upstreams/registry";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";

/**
 * Upstreams as operators edit them. Secrets go in encrypted (lib/crypto/
 * secrets.ts) and never come out of here: views carry the key's last four
 * characters and the header names. Every write declares the upstreams
 * changed, so the gateway's registry (lib/upstreams/registry.ts) reloads
 * after commit, on every instance; a rename also moves the model routes
 * that name the upstream, and declares those models changed.
 */

/** Keys shorter than this show none of their characters. */
const MIN_KEY_FOR_LAST4 = 12;

function last4(apiKey: string | null): string {
  return apiKey && apiKey.length >= MIN_KEY_FOR_LAST4 ? apiKey.slice(-4) : "";
}

type Health = Awaited<ReturnType<typeof upstreamHealth>>;
const HEALTHY = { state: "ok", coolingDownUntil: null, requests5m: 0, errors5m: 0 } as const;

function rowView(row: Upstream, health: Health): UpstreamView {
  return {
    id: row.id,
    name: row.name,
    protocol: row.protocol,
    baseUrl: row.baseUrl,
    apiKeyLast4: row.apiKeyLast4 || null,
    headerNames: row.headerNames,
    timeoutMs: row.timeoutMs,
    active: row.active,
    readOnly: false,
    health: health.get(row.name) ?? HEALTHY,
  };
}

function envView(record: UpstreamRecord, health: Health): UpstreamView {
  return {
    id: record.name,
    name: record.name,
    protocol: record.protocol,
    baseUrl: record.baseUrl,
    apiKeyLast4: last4(record.apiKey) || null,
    headerNames: [],
    timeoutMs: null,
    active: true,
    readOnly: true,
    health: health.get(record.name) ?? HEALTHY,
  };
}

/** The environment's upstreams first (when configured), then the stored ones by name. */
export async function listUpstreams(): Promise<UpstreamView[]> {
  const db = await prisma();
  const rows = await db.upstream.findMany({ orderBy: { name: "asc" } });
  const env = environmentUpstreams();
  const health = await upstreamHealth([...env.map((u) => u.name), ...rows.map((r) => r.name)]);
  return [...env.map((u) => envView(u, health)), ...rows.map((r) => rowView(r, health))];
}

async function viewOf(row: Upstream): Promise<UpstreamView> {
  return rowView(row, await upstreamHealth([row.name]));
}

function sealHeaders(headers: Record<string, string>): { headersCiphertext: string | null; headerNames: string[] } {
  const names = Object.keys(headers);
  return { headersCiphertext: names.length ? encryptSecret(JSON.stringify(headers), HEADERS_CONTEXT) : null, headerNames: names };
}

export async function createUpstream(actor: Actor, input: CreateUpstreamInput, outer?: Tx): Promise<UpstreamView> {
  assertNameAllowed(input.name);
  try {
    const row = await write(
      actor,
      async (tx, after) => {
        const created = await tx.upstream.create({
          data: {
            name: input.name,
            protocol: input.protocol,
            baseUrl: input.baseUrl,
            apiKeyCiphertext: encryptSecret(input.apiKey, API_KEY_CONTEXT),
            apiKeyLast4: last4(input.apiKey),
            ...sealHeaders(input.headers ?? {}),
            timeoutMs: input.timeoutMs ?? null,
            active: input.active ?? true,
          },
        });
        after.upstreamChanged(created.name);
        // The API key and header values pass through the audit filter, which keeps only that they were set.
        after.audit({
          targetId: created.id,
          accountId: null,
          changes: { ...diff(null, auditedUpstream(created)), apiKey: [null, input.apiKey], ...(input.headers ? { headers: [null, input.headers] } : {}) },
        });
        return created;
      },
      outer,
    );
    return viewOf(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

/**
 * Changes the fields sent; the API key and headers are kept when omitted. Any
 * secret still sealed with a previous encryption key is re-sealed with the
 * current one on the way.
 */
export async function updateUpstream(actor: Actor, id: string, input: UpdateUpstreamInput, outer?: Tx): Promise<UpstreamView> {
  assertWritable(id);
  if (input.name !== undefined) assertNameAllowed(input.name);
  try {
    const row = await write(
      actor,
      async (tx, after) => {
        const current = await tx.upstream.findUnique({ where: { id } });
        if (!current) throw notFound();
        const updated = await tx.upstream.update({
          where: { id },
          data: {
            name: input.name,
            protocol: input.protocol,
            baseUrl: input.baseUrl,
            timeoutMs: input.timeoutMs,
            active: input.active,
            ...(input.apiKey !== undefined
              ? { apiKeyCiphertext: encryptSecret(input.apiKey, API_KEY_CONTEXT), apiKeyLast4: last4(input.apiKey) }
              : { apiKeyCiphertext: resealed(current.apiKeyCiphertext, API_KEY_CONTEXT) }),
            ...(input.headers !== undefined
              ? sealHeaders(input.headers)
              : { headersCiphertext: current.headersCiphertext && resealed(current.headersCiphertext, HEADERS_CONTEXT) }),
          },
        });
        if (updated.name !== current.name) {
          const moved = await tx.modelRoute.findMany({ where: { upstream: current.name }, select: { model: true }, distinct: ["model"] });
          await tx.modelRoute.updateMany({ where: { upstream: current.name }, data: { upstream: updated.name } });
          for (const { model } of moved) after.modelChanged(model);
          after.upstreamChanged(current.name);
        }
        after.upstreamChanged(updated.name);
        after.audit({
          targetId: id,
          accountId: null,
          changes: {
            ...diff(auditedUpstream(current), auditedUpstream(updated)),
            ...(input.apiKey !== undefined ? { apiKey: [current.apiKeyCiphertext, input.apiKey] } : {}),
            ...(input.headers !== undefined ? { headers: [current.headersCiphertext, input.headers] } : {}),
          },
        });
        return updated;
      },
      outer,
    );
    return viewOf(row);
  } catch (err) {
    if (input.name !== undefined && isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

/** Removes the upstream; refused while a model route still names it. */
export async function deleteUpstream(actor: Actor, id: string, outer?: Tx): Promise<void> {
  assertWritable(id);
  await write(
    actor,
    async (tx, after) => {
      // Delete first, then look for routes: a model write naming this upstream locks its row
      // (lib/models/service.ts), so either it committed before and its route is seen here, or it
      // waits for this delete and finds no such upstream.
      const [row] = await tx.$queryRaw<Array<{ name: string; protocol: string; baseUrl: string }>>`
        DELETE FROM "Upstream" WHERE "id" = ${id} RETURNING "name", "protocol"::text, "baseUrl"`;
      if (!row) throw notFound();
      const routes = await tx.modelRoute.findMany({ where: { upstream: row.name }, select: { model: true }, distinct: ["model"], orderBy: { model: "asc" } });
      if (routes.length) {
        const models = routes.map((r) => r.model);
        const shown = models.slice(0, 10).join(", ") + (models.length > 10 ? ` and ${models.length - 10} more` : "");
        throw new ConflictError(
          `Upstream "${row.name}" is still used by the routes of ${models.length === 1 ? "model" : "models"} ${shown}. Remove those routes first (POST /api/admin/models with new \`routes\`), or deactivate the upstream with PUT {"active": false}.`,
          "upstream_in_use",
        );
      }
      after.upstreamChanged(row.name);
      after.audit({ targetId: id, accountId: null, changes: diff(row, null) });
    },
    outer,
  );
}

/** What the audit log shows of an upstream: never its API key or header values, only their last 4 and names. */
function auditedUpstream(row: Upstream) {
  return pick(row, ["name", "protocol", "baseUrl", "apiKeyLast4", "headerNames", "timeoutMs", "active"]);
}

export interface ReencryptResult {
  /** Values re-sealed with the current key. */
  reencrypted: number;
  /** Upstreams whose secrets could not be opened with any key this server has (enter them again). */
  failed: string[];
}

/**
 * Re-seals every stored secret that is not sealed with the current key (after
 * KEYGATE_ENCRYPTION_KEY changed, with the old one in
 * KEYGATE_ENCRYPTION_KEY_PREVIOUS). Afterwards the previous key can be removed.
 */
export async function reencryptUpstreamSecrets(actor: Actor): Promise<ReencryptResult> {
  return write(actor, async (tx, after) => {
    const result: ReencryptResult = { reencrypted: 0, failed: [] };
    for (const row of await tx.upstream.findMany({ orderBy: { name: "asc" } })) {
      const data: { apiKeyCiphertext?: string; headersCiphertext?: string } = {};
      try {
        if (!isCurrentSecret(row.apiKeyCiphertext))
          data.apiKeyCiphertext = encryptSecret(decryptSecret(row.apiKeyCiphertext, API_KEY_CONTEXT), API_KEY_CONTEXT);
        if (row.headersCiphertext && !isCurrentSecret(row.headersCiphertext)) {
          data.headersCiphertext = encryptSecret(decryptSecret(row.headersCiphertext, HEADERS_CONTEXT), HEADERS_CONTEXT);
        }
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        result.failed.push(row.name);
        continue;
      }
      const count = Object.keys(data).length;
      if (count === 0) continue;
      await tx.upstream.update({ where: { id: row.id }, data });
      result.reencrypted += count;
      after.upstreamChanged(row.name);
    }
    return result;
  });
}

/** The value sealed with the current key; unchanged when it already is, or cannot be opened (the operator must enter it again). */
function resealed(stored: string, context: string): string {
  if (isCurrentSecret(stored)) return stored;
  try {
    return encryptSecret(decryptSecret(stored, context), context);
  } catch (err) {
    if (err instanceof SecretDecryptionError) return stored;
    throw err;
  }
}

function assertWritable(id: string): void {
  if (ENV_UPSTREAM_NAMES.includes(id)) {
    const vars = id === "env-openai" ? "OPENAI_BASE_URL and OPENAI_API_KEY" : "ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY";
    throw new ConflictError(
      `"${id}" comes from the environment (${vars}) and cannot be changed or deleted through the API: change those variables and restart, or create an upstream of your own.`,
      "upstream_read_only",
    );
  }
}

function assertNameAllowed(name: string): void {
  if (name.startsWith(RESERVED_UPSTREAM_PREFIX)) {
    throw new ConflictError(
      `Upstream names starting with "${RESERVED_UPSTREAM_PREFIX}" are reserved for the environment's upstreams (env-openai, env-anthropic). Choose another name.`,
      "reserved_upstream_name",
    );
  }
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(
    `An upstream named "${name}" already exists. Choose another name, or change that one with PUT /api/admin/upstreams/{id}.`,
    "upstream_exists",
  );
}

function notFound(): NotFoundError {
  return new NotFoundError("No upstream has this ID; GET /api/admin/upstreams lists them.");
}
