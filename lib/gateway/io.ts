import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayErrorCode, ProtocolAdapter } from "@/lib/gateway/protocols";
import { sendJson } from "@/lib/http/node-guards";

/**
 * Reading a gateway request and answering it with an error, in the
 * protocol's shape: shared by the router, admission, the proxy and
 * POST /api/keys/verify.
 */

/** Inference bodies above this get 413 (images travel inline, base64). The management API's limit is lib/http/request.ts's. */
export const MAX_INFERENCE_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Bodies nested deeper than this anywhere (messages, tool schemas, unknown
 * fields) get 400 before any other work. Real requests stay far below it (a
 * tool's JSON schema is a dozen levels), and without it a body of 10,000
 * levels fails later, in code that recurses (V8's JSON.stringify overflows
 * its stack on the way upstream).
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` is nested deeper than `limit` levels (the body itself is level 1). Recurses at most `limit` + 1 deep. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === "object" && v !== null && nestedDeeperThan(v, limit - 1)) return true;
    return false;
  }
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "object" && v !== null && nestedDeeperThan(v, limit - 1)) return true;
  }
  return false;
}

/** An error in the protocol's shape (a 401 with `WWW-Authenticate`); once the answer has started, the connection is cut instead. */
export function sendError(
  res: ServerResponse,
  adapter: ProtocolAdapter,
  status: number,
  code: GatewayErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra = status === 401 ? { "www-authenticate": "Bearer", ...headers } : headers;
  sendJson(res, status, adapter.errorBody(status, code, message), extra);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too_large" | "aborted"> {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      resolve("too_large");
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve("too_large");
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve("aborted"));
    req.on("aborted", () => resolve("aborted"));
  });
}

/** The request body as a JSON object, or null once `fail` has answered (nothing is sent for a client that went away). */
export async function readJsonObject(
  req: IncomingMessage,
  fail: (status: 400 | 413, message: string) => void,
  limit = MAX_INFERENCE_BODY_BYTES,
): Promise<{ json: Record<string, unknown>; bytes: number } | null> {
  const raw = await readBody(req, limit);
  if (raw === "aborted") return null;
  if (raw === "too_large") {
    const size = limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MB` : `${limit / 1024} KB`;
    fail(413, `The request body is larger than ${size}.`);
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    fail(400, "The request body is not valid JSON.");
    return null;
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    fail(400, "The request body must be a JSON object.");
    return null;
  }
  if (nestedDeeperThan(json, MAX_JSON_DEPTH)) {
    fail(
      400,
      `The request body is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays inside one another), which Keygate does not accept. Flatten it.`,
    );
    return null;
  }
  return { json: json as Record<string, unknown>, bytes: raw.length };
}
