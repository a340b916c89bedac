import { z } from "zod";
import { queryInteger } from "@/lib/keys/schemas";

/**
 * GET /api/usage (the rollups) and GET /api/usage/requests (the request
 * log): their query strings and answers. Shared with the dashboard.
 *
 * The window: `from` and `to` are ISO 8601, either a date (`2026-12-01`, a
 * whole UTC day) or a date-time with an offset (`2026-12-01T12:00:00Z`, an
 * instant). The request log returns rows with from ≤ at ≤ to, a date `to`
 * meaning the end of that day. Rollups are per UTC day, so GET /api/usage
 * counts every UTC day from from's day to to's day, both included: an
 * instant stands for its whole day there. Without them: the 30 UTC days
 * ending today (today and the 29 before), up to now.
 */

const DAY_MS = 86_400_000;

/** In UsageRollup's apiKeyId or model: the row sums every key, or every model (lib/usage/writer.ts keeps four grains). */
export const ALL_ROLLUP = "";
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A `from`/`to` query parameter: an ISO date or a date-time with an offset (also the audit log's, lib/audit/schemas.ts). */
export const instantParam = (name: "from" | "to", description: string) =>
  z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], {
      error: `${name} must be an ISO 8601 date (2026-12-01) or date-time with an offset (2026-12-01T12:00:00Z)`,
    })
    .meta({ description });

const instant = (name: "from" | "to") =>
  instantParam(
    name,
    name === "from"
      ? "Start of the window: an ISO date (the start of that UTC day) or date-time. Default: the start of the UTC day 29 days before today."
      : "End of the window, included: an ISO date (the end of that UTC day) or date-time. Default: now.",
  );

/** A keyset page's `cursor` query parameter (the request log's and the audit log's). */
export const cursorParam = (description: string) =>
  z
    .string()
    .max(200, "cursor is not valid")
    .regex(/^[A-Za-z0-9_-]+$/, "cursor is not valid")
    .optional()
    .meta({ description });

