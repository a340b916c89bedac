import type { IncomingMessage, ServerResponse } from "node:http";
import { Agent, request as undiciRequest } from "undici";
import { catchUp, localRevision, sync } from "@/lib/cluster/coherence";
import { isStoreUnavailable, redisEnabled, StoreUnavailableError } from "@/lib/cluster/redis";
import { env } from "@/lib/env";
import { activeModels, findModel, type CatalogueModel, type Protocol } from "@/lib/models/catalogue";
import { echoResponse, type UpstreamResponse } from "@/lib/gateway/echo";
import { readJsonObject, sendError } from "@/lib/gateway/io";
import { judgeSubscriptionKey, seedStore, type Refusal } from "@/lib/gateway/keys";
import { costMicros, limits, type RateState, type Refused } from "@/lib/limits";
import { estimateTokens, promptTokenBound, renameModel, requestedMaxTokens, setMaxTokens, StreamMeter, usageFromBody, type GatewayErrorCode } from "@/lib/gateway/protocols";
import { newUsageId, recordUsage } from "@/lib/usage/writer";
import { verifyKeyRequest } from "@/lib/gateway/verify-endpoint";
import { sendJson, sendJsonError } from "@/lib/http/node-guards";
import { verifyKey, type ConsumptionKeyRecord } from "@/lib/keys/verify";
import { redact } from "@/lib/log";
import { logger } from "@/lib/ops/logger";
import { countLimitRejection, decReservationsInFlight, incReservationsInFlight, observeGatewayOverhead, observeUpstreamLatency, type LimitRejectionReason } from "@/lib/ops/metrics";

/**
 * The gateway's hot path, as a plain node:http handler (server.ts calls it
 * before Next): /v1/chat/completions, /v1/messages, /v1/models and
 * POST /api/keys/verify. Per request, in steady state: a checksum, a SHA-256,
 * Map lookups, one admission in the limits store (in memory, or one Redis
 * script), and the upstream call. No database read: keys, balances and the catalogue are in
 * memory, and usage is written in batches (usage.ts).
 */

interface GatewayState {
  agent: Agent | null;
  /** The upstream timeout the agent was made with (a changed setting makes a new agent). */
  agentTimeoutMs: number;
  /** Requests in flight, so a shutdown can wait for them and settle them. */
  inFlight: Set<AbortController>;
}

const globalForGateway = globalThis as unknown as { __keygateGateway?: GatewayState };

function gateway(): GatewayState {
  return (globalForGateway.__keygateGateway ??= { agent: null, agentTimeoutMs: 0, inFlight: new Set() });
}

function agent(): Agent {
  const g = gateway();
  const timeout = env().KEYGATE_UPSTREAM_TIMEOUT_MS;
  if (!g.agent || g.agentTimeoutMs !== timeout) {
    void g.agent?.close();
    g.agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, headersTimeout: timeout, bodyTimeout: timeout });
    g.agentTimeoutMs = timeout;
  }
  return g.agent;
}

/** Answers the request and returns true when it is the gateway's; false hands it on (to Next). */
export function handleGateway(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (path === "/api/keys/verify") {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      sendJsonError(res, 405, "method_not_allowed", "POST /api/keys/verify takes the key in a JSON body: {\"key\": \"sk_…\"}.");
    } else void guard(req, res, "openai", verifyKeyRequest(req, res));
    return true;
  }
  if (!path.startsWith("/v1/") && path !== "/v1") return false;
  if (path === "/v1/chat/completions" && req.method === "POST") void guard(req, res, "openai", inference(req, res, "openai"));
  else if (path === "/v1/messages" && req.method === "POST") void guard(req, res, "anthropic", inference(req, res, "anthropic"));
  else if (path === "/v1/models" && req.method === "GET") void guard(req, res, "openai", listModels(req, res));
  else {
    const protocol: Protocol = path.startsWith("/v1/messages") ? "anthropic" : "openai";
    sendError(res, protocol, 404, "invalid_request", `Keygate serves POST /v1/chat/completions, POST /v1/messages and GET /v1/models; ${req.method} ${path} is not one of them.`);
  }
  return true;
}

