import type { UserActor } from "@/lib/auth/actor";
import { microsToUsd } from "@/lib/billing/money";
import { prisma } from "@/lib/db";
import { BadRequestError, NotFoundError } from "@/lib/http/errors";
import {
  REQUEST_LOG_CSV_COLUMNS,
  REQUEST_LOG_PAGE_SIZE,
  usageWindow,
  type UsageQuery,
  type UsageReport,
  type UsageRequest,
  type UsageRequestsQuery,
  type UsageRow,
  type UsageWindow,
  ALL_ROLLUP,
} from "@/lib/usage/schemas";

/**
 * What the usage endpoints read, every query scoped by the caller's account:
 * GET /api/usage from the daily rollups only (UsageRollup, kept by the usage
 * writer), never the request log; GET /api/usage/requests from the request
 * log (UsageRecord), newest first, in keyset pages.
 */

type Db = Awaited<ReturnType<typeof prisma>>;

function windowOf(q: { from?: string; to?: string }): UsageWindow {
  const w = usageWindow(q.from, q.to);
  // The query schema has refused an inverted window already; this is the same check.
  if (typeof w === "string") throw new BadRequestError(w, [{ path: "from", message: w }], "validation_error");
  return w;
}

/** A key ID the caller may filter by: one of their keys, or a deleted one they have usage of. Anything else is 404, as elsewhere. */
async function assertOwnKey(db: Db, userId: string, keyId: string): Promise<void> {
  const key = await db.apiKey.findFirst({ where: { id: keyId, userId }, select: { id: true } });
  if (key) return;
  const used = await db.usageRollup.findFirst({ where: { userId, apiKeyId: keyId }, select: { userId: true } });
  if (!used) throw new NotFoundError("No key with this ID exists in your account: check the keyId.");
}

/** The names of the caller's keys among `ids` (a deleted key has none). */
async function keyNames(db: Db, userId: string, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const keys = await db.apiKey.findMany({ where: { userId, id: { in: ids } }, select: { id: true, name: true } });
  return new Map(keys.map((k) => [k.id, k.name]));
}

interface RollupSum {
  k: string;
  requests: bigint | number;
  inputTokens: bigint | number;
  outputTokens: bigint | number;
  costMicros: bigint | number;
  r402: bigint | number;
  r403: bigint | number;
  r429: bigint | number;
}

const GROUP_COLUMN = { day: `"day"::text`, key: `"apiKeyId"`, model: `"model"` } as const;

