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
): Promise<{ json: Record<string, unknown>; bytes: number } | null> {
  const raw = await readBody(req, MAX_INFERENCE_BODY_BYTES);
  if (raw === "aborted") return null;
  if (raw === "too_large") {
    fail(413, `The request body is larger than ${MAX_INFERENCE_BODY_BYTES / 1024 / 1024} MB.`);
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
  return { json: json as Record<string, unknown>, bytes: raw.length };
}