async function guard(req: IncomingMessage, res: ServerResponse, protocol: Protocol, work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (isStoreUnavailable(err)) {
      countLimitRejection("store_unavailable");
      // Fail closed: without the shared store no limit can be checked, so nothing is admitted.
      if (!res.headersSent) sendError(res, protocol, 503, "store_unavailable", "Keygate cannot check this key's limits right now (its Redis is unreachable), so the request was refused and nothing was charged. Retry in a few seconds.", { "retry-after": "1" });
      else res.destroy();
      return;
    }
    logger().error(`gateway request failed: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}`);
    if (!res.headersSent) sendError(res, protocol, 500, "internal_error", "Keygate failed to handle this request; nothing was charged. Please try again.");
    else res.destroy();
  }
}

/** The key from `Authorization: Bearer …` or `x-api-key`. */
export function credentialOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    if (/^Bearer\s*$/i.test(auth.trim())) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : auth.trim();
  }
  const key = req.headers["x-api-key"];
  return typeof key === "string" && key.trim() ? key.trim() : null;
}

type Authorized = { ok: true; key: ConsumptionKeyRecord } | { ok: false; status: number; code: GatewayErrorCode; message: string; reason: LimitRejectionReason };

/** A consumption key that may be used now, or why not (`fresh`: see verifyKey). */
export async function authorize(token: string | null, now: number, fresh = false): Promise<Authorized> {
  const refuse = (message: string, reason: LimitRejectionReason = "invalid_key"): Authorized => ({ ok: false, status: 401, code: "invalid_api_key", message, reason });
  if (!token) return refuse("No API key: send your Keygate key as 'Authorization: Bearer sk_…' or 'x-api-key: sk_…'.");
  if (token.startsWith("mk_")) return refuse("Management keys (mk_…) are for the management API, not for inference. Use a consumption key (sk_live_… or sk_pool_…).");
  const verdict = await verifyKey(token, now, { fresh });
  switch (verdict.code) {
    case "malformed_key":
      return refuse("This is not a valid Keygate key: its checksum does not match. Check that it was copied whole.");
    case "unknown_key":
      return refuse("This key does not exist or has been deleted.");
    case "key_inactive":
      return refuse("This key is paused. Reactivate it in the dashboard or with PUT /api/keys/:id.", "inactive_key");
    case "key_expired":
      return refuse("This key has expired.", "expired_key");
  }
  const key = verdict.key;
  if (key.kind === "management") return refuse("Management keys (mk_…) are for the management API, not for inference.");
  return { ok: true, key };
}

function rateHeaders(rate: RateState): Record<string, string> {
  const h: Record<string, string> = {};
  if (rate.rpmLimit !== null) {
    h["x-ratelimit-limit-requests"] = String(rate.rpmLimit);
    h["x-ratelimit-remaining-requests"] = String(rate.rpmRemaining);
    h["x-ratelimit-reset-requests"] = seconds(rate.rpmResetMs);
  }
  if (rate.tpmLimit !== null) {
    h["x-ratelimit-limit-tokens"] = String(rate.tpmLimit);
    h["x-ratelimit-remaining-tokens"] = String(rate.tpmRemaining);
    h["x-ratelimit-reset-tokens"] = seconds(rate.tpmResetMs);
  }
  return h;
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}

async function listModels(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // No admission follows to re-check the key: catch up with other instances first.
  const auth = await authorize(credentialOf(req), Date.now(), true);
  if (!auth.ok) return sendError(res, "openai", auth.status, auth.code, auth.message);
  const models = await activeModels();
  sendJson(res, 200, {
    object: "list",
    data: models.map((m) => ({ id: m.model, object: "model", created: 0, owned_by: m.provider })),
  });
}

