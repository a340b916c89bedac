import { defineOperation } from "@/lib/http/operation";
import { usageQuerySchema, usageReportSchema, usageRequestListSchema, usageRequestsQuerySchema } from "@/lib/usage/schemas";

/** Usage you can see: totals from the daily rollups, and the request log. */

const WINDOW = "`from` and `to` are ISO dates (a whole UTC day) or date-times; without them, the 30 UTC days ending today. A `from` after `to` is a 400.";

export const getUsage = defineOperation({
  id: "getUsage",
  method: "GET",
  path: "/api/usage",
  tag: "Usage",
  summary: "Usage totals, per day, key or model",
  description: `Requests, tokens and cost of your gateway requests, per UTC day, key or model (\`groupBy\`), from rollups the usage writer keeps in the same transaction as the usage it records: once usage is written (about a second after a request), costs equal the ledger's usage debits to the micro-dollar. Rollups are per UTC day, so the window is whole UTC days: from \`from\`'s day to \`to\`'s day, both included. ${WINDOW} Rollups are kept when the request log's rows are deleted (\`KEYGATE_REQUEST_LOG_DAYS\`).`,
  auth: "session-or-mk",
  scope: "usage:read",
  query: usageQuerySchema,
  response: { status: 200, description: "Totals and rows for the window.", schema: usageReportSchema, shape: "envelope" },
  errors: { 404: "`not_found`: `keyId` is not one of your keys." },
  examples: {
    query: { groupBy: "model", from: "2026-12-01", to: "2026-12-07" },
    response: {
      totals: { requests: 1290, inputTokens: 412000, outputTokens: 98000, costUsd: 1.8342, refused: { "402": 3, "403": 0, "429": 12 } },
      rows: [
        { model: "gpt-4o-mini", requests: 1200, inputTokens: 400000, outputTokens: 90000, costUsd: 1.2 },
        { model: "claude-3-5-haiku", requests: 90, inputTokens: 12000, outputTokens: 8000, costUsd: 0.6342 },
      ],
    },
  },
});

export const listUsageRequests = defineOperation({
  id: "listUsageRequests",
  method: "GET",
  path: "/api/usage/requests",
  tag: "Usage",
  summary: "The request log, newest first",
  description: `One row per gateway request that reached an upstream or the demo model, upstream errors included (with their status, at cost 0). Requests refused before any upstream (402, 403, 429) are not rows: \`GET /api/usage\` counts them. Pages of \`limit\` rows (50 when omitted); follow \`nextCursor\` for older ones: each row comes once, however many requests arrive while you page. ${WINDOW} Here \`from\` ≤ \`at\` ≤ \`to\`, a date \`to\` meaning the end of that day. Rows older than \`KEYGATE_REQUEST_LOG_DAYS\` (30 by default) are deleted. With \`Accept: text/csv\` or \`format=csv\`, every matching row is streamed as CSV instead.`,
  auth: "session-or-mk",
  scope: "usage:read",
  query: usageRequestsQuerySchema,
  // The envelope plus a page cursor beside `data`, as GET /api/billing/ledger answers.
  response: {
    status: 200,
    description: "One page of the request log.",
    schema: usageRequestListSchema,
    shape: "as-is",
    csv: {
      description:
        "every matching row, newest first, streamed as it is read: a header line, then one line per row (RFC 4180, CRLF; a text cell starting with `=`, `+`, `-` or `@` gets a leading `'`). `limit` and `cursor` do not apply.",
      example:
        "id,at,keyId,keyName,model,upstream,status,stream,inputTokens,outputTokens,costUsd,latencyMs,attempts\r\nusg_4f1c2a9e8b7d4c3a9f0e1d2c3b4a5f6e,2026-12-07T09:12:44.120Z,cm9x2k1q40000key00001,ci-bot,gpt-4o-mini,env-openai,200,true,812,143,0.000208,1840,1\r\n",
    },
  },
  errors: {
    400: "`invalid_cursor`: the cursor is not one this endpoint gave out.",
    404: "`not_found`: `keyId` is not one of your keys.",
  },
  examples: {
    query: { limit: "1", status: "200" },
    response: {
      success: true,
      data: [
        {
          id: "usg_4f1c2a9e8b7d4c3a9f0e1d2c3b4a5f6e",
          at: "2026-12-07T09:12:44.120Z",
          keyId: "cm9x2k1q40000key00001",
          keyName: "ci-bot",
          model: "gpt-4o-mini",
          upstream: "env-openai",
          status: 200,
          stream: true,
          inputTokens: 812,
          outputTokens: 143,
          costUsd: 0.000208,
          latencyMs: 1840,
          attempts: 1,
        },
      ],
      nextCursor: "MTc2NTA5ODc2NDEyMDp1c2dfNGYxYzJhOWU4YjdkNGMzYTlmMGUxZDJjM2I0YTVmNmU",
    },
  },
});