/** GET /api/usage: totals and rows per day, key or model, from the rollups of the caller's account. */
export async function usageReport(actor: UserActor, q: UsageQuery): Promise<UsageReport> {
  const { userId } = actor;
  const db = await prisma();
  const w = windowOf(q);
  if (q.keyId) await assertOwnKey(db, userId, q.keyId);
  // The coarsest grain the grouping and filters allow (lib/usage/writer.ts keeps four): per key only when grouped or filtered by key, per model likewise.
  const params: unknown[] = [userId, w.fromDay, w.toDay];
  const grain = (column: string, value: string | undefined, grouped: boolean) => {
    if (value !== undefined) {
      params.push(value);
      return ` AND "${column}" = $${params.length}`;
    }
    params.push(ALL_ROLLUP);
    return ` AND "${column}" ${grouped ? "<>" : "="} $${params.length}`;
  };
  const filters = grain("apiKeyId", q.keyId, q.groupBy === "key") + grain("model", q.model, q.groupBy === "model");
  const sums = await db.$queryRawUnsafe<RollupSum[]>(
    `SELECT ${GROUP_COLUMN[q.groupBy]} AS "k", SUM("requests")::bigint AS "requests", SUM("inputTokens")::bigint AS "inputTokens",
            SUM("outputTokens")::bigint AS "outputTokens", SUM("costMicros")::bigint AS "costMicros",
            SUM("refused402")::bigint AS "r402", SUM("refused403")::bigint AS "r403", SUM("refused429")::bigint AS "r429"
       FROM "UsageRollup"
      WHERE "userId" = $1 AND "day" BETWEEN $2::date AND $3::date${filters}
      GROUP BY 1`,
    ...params,
  );
  let requests = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let cost = BigInt(0);
  const refused = { "402": 0, "403": 0, "429": 0 };
  for (const s of sums) {
    requests += Number(s.requests);
    inputTokens += Number(s.inputTokens);
    outputTokens += Number(s.outputTokens);
    cost += BigInt(s.costMicros);
    refused["402"] += Number(s.r402);
    refused["403"] += Number(s.r403);
    refused["429"] += Number(s.r429);
  }
  // A row is a day, key or model with requests; one that only saw refusals counts in totals.refused alone.
  const used = sums.filter((s) => Number(s.requests) > 0);
  const byCost = (a: RollupSum, b: RollupSum) => {
    const d = BigInt(b.costMicros) - BigInt(a.costMicros);
    if (d !== BigInt(0)) return d > BigInt(0) ? 1 : -1;
    return Number(b.requests) - Number(a.requests) || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
  };
  used.sort(q.groupBy === "day" ? (a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) : byCost);
  const names =
    q.groupBy === "key"
      ? await keyNames(
          db,
          userId,
          used.map((s) => s.k),
        )
      : null;
  const rows: UsageRow[] = used.map((s) => {
    const figures = {
      requests: Number(s.requests),
      inputTokens: Number(s.inputTokens),
      outputTokens: Number(s.outputTokens),
      costUsd: microsToUsd(BigInt(s.costMicros)),
    };
    if (q.groupBy === "day") return { day: s.k, ...figures };
    if (q.groupBy === "key") return { keyId: s.k, keyName: names!.get(s.k) ?? null, ...figures };
    return { model: s.k, ...figures };
  });
  return { totals: { requests, inputTokens, outputTokens, costUsd: microsToUsd(cost), refused }, rows };
}

// ---------------------------------------------------------------------------
// The request log

interface LogRow {
  id: string;
  at: string;
  apiKeyId: string;
  model: string;
  upstream: string | null;
  status: number;
  streamed: boolean;
  inputTokens: number;
  outputTokens: number;
  costMicros: bigint | number;
  latencyMs: number;
  attempts: number;
}

/** Where a page starts: after the row at (at, id), in the log's order (createdAt, id) descending. */
interface Cursor {
  at: number;
  id: string;
}

