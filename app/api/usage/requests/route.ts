import { handle, nextRoutes, RawResponse } from "@/lib/http/route";
import { listUsageRequests } from "@/lib/usage/operations";
import { listUsageRequests as readLog, streamUsageRequestsCsv } from "@/lib/usage/queries";

/** CSV when asked for by `format=csv`, or by an Accept header that names text/csv (and not JSON first). */
function wantsCsv(req: Request, format: string | undefined): boolean {
  if (format) return format === "csv";
  const accept = req.headers.get("accept") ?? "";
  return /(^|,)\s*text\/csv/i.test(accept) && !/^\s*application\/json/i.test(accept);
}

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listUsageRequests, async ({ req, actor, query }) => {
    if (wantsCsv(req, query.format)) {
      const body = await streamUsageRequestsCsv(actor, query);
      return new RawResponse(
        new Response(body, {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="keygate-requests.csv"' },
        }),
      );
    }
    const { items, nextCursor } = await readLog(actor, query);
    return { success: true as const, data: items, nextCursor };
  }),
);