/** A keyset page's answer: the envelope with `nextCursor` beside `data`. */
export const cursorListOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    success: z.literal(true),
    data: z.array(item),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` to get the next (older) page; null on the last page." }),
  });

export interface UsageWindow {
  /** The first instant in the window. */
  from: Date;
  /** The last instant in the window (included, to the millisecond). */
  to: Date;
  /** The UTC days the rollups are read for, YYYY-MM-DD, both included. */
  fromDay: string;
  toDay: string;
}

/** The window a query names (see the top of this file), or a message when `from` is after `to`. */
export function usageWindow(from: string | undefined, to: string | undefined, now = Date.now()): UsageWindow | string {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const start = from === undefined ? new Date(today - 29 * DAY_MS) : new Date(from);
  const end = to === undefined ? new Date(now) : DATE_ONLY.test(to) ? new Date(new Date(to).getTime() + DAY_MS - 1) : new Date(to);
  if (start.getTime() > end.getTime()) return "from must not be after to";
  return { from: start, to: end, fromDay: start.toISOString().slice(0, 10), toDay: end.toISOString().slice(0, 10) };
}

const windowed = <T extends { from?: string; to?: string }>(q: T, ctx: z.RefinementCtx) => {
  const w = usageWindow(q.from, q.to);
  if (typeof w === "string") ctx.addIssue({ code: "custom", path: ["from"], message: w });
};

const keyIdSchema = z
  .string()
  .max(64, "keyId is not a key ID")
  .regex(/^[A-Za-z0-9_-]+$/, "keyId is not a key ID")
  .meta({ description: "Only this consumption key (one of yours; another account's is 404)." });
const modelSchema = z.string().min(1).max(200, "model is at most 200 characters").meta({ description: "Only this model (its public name)." });

export const USAGE_GROUPS = ["day", "key", "model"] as const;

export const usageQuerySchema = z
  .object({
    from: instant("from").optional(),
    to: instant("to").optional(),
    groupBy: z
      .enum(USAGE_GROUPS, { error: "groupBy must be one of day, key, model" })
      .default("day")
      .meta({ description: "What each row is: a UTC day (`day`, the default), a key (`key`) or a model (`model`)." }),
    keyId: keyIdSchema.optional(),
    model: modelSchema.optional(),
  })
  .superRefine(windowed);

export const REFUSED_STATUSES = ["402", "403", "429"] as const;

const usd = (description: string) => z.number().meta({ description });
const figures = {
  requests: z.number().int().meta({ description: "Requests that reached an upstream or the demo model (upstream errors included)." }),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: usd("What they cost, in USD (exact to the micro-dollar)."),
};

export const usageRowSchema = z
  .union([
    z.strictObject({ day: z.iso.date().meta({ description: "The UTC day." }), ...figures }),
    z.strictObject({
      keyId: z.string(),
      keyName: z.string().nullable().meta({ description: "The key's name; null when the key has been deleted since." }),
      ...figures,
    }),
    z.strictObject({ model: z.string(), ...figures }),
  ])
  .meta({ id: "UsageRow", description: "One UTC day, key or model, as `groupBy` says." });

export const usageReportSchema = z
  .strictObject({
    totals: z.strictObject({
      ...figures,
      refused: z.strictObject({ "402": z.number().int(), "403": z.number().int(), "429": z.number().int() }).meta({
        description:
          "Requests refused before any upstream, by status: 402 (budget or balance), 403 (outside a subscription's blocks, a model its pool does not serve), 429 (rpm, tpm, a subscription key's one request at a time). They are not in `requests` nor in the request log. Counted in memory and written with the next usage write: a crashed instance can lose its last second of these counts (never money).",
      }),
    }),
    rows: z.array(usageRowSchema).meta({
      description: "Only days, keys or models with requests. `day` rows are in date order; `key` and `model` rows by cost, highest first (then by name).",
    }),
  })
  .meta({ id: "UsageReport" });

export const REQUEST_LOG_PAGE_SIZE = 50;

export const usageRequestsQuerySchema = z
  .object({
    limit: queryInteger("limit", 1, 500)
      .optional()
      .meta({ description: `Page size, 1 to 500; ${REQUEST_LOG_PAGE_SIZE} when omitted. Ignored for CSV.` }),
    cursor: cursorParam("The `nextCursor` of the previous page. Ignored for CSV."),
    keyId: keyIdSchema.optional(),
    model: modelSchema.optional(),
    status: queryInteger("status", 100, 599).optional().meta({ description: "Only requests answered with this HTTP status." }),
    from: instant("from").optional(),
    to: instant("to").optional(),
    format: z
      .enum(["json", "csv"], { error: "format must be json or csv" })
      .optional()
      .meta({ description: "`csv` streams every matching row as CSV (as `Accept: text/csv` does)." }),
  })
  .superRefine(windowed);

export const usageRequestSchema = z
  .strictObject({
    id: z.string().meta({ description: "The usage record's ID: the `x-keygate-usage-id` header of the answer." }),
    at: z.iso.datetime().meta({ description: "When the request finished." }),
    keyId: z.string(),
    keyName: z.string().nullable().meta({ description: "null when the key has been deleted since." }),
    model: z.string(),
    upstream: z.string().nullable().meta({ description: "The upstream that answered (`keygate` for the demo model); null on records older than routing." }),
    status: z.number().int().meta({ description: "The HTTP status the request ended with (an upstream's error status, 499 when the client went away)." }),
    stream: z.boolean(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: usd("USD charged; 0 for an upstream error and for subscription keys."),
    latencyMs: z.number().int(),
    attempts: z.number().int().meta({ description: "How many upstreams were tried." }),
  })
  .meta({ id: "UsageRequest", description: "One gateway request that reached an upstream or the demo model." });

export const usageRequestListSchema = cursorListOf(usageRequestSchema);

export const REQUEST_LOG_CSV_COLUMNS = [
  "id",
  "at",
  "keyId",
  "keyName",
  "model",
  "upstream",
  "status",
  "stream",
  "inputTokens",
  "outputTokens",
  "costUsd",
  "latencyMs",
  "attempts",
] as const;

export type UsageQuery = z.output<typeof usageQuerySchema>;
export type UsageRequestsQuery = z.output<typeof usageRequestsQuerySchema>;
export type UsageReport = z.infer<typeof usageReportSchema>;
export type UsageRow = z.infer<typeof usageRowSchema>;
export type UsageRequest = z.infer<typeof usageRequestSchema>;
