import type { IncomingMessage, ServerResponse } from "node:http";
import { isStoreUnavailable } from "@/lib/cluster/redis";
import { admit, authorize, credentialOf, modelsKeyMayUse, type Refusal } from "@/lib/gateway/admission";
import { readJsonObject, sendError } from "@/lib/gateway/io";
import { ADAPTERS, adapterFor, promptSize, type ProtocolAdapter } from "@/lib/gateway/protocols";
import { relay } from "@/lib/gateway/proxy";
import { verifyKeyRequest } from "@/lib/gateway/verify-endpoint";
import { sendJson, sendJsonError } from "@/lib/http/node-guards";
import { redact } from "@/lib/log";
import { activeModels } from "@/lib/models/catalogue";
import { logger } from "@/lib/ops/logger";
import { countLimitRejection } from "@/lib/ops/metrics";
import { countBudgetRefusal, countRefusal, isCountedRefusal } from "@/lib/usage/refusals";
import { newUsageId } from "@/lib/usage/writer";

/**
 * The gateway's front door, as a plain node:http handler (server.ts calls it
 * before Next): each protocol adapter's inference path, GET /v1/models and
 * POST /api/keys/verify. Per request, in steady state: a checksum, a
 * SHA-256, Map lookups, one admission in the limits store (in memory, or one
 * Redis script), and the upstream call. No database read: keys, balances and
 * the catalogue are in memory, and usage is written in batches.
 *
 * The path of a request, file by file: router (here) → admission.ts (key,
 * model, limits) → upstreams.ts (where it goes) → proxy.ts (relay, settle)
 * → lib/usage/writer.ts (the record); protocols/ says what each protocol
 * looks like.
 */

const byPath = new Map<string, ProtocolAdapter>(ADAPTERS.map((a) => [a.path, a]));
const LIST_SHAPE = adapterFor("openai");

/** Every method and path the gateway answers (the OpenAPI document describes each one: lib/openapi.test.ts holds it to that). */
export const GATEWAY_ROUTES: ReadonlyArray<{ method: "GET" | "POST"; path: string }> = [
  ...ADAPTERS.map((a) => ({ method: "POST" as const, path: a.path })),
  { method: "GET", path: "/v1/models" },
  { method: "POST", path: "/api/keys/verify" },
];

/** Answers the request and returns true when it is the gateway's; false hands it on (to Next). */
export function handleGateway(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (path === "/api/keys/verify") {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      sendJsonError(res, 405, "method_not_allowed", 'POST /api/keys/verify takes the key in a JSON body: {"key": "sk_…"}.');
    } else void guard(res, LIST_SHAPE, verifyKeyRequest(req, res));
    return true;
  }
  if (!path.startsWith("/v1/") && path !== "/v1") return false;
  const adapter = byPath.get(path);
  if (adapter && req.method === "POST") void guard(res, adapter, inference(req, res, adapter));
  else if (path === "/v1/models" && req.method === "GET") void guard(res, LIST_SHAPE, listModels(req, res));
  else {
    const served = GATEWAY_ROUTES.filter((r) => r.path.startsWith("/v1/"))
      .map((r) => `${r.method} ${r.path}`)
      .join(", ");
    const shape = ADAPTERS.find((a) => a.owns(path)) ?? LIST_SHAPE;
    sendError(res, shape, 404, "invalid_request", `Keygate serves ${served}; ${req.method} ${path} is not one of them.`);
  }
  return true;
}

async function guard(res: ServerResponse, adapter: ProtocolAdapter, work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (isStoreUnavailable(err)) {
      countLimitRejection("store_unavailable");
      // Fail closed: without the shared store no limit can be checked, so nothing is admitted.
      const message =
        "Keygate cannot check this key's limits right now (its Redis is unreachable), so the request was refused and nothing was charged. Retry in a few seconds.";
      if (!res.headersSent) sendError(res, adapter, 503, "store_unavailable", message, { "retry-after": "1" });
      else res.destroy();
      return;
    }
    logger().error(`gateway request failed: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}`);
    if (!res.headersSent) sendError(res, adapter, 500, "internal_error", "Keygate failed to handle this request; nothing was charged. Please try again.");
    else res.destroy();
  }
}

function refuse(res: ServerResponse, adapter: ProtocolAdapter, r: Refusal): void {
  if (r.reason) countLimitRejection(r.reason);
  sendError(res, adapter, r.status, r.code, r.message, r.headers);
}

async function listModels(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // No admission follows to re-check the key: catch up with other instances first.
  const credential = credentialOf(req);
  const auth = "conflict" in credential ? credential.conflict : await authorize(credential.token, Date.now(), true);
  if (!auth.ok) return sendError(res, LIST_SHAPE, auth.status, auth.code, auth.message);
  const allowed = await modelsKeyMayUse(auth.key);
  const models = (await activeModels()).filter((m) => allowed === null || allowed.includes(m.model));
  sendJson(res, 200, {
    object: "list",
    data: models.map((m) => ({ id: m.model, object: "model", created: 0, owned_by: m.provider })),
  });
}

async function inference(req: IncomingMessage, res: ServerResponse, adapter: ProtocolAdapter): Promise<void> {
  const startedAt = performance.now();
  const credential = credentialOf(req);
  const token = "conflict" in credential ? null : credential.token;
  const auth = "conflict" in credential ? credential.conflict : await authorize(token, Date.now());
  if (!auth.ok) {
    req.resume();
    return refuse(res, adapter, auth);
  }
  const parsed = await readJsonObject(req, (status, message) =>
    sendError(res, adapter, status, status === 413 ? "request_too_large" : "invalid_request", message, status === 413 ? { connection: "close" } : {}),
  );
  if (!parsed) return;
  const body = parsed.json;
  const invalid = adapter.invalid(body);
  if (invalid) return sendError(res, adapter, 400, "invalid_request", invalid);
  const stream = body.stream === true;
  const clientWantsUsage = stream ? adapter.askForStreamUsage(body) : false;
  const usageId = newUsageId();
  const prompt = promptSize(parsed.bytes, body);
  const decision = await admit({ adapter, token, key: auth.key, body, prompt, usageId });
  if (!("accounting" in decision)) {
    // Refused by the key's limits, budget, balance, block or lease: counted in memory for GET /api/usage (no I/O here).
    if (isCountedRefusal(decision.status)) countRefusal(auth.key.userId, auth.key.id, String(body.model), decision.status);
    if (decision.code === "budget_exceeded") countBudgetRefusal(auth.key.id);
    return refuse(res, adapter, decision);
  }
  const promptBytes = parsed.bytes;
  await relay({ req, res, adapter, admitted: decision, body, stream, clientWantsUsage, usageId, promptBytes, promptBound: prompt.bound, startedAt });
}
