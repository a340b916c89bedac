import { scalarBundle } from "../scalar-bundle";

/**
 * GET /docs/scalar.js?v=<hash>: Scalar's standalone bundle from our own
 * origin. /docs asks for it with the file's hash, so that URL is immutable
 * and cached for a year; any other `v` (an old page, a hand-typed URL) gets
 * the current file, revalidated on every use.
 */
export async function GET(request: Request): Promise<Response> {
  const { body, hash } = await scalarBundle();
  const etag = `"${hash}"`;
  const immutable = new URL(request.url).searchParams.get("v") === hash;
  const headers = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(body, { headers });
}