function upstreamFor(protocol: Protocol): { url: string; headers: Record<string, string> } | null {
  const e = env();
  if (protocol === "openai") {
    if (!e.OPENAI_BASE_URL && !e.OPENAI_API_KEY) return null;
    const base = (e.OPENAI_BASE_URL ?? "https://api.openai.com/v1").replace(/\/+$/, "");
    return { url: `${base}/chat/completions`, headers: e.OPENAI_API_KEY ? { authorization: `Bearer ${e.OPENAI_API_KEY}` } : {} };
  }
  if (!e.ANTHROPIC_BASE_URL && !e.ANTHROPIC_API_KEY) return null;
  const base = (e.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com").replace(/\/+$/, "");
  return { url: `${base}/v1/messages`, headers: e.ANTHROPIC_API_KEY ? { "x-api-key": e.ANTHROPIC_API_KEY } : {} };
}

/** Client headers passed on to the upstream (protocol versions and features; never the client's key). */
function forwardedHeaders(req: IncomingMessage, protocol: Protocol): Record<string, string> {
  const out: Record<string, string> = { "content-type": "application/json" };
  if (protocol === "anthropic") {
    const version = req.headers["anthropic-version"];
    out["anthropic-version"] = typeof version === "string" ? version : "2023-06-01";
    const beta = req.headers["anthropic-beta"];
    if (typeof beta === "string") out["anthropic-beta"] = beta;
  }
  return out;
}

function refusalMessage(result: Refused, key: ConsumptionKeyRecord): { status: number; code: GatewayErrorCode; message: string } {
  switch (result.reason) {
    case "rpm":
      return { status: 429, code: "rate_limit_exceeded", message: `This key allows ${key.rpmLimit} requests per minute; try again in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s.` };
    case "tpm":
      return { status: 429, code: "rate_limit_exceeded", message: `This key allows ${key.tpmLimit} tokens per minute, and this request could use more than is left in the current minute.` };
    case "budget":
      return { status: 402, code: "budget_exceeded", message: `This key's budget cannot pay for this request: $${(result.availableMicros / 1e6).toFixed(6)} of its maxBudget is left after requests in flight. Raise maxBudget, or send a smaller prompt or max_tokens.` };
    case "balance":
      return { status: 402, code: "insufficient_balance", message: `Your credit balance cannot pay for this request: $${(result.availableMicros / 1e6).toFixed(6)} is available after requests in flight. Top up your credits, or send a smaller prompt or max_tokens.` };
  }
}

/** Decisions retried after a "stale" or "unseeded" answer before giving up with 503 (each retry makes progress, so this is never reached in practice). */
const MAX_DECISION_ATTEMPTS = 5;

async function inference(req: IncomingMessage, res: ServerResponse, protocol: Protocol): Promise<void> {
  const startedAt = performance.now();
  const now = Date.now();
  const token = credentialOf(req);
  let auth = await authorize(token, now);
  if (!auth.ok) {
    req.resume();
    countLimitRejection(auth.reason);
    return sendError(res, protocol, auth.status, auth.code, auth.message);
  }
  const parsed = await readJsonObject(req, res, protocol);
  if (!parsed) return;
  const body = parsed.json;
  if (typeof body.model !== "string" || !body.model) return sendError(res, protocol, 400, "invalid_request", "The request needs a 'model': one of the names GET /v1/models lists.");
  if (!Array.isArray(body.messages) || body.messages.length === 0) return sendError(res, protocol, 400, "invalid_request", "The request needs a non-empty 'messages' array.");
  for (const field of ["max_tokens", "max_completion_tokens"]) {
    const v = body[field];
    if (v !== undefined && v !== null && !(typeof v === "number" && Number.isInteger(v) && v > 0)) {
      return sendError(res, protocol, 400, "invalid_request", `'${field}' must be a positive whole number of tokens.`);
    }
  }
  const modelName = body.model;
  const requestId = newUsageId();
  const stream = body.stream === true;
  let clientWantsUsage = false;
  if (stream && protocol === "openai") {
    const options = (body.stream_options && typeof body.stream_options === "object" ? body.stream_options : {}) as Record<string, unknown>;
    clientWantsUsage = options.include_usage === true;
    body.stream_options = { ...options, include_usage: true };
  }
  const requested = requestedMaxTokens(protocol, body);
  const promptTokens = promptTokenBound(parsed.bytes, body);

  // Decide: the key (from memory), the model, then one atomic step in the store.
  // "stale" means another instance changed a key, subscription, pool or price
  // since this one last looked: catch up and decide again with fresh data.
  let synced = false;
  for (let attempt = 1; ; attempt++) {
    if (attempt > MAX_DECISION_ATTEMPTS) throw new StoreUnavailableError("the limits store kept answering 'decide again'");
    if (attempt > 1) {
      auth = await authorize(token, Date.now());
      if (!auth.ok) {
        countLimitRejection(auth.reason);
        return sendError(res, protocol, auth.status, auth.code, auth.message);
      }
    }
    const key = auth.key;
    const model = await findModel(modelName);
    if ((!model || !model.active) && !synced && redisEnabled()) {
      // Perhaps added or re-enabled through another instance: catch up once before refusing.
      synced = true;
      await sync();
      continue;
    }
    if (!model || !model.active || (model.provider !== protocol && model.provider !== "keygate")) {
      const which = protocol === "openai" ? "/v1/chat/completions" : "/v1/messages";
      return sendError(res, protocol, 404, "model_not_found", `The model '${modelName}' does not exist or is not served on ${which}. GET /v1/models lists the models you can use.`);
    }
    const upstream = model.provider === "keygate" ? null : upstreamFor(protocol);
    if (model.provider !== "keygate" && !upstream) {
      return sendError(res, protocol, 502, "upstream_error", `No ${protocol === "openai" ? "OpenAI" : "Anthropic"} upstream is configured for '${model.model}'. The operator must set ${protocol === "openai" ? "OPENAI_BASE_URL or OPENAI_API_KEY" : "ANTHROPIC_BASE_URL or ANTHROPIC_API_KEY"}.`);
    }
    const common = { req, res, protocol, key, model, body, stream, clientWantsUsage, requestId, promptBytes: parsed.bytes, startedAt, upstream };

    if (key.kind === "subscription") {
      const accounting = await subscriptionAccounting(key, model, requestId, Date.now());
      if ("stale" in accounting) {
        await catchUp(accounting.stale);
        continue;
      }
      if ("refusal" in accounting && !synced && redisEnabled() && accounting.refusal.code !== "concurrency_limit") {
        // The subscription or its pool may have changed through another instance (a renewal): catch up once before refusing.
        synced = true;
        await sync();
        continue;
      }
      if ("refusal" in accounting) {
        const r = accounting.refusal;
        countLimitRejection(r.code === "concurrency_limit" ? "concurrency" : r.code === "invalid_api_key" ? "expired_key" : r.code === "model_not_allowed" ? "model_not_allowed" : "outside_reserved_block");
        return sendError(res, protocol, r.status, r.code, r.message, r.headers);
      }
      body.model = model.upstreamModel;
      if (requested === null) setMaxTokens(protocol, body, model.maxOutputTokens);
      return forward({ ...common, accounting, maxTokens: requested ?? model.maxOutputTokens, headers: { "x-keygate-usage-id": requestId } });
    }

    // Renewed every third of it while the request lives, so a crashed instance's reservation is freed within this.
    const ttlMs = env().KEYGATE_LEASE_TTL_S * 1000;
    const store = limits();
    const admitted = await store.admit({
      revision: localRevision(),
      requestId,
      userId: key.userId,
      keyId: key.id,
      now: Date.now(),
      ttlMs,
      rpmLimit: key.rpmLimit,
      tpmLimit: key.tpmLimit,
      maxBudgetMicros: key.maxBudgetMicros,
      promptTokens,
      promptTokensEstimate: estimateTokens(parsed.bytes),
      inputMicrosPerMTok: model.inputMicrosPerMTok,
      outputMicrosPerMTok: model.outputMicrosPerMTok,
      requestedMaxTokens: requested,
      modelMaxTokens: model.maxOutputTokens,
    });
    if (!admitted.ok && admitted.reason === "stale") {
      await catchUp(admitted.revision);
      continue;
    }
    if (!admitted.ok && admitted.reason === "unseeded") {
      await seedStore(key, admitted);
      continue;
    }
    const headers = rateHeaders(admitted.rate);
    if (!admitted.ok) {
      countLimitRejection(admitted.reason);
      const refusal = refusalMessage(admitted, key);
      if (admitted.retryAfterMs !== null) headers["retry-after"] = String(Math.max(1, Math.ceil(admitted.retryAfterMs / 1000)));
      return sendError(res, protocol, refusal.status, refusal.code, refusal.message, headers);
    }
    // Always send a cap upstream: the reservation holds exactly that many output tokens.
    setMaxTokens(protocol, body, admitted.maxTokens);
    if (admitted.lowered) headers["x-keygate-max-tokens"] = String(admitted.maxTokens);
    // X-Request-Id (set by the front server) names the request in the logs; this names its usage record.
    headers["x-keygate-usage-id"] = requestId;
    body.model = model.upstreamModel;
    const accounting: Accounting = {
      inputMicrosPerMTok: model.inputMicrosPerMTok,
      outputMicrosPerMTok: model.outputMicrosPerMTok,
      renewEveryMs: ttlMs / 3,
      renew: (at) => void store.renew(requestId, at, ttlMs).catch(() => undefined),
      end: (usage) => {
        if (!usage) {
          void store.release(requestId);
          return 0;
        }
        const cost = costMicros(usage.inputTokens, usage.outputTokens, model.inputMicrosPerMTok, model.outputMicrosPerMTok);
        void store.settle(requestId, { costMicros: cost, tokens: usage.inputTokens + usage.outputTokens });
        return cost;
      },
    };
    return forward({ ...common, accounting, maxTokens: admitted.maxTokens, headers });
  }
}

/**
 * A subscription key: valid while its subscription is active and now (UTC)
 * is inside one of its reserved blocks, for the pool's models only, with one
 * request in flight (a lease with a TTL, renewed while the request lives).
 * It costs nothing; its usage is recorded at $0.
 */
async function subscriptionAccounting(key: ConsumptionKeyRecord, model: CatalogueModel, requestId: string, now: number): Promise<Accounting | { refusal: Refusal } | { stale: number }> {
  const verdict = await judgeSubscriptionKey(key, now);
  if (!verdict.ok) return { refusal: verdict.refusal };
  if (!verdict.subscription.models.includes(model.model)) {
    return { refusal: { status: 403, code: "model_not_allowed", message: `This subscription's pool does not serve '${model.model}'. It serves: ${verdict.subscription.models.join(", ")}.` } };
  }
  const store = limits();
  const ttlMs = env().KEYGATE_LEASE_TTL_S * 1000;
  const lease = await store.acquireLease(key.id, requestId, now, ttlMs, localRevision());
  if (!lease.ok && "reason" in lease) return { stale: lease.revision };
  if (!lease.ok) {
    return {
      refusal: {
        status: 429,
        code: "concurrency_limit",
        message: "This subscription key already has a request in flight; subscription keys allow one at a time. Retry when it finishes.",
        headers: { "retry-after": String(Math.max(1, Math.ceil(lease.retryAfterMs / 1000))) },
      },
    };
  }
  return {
    inputMicrosPerMTok: 0,
    outputMicrosPerMTok: 0,
    renewEveryMs: ttlMs / 3,
    renew: (at) => void store.renewLease(key.id, requestId, at, ttlMs).catch(() => undefined),
    end: () => {
      void store.releaseLease(key.id, requestId);
      return 0;
    },
  };
}

/** How a request is paid for: a credit key's reservation, or a subscription key's lease. */
interface Accounting {
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  renewEveryMs: number;
  renew(now: number): void;
  /** Ends the request: settles `usage` (null: nothing was generated) and returns its cost. */
  end(usage: { inputTokens: number; outputTokens: number } | null): number;
}

interface Forward {
  accounting: Accounting;
  req: IncomingMessage;
  res: ServerResponse;
  protocol: Protocol;
  key: ConsumptionKeyRecord;
  model: CatalogueModel;
  body: Record<string, unknown>;
  stream: boolean;
  clientWantsUsage: boolean;
  requestId: string;
  promptBytes: number;
  maxTokens: number;
  headers: Record<string, string>;
  startedAt: number;
  upstream: { url: string; headers: Record<string, string> } | null;
}

async function forward(f: Forward): Promise<void> {
  const { res, protocol, model, requestId, accounting } = f;
  const abort = new AbortController();
  const g = gateway();
  g.inFlight.add(abort);
  // A client that goes away mid-request: stop the upstream, charge what was generated.
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on("close", onClose);
  // The reservation or lease lives while the request does, however long the upstream takes.
  const renewal = setInterval(() => accounting.renew(Date.now()), accounting.renewEveryMs);
  renewal.unref();
  incReservationsInFlight();
  let settled = false;
  const finish = (status: number, usage: { inputTokens: number; outputTokens: number } | null, ttftMs: number | null) => {
    if (settled) return;
    settled = true;
    decReservationsInFlight();
    clearInterval(renewal);
    g.inFlight.delete(abort);
    res.off("close", onClose);
    const cost = accounting.end(usage);
    if (!usage) return;
    recordUsage({
      id: requestId,
      userId: f.key.userId,
      apiKeyId: f.key.id,
      model: model.model,
      provider: model.provider,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costMicros: cost,
      inputMicrosPerMTok: accounting.inputMicrosPerMTok,
      outputMicrosPerMTok: accounting.outputMicrosPerMTok,
      status,
      latencyMs: Math.round(performance.now() - f.startedAt),
      ttftMs,
      streamed: f.stream,
      createdAt: new Date(),
    });
  };

  const calledAt = performance.now();
  observeGatewayOverhead(protocol === "openai" ? "/v1/chat/completions" : "/v1/messages", (calledAt - f.startedAt) / 1000);
  let upstream: UpstreamResponse;
  try {
    upstream = f.upstream
      ? await undiciRequest(f.upstream.url, {
          method: "POST",
          headers: { ...forwardedHeaders(f.req, protocol), ...f.upstream.headers },
          body: JSON.stringify(f.body),
          signal: abort.signal,
          dispatcher: agent(),
        })
      : echoResponse(protocol, f.body, f.maxTokens, f.promptBytes);
  } catch (err) {
    finish(502, null, null);
    if (abort.signal.aborted) return;
    const timeout = err instanceof Error && /timeout/i.test(err.name + err.message);
    observeUpstreamLatency(model.provider, timeout ? "timeout" : "error", (performance.now() - calledAt) / 1000);
    return sendError(
      res,
      protocol,
      timeout ? 504 : 502,
      timeout ? "upstream_timeout" : "upstream_error",
      timeout ? `The upstream for '${model.model}' did not answer in time; nothing was charged.` : `The upstream for '${model.model}' could not be reached; nothing was charged. Try again shortly.`,
      f.headers,
    );
  }

  observeUpstreamLatency(model.provider, upstream.statusCode, (performance.now() - calledAt) / 1000);
  if (upstream.statusCode >= 400) {
    // Passed on in the upstream's own shape and status; nothing was generated, nothing is charged.
    const text = await readAll(upstream.body).catch(() => "");
    finish(upstream.statusCode, null, null);
    const contentType = header(upstream.headers, "content-type") ?? "application/json";
    const retryAfter = header(upstream.headers, "retry-after");
    res.writeHead(upstream.statusCode, { ...f.headers, "content-type": contentType, ...(retryAfter ? { "retry-after": retryAfter } : {}) });
    res.end(text);
    return;
  }

  if (!f.stream) {
    let text: string;
    try {
      text = await readAll(upstream.body);
    } catch {
      // Cut off mid-body: the upstream read the prompt; charge its estimate.
      finish(502, { inputTokens: estimateTokens(f.promptBytes), outputTokens: 0 }, null);
      if (!abort.signal.aborted) sendError(res, protocol, 502, "upstream_error", "The upstream's answer was cut off.", f.headers);
      return;
    }
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = null;
    }
    const usage = json ? usageFromBody(protocol, json) : null;
    // An upstream that reports no usage is charged by estimate: about four bytes a token, each way.
    finish(upstream.statusCode, usage ?? { inputTokens: estimateTokens(f.promptBytes), outputTokens: Math.min(f.maxTokens, estimateTokens(text.length)) }, null);
    if (json && model.upstreamModel !== model.model) {
      renameModel(json, model.model);
      text = JSON.stringify(json);
    }
    if (!res.destroyed) {
      res.writeHead(upstream.statusCode, { ...f.headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    }
    return;
  }

  // Streaming: pass each chunk on as it arrives, never buffering past one event, and wait when the client is slow.
  const meter = new StreamMeter(protocol, f.clientWantsUsage, model.model, model.upstreamModel);
  res.writeHead(upstream.statusCode, {
    ...f.headers,
    "content-type": header(upstream.headers, "content-type") ?? "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  let status = upstream.statusCode;
  try {
    for await (const chunk of upstream.body) {
      const out = meter.push(chunk);
      if (out && !res.write(out)) await drained(res, abort.signal);
    }
    const rest = meter.end();
    if (rest) res.write(rest);
  } catch {
    status = abort.signal.aborted ? 499 : 502;
  }
  const usage = {
    inputTokens: meter.usage.inputTokens ?? estimateTokens(f.promptBytes),
    outputTokens: Math.min(Math.max(meter.usage.outputTokens ?? 0, meter.deltas), f.maxTokens),
  };
  finish(status, usage, meter.firstTokenAt === null ? null : Math.round(meter.firstTokenAt - f.startedAt));
  if (status === 502) res.destroy();
  else res.end();
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", fail);
      resolve();
    };
    const fail = () => {
      res.off("drain", done);
      reject(new Error("aborted"));
    };
    res.on("drain", done);
    signal.addEventListener("abort", fail, { once: true });
  });
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Shutdown: waits for requests in flight (up to `graceMs`), then aborts the rest; each settles what it used. */
export async function drainGateway(graceMs: number): Promise<void> {
  const g = gateway();
  const deadline = Date.now() + graceMs;
  while (g.inFlight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const a of g.inFlight) a.abort();
  const settleBy = Date.now() + 1_000;
  while (g.inFlight.size && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 10));
}