function encodeCursor(row: LogRow): string {
  return Buffer.from(`${Date.parse(row.at)}:${row.id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): Cursor {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^(\d{1,15}):([A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!m)
    throw new BadRequestError(
      "The cursor is not one this endpoint gave out; start again without it.",
      [{ path: "cursor", message: "cursor is not valid" }],
      "invalid_cursor",
    );
  return { at: Number(m[1]), id: m[2] };
}

interface LogFilter {
  userId: string;
  window: UsageWindow;
  keyId?: string;
  model?: string;
  status?: number;
}

/**
 * One keyset page of the log, newest first: rows strictly after `after` in
 * (createdAt, id) descending. A row inserted while someone pages is either
 * before the cursor (not seen: it is newer than what they have) or after it
 * (seen once, in its place); no row already there can be seen twice or missed.
 */
async function readLog(db: Db, f: LogFilter, after: Cursor | null, take: number): Promise<LogRow[]> {
  const params: unknown[] = [f.userId, f.window.from, f.window.to];
  let where = `"userId" = $1 AND "createdAt" >= $2 AND "createdAt" <= $3`;
  if (f.keyId) {
    params.push(f.keyId);
    where += ` AND "apiKeyId" = $${params.length}`;
  }
  if (f.model) {
    params.push(f.model);
    where += ` AND "model" = $${params.length}`;
  }
  if (f.status !== undefined) {
    params.push(f.status);
    where += ` AND "status" = $${params.length}`;
  }
  if (after) {
    params.push(new Date(after.at), after.id);
    where += ` AND ("createdAt", "id") < ($${params.length - 1}, $${params.length})`;
  }
  params.push(take);
  return db.$queryRawUnsafe<LogRow[]>(
    `SELECT "id", to_char("createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "at", "apiKeyId", "model", "upstream", "status", "streamed",
            "inputTokens", "outputTokens", "costMicros", "latencyMs", "attempts"
       FROM "UsageRecord"
      WHERE ${where}
      ORDER BY "createdAt" DESC, "id" DESC
      LIMIT $${params.length}`,
    ...params,
  );
}

function view(row: LogRow, names: Map<string, string>): UsageRequest {
  return {
    id: row.id,
    at: row.at,
    keyId: row.apiKeyId,
    keyName: names.get(row.apiKeyId) ?? null,
    model: row.model,
    upstream: row.upstream,
    status: Number(row.status),
    stream: Boolean(row.streamed),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    costUsd: microsToUsd(BigInt(row.costMicros)),
    latencyMs: Number(row.latencyMs),
    attempts: Number(row.attempts),
  };
}

async function logFilter(db: Db, actor: UserActor, q: UsageRequestsQuery): Promise<LogFilter> {
  if (q.keyId) await assertOwnKey(db, actor.userId, q.keyId);
  return { userId: actor.userId, window: windowOf(q), keyId: q.keyId, model: q.model, status: q.status };
}

/** GET /api/usage/requests as JSON: one page and the cursor of the next. */
export async function listUsageRequests(actor: UserActor, q: UsageRequestsQuery): Promise<{ items: UsageRequest[]; nextCursor: string | null }> {
  const db = await prisma();
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const f = await logFilter(db, actor, q);
  const limit = q.limit ?? REQUEST_LOG_PAGE_SIZE;
  // One row more than the page says whether there is a next one.
  const rows = await readLog(db, f, after, limit + 1);
  const page = rows.slice(0, limit);
  const names = await keyNames(db, actor.userId, [...new Set(page.map((r) => r.apiKeyId))]);
  return { items: page.map((r) => view(r, names)), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null };
}

/** Rows read per query while streaming CSV: the export never holds more than this many in memory. */
const CSV_PAGE = 1_000;

/**
 * GET /api/usage/requests as CSV: every row the filters match, newest first,
 * read a page at a time as the client takes them (a ReadableStream pulled
 * page by page), so an export of a million rows never sits in memory.
 */
export async function streamUsageRequestsCsv(actor: UserActor, q: UsageRequestsQuery): Promise<ReadableStream<Uint8Array>> {
  const db = await prisma();
  // Checked before the first byte, so a foreign keyId is still a 404 in the envelope.
  const f = await logFilter(db, actor, q);
  const encoder = new TextEncoder();
  const names = new Map<string, string>();
  let after: Cursor | null = null;
  let header = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (header) {
          header = false;
          controller.enqueue(encoder.encode(`${REQUEST_LOG_CSV_COLUMNS.join(",")}\r\n`));
          return;
        }
        const rows = await readLog(db, f, after, CSV_PAGE);
        const unnamed = [...new Set(rows.map((r) => r.apiKeyId))].filter((id) => !names.has(id));
        for (const [id, name] of await keyNames(db, f.userId, unnamed)) names.set(id, name);
        if (rows.length) {
          const lines = rows.map((r) => csvLine(view(r, names)));
          controller.enqueue(encoder.encode(lines.join("")));
          after = { at: Date.parse(rows[rows.length - 1].at), id: rows[rows.length - 1].id };
        }
        if (rows.length < CSV_PAGE) controller.close();
      },
    },
    // One page in flight at a time: the next is read only when the client has taken this one.
    { highWaterMark: 1 },
  );
}

function csvLine(r: UsageRequest): string {
  return `${REQUEST_LOG_CSV_COLUMNS.map((c) => csvCell(r[c])).join(",")}\r\n`;
}

/**
 * RFC 4180 quoting. A text cell that a spreadsheet would run as a formula
 * (=, +, -, @, tab, CR first) gets a leading apostrophe: key names are the
 * user's own text, and a CSV is opened in spreadsheets.
 */
export function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  if (typeof v !== "string") return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
