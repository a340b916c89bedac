import type { IncomingMessage } from "node:http";
import { balanceMicros } from "@/lib/billing/ledger";
import { catchUp, localRevision, sync } from "@/lib/cluster/coherence";
import { redisEnabled, StoreUnavailableError } from "@/lib/cluster/redis";
import { prisma } from "@/lib/db";
import { env } from "@/lib/env";
import { boundedCharge } from "@/lib/gateway/charge";
import type { GatewayErrorCode, Json, ProtocolAdapter } from "@/lib/gateway/protocols";
import type { Translator } from "@/lib/gateway/translate/types";
import { planAttempts, type Route } from "@/lib/gateway/routing";
import { upstreamFor } from "@/lib/gateway/upstreams";
import { bearerToken } from "@/lib/http/bearer";
import { rotatedMessage, verifyKey, type ConsumptionKeyRecord } from "@/lib/keys/verify";
import { costMicros, limits, type Cooling, type RateState, type Refused } from "@/lib/limits";
import { budgetPeriodEnd, keyPeriodStart } from "@/lib/limits/periods";
import { findModel, type CatalogueModel } from "@/lib/models/catalogue";
import type { LimitRejectionReason } from "@/lib/ops/metrics";
import { blockIndexAt, nextBlockStart } from "@/lib/pools/blocks";
import { subscriptionFor, type SubscriptionView } from "@/lib/subscriptions/cache";

/**
 * Whether a request may go upstream, decided once per request from memory:
 * the key's verdict (lib/keys/verify.ts), the model (the catalogue), then one
 * atomic step in the limits store: a credit key's rpm, tpm, budget and
 * balance reservation, or a subscription key's reserved block and lease.
 * Either a refusal to send, or what the proxy needs to relay and settle.
 */

/** Why a request is not admitted, in the gateway's vocabulary; the router sends it in the protocol's shape. */
export interface Refusal {
  status: number;
  code: GatewayErrorCode;
  message: string;
  headers?: Record<string, string>;
  /** How the refusal is counted in the metrics (limit and key refusals only). */
  reason?: LimitRejectionReason;
}

/** How a request is paid for: a credit key's reservation, or a subscription key's lease. */
export interface Accounting {
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  renewEveryMs: number;
  /** The budget period the request was admitted in (0: none), carried in its usage record: its cost is charged to that period. */
  periodStart: number;
  renew(now: number): void;
  /**
   * Ends the request: settles `usage` (null: nothing was generated, it costs
   * nothing) with its usage record, `record(cost)`, in the same step. A
   * request that went to an upstream always has a record (an upstream error
   * is a row of the request log, at cost 0); `record` null ends one that
   * never left (every route cooling down): released, no record. Resolves
   * when both are in the limits store (with Redis: durable), never rejects.
   */
  end(usage: { inputTokens: number; outputTokens: number } | null, record: ((costMicros: number) => string) | null): Promise<void>;
}

/** A request as one upstream protocol gets it: the client's body itself, or its translation with the client's fields that were dropped. */
export interface Outgoing {
  body: Json;
  /** The client's fields the translation dropped (advisory, no equivalent), for `x-keygate-dropped-params`. */
  dropped: string[];
}

export interface Admitted {
  key: ConsumptionKeyRecord;
  model: CatalogueModel;
  /** The routes to try, in order (lib/gateway/routing.ts), or null for the demo model answered in process. */
  routes: Route[] | null;
  /** What to send a route: its translator's output, or (no translator) the client's body. */
  outgoing(route: Route | null): Outgoing;
  accounting: Accounting;
  /** The output cap sent upstream (the reservation holds exactly this many output tokens). */
  maxTokens: number;
  /** Response headers: rate-limit state, the usage record's id, a lowered max_tokens. */
  headers: Record<string, string>;
}

/**
 * The key from `Authorization: Bearer …` or `x-api-key` (null: neither), or
 * a refusal when the two carry different values: a request is never served
 * with one of two keys picked silently. The same key in both is fine.
 */
export function credentialOf(req: IncomingMessage): { token: string | null } | { conflict: Refusal & { ok: false; reason: LimitRejectionReason } } {
  const fromAuthorization = authorizationKey(req.headers.authorization);
  const header = req.headers["x-api-key"];
  const fromApiKey = typeof header === "string" && header.trim() ? header.trim() : null;
  if (fromAuthorization !== null && fromApiKey !== null && fromAuthorization !== fromApiKey) {
    const message =
      "This request carries two different keys, one in 'Authorization' and one in 'x-api-key'. Send your Keygate key in one of the two headers (or the same key in both).";
    return { conflict: { ok: false, status: 401, code: "invalid_api_key", message, reason: "invalid_key" } };
  }
  return { token: fromAuthorization ?? fromApiKey };
}

/** The key in an Authorization header: a Bearer token, or a bare key sent without the scheme (refused by its checksum if it is not one); null when empty. */
function authorizationKey(value: string | undefined): string | null {
  const auth = value?.trim();
  if (!auth || /^Bearer$/i.test(auth)) return null;
  return bearerToken(auth) ?? auth;
}

type Authorized = { ok: true; key: ConsumptionKeyRecord } | ({ ok: false } & Refusal & { reason: LimitRejectionReason });

/** A consumption key that may be used now, or why not (`fresh`: see verifyKey). */
export async function authorize(token: string | null, now: number, fresh = false): Promise<Authorized> {
  const refuse = (message: string, reason: LimitRejectionReason = "invalid_key"): Authorized => ({
    ok: false,
    status: 401,
    code: "invalid_api_key",
    message,
    reason,
  });
  if (!token) return refuse("No API key: send your Keygate key as 'Authorization: Bearer sk_…' or 'x-api-key: sk_…'.");
  if (token.startsWith("mk_"))
    return refuse("Management keys (mk_…) are for the management API, not for inference. Use a consumption key (sk_live_… or sk_pool_…).");
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
    case "key_rotated":
      return refuse(rotatedMessage(verdict.key), "rotated_key");
  }
  const key = verdict.key;
  if (key.kind === "management") return refuse("Management keys (mk_…) are for the management API, not for inference.");
  return { ok: true, key };
}

/**
 * Seeds the limits store with what the database says the key has spent and
 * the account holds, for whichever the store does not have yet (first use,
 * or a Redis that lost its data). Each read is checked against the store's
 * generation, so a flush or a credit that lands between the read and the
 * seed makes it read again instead of counting that money twice or never.
 * A key with a budget period is seeded with the spend of its period at `at`
 * (ApiKey.periodSpendMicros when ApiKey.periodStart is that period, else 0:
 * nothing written for it yet).
 */
export async function seedStore(key: ConsumptionKeyRecord, need: { account: boolean; key: boolean }, at = Date.now()): Promise<void> {
  const store = limits();
  const db = await prisma();
  const periodStart = keyPeriodStart(key, at);
  const periodEnd = budgetPeriodEnd(key.budgetPeriod, at);
  for (let i = 0; need.key && i < 10; i++) {
    const generation = await store.keyGeneration(key.id);
    const row = await db.apiKey.findUnique({ where: { id: key.id }, select: { spendMicros: true, periodStart: true, periodSpendMicros: true } });
    if (periodStart && periodEnd !== null) {
      const stored = row?.periodStart?.getTime() ?? 0;
      // A stored period later than this one (a clock behind another instance's) is counted too: it errs on refusing.
      const spent = stored >= periodStart ? Number(row?.periodSpendMicros ?? 0) : 0;
      if (await store.seedKey(key.id, spent, generation, { start: periodStart, end: periodEnd })) break;
    } else if (await store.seedKey(key.id, Number(row?.spendMicros ?? key.spendMicros), generation)) break;
  }
  for (let i = 0; need.account && i < 10; i++) {
    const generation = await store.accountGeneration(key.userId);
    const balance = await balanceMicros(key.userId);
    if (await store.seedAccount(key.userId, Number(balance), generation)) break;
  }
}

/** Whether a subscription key may be used at `now`: its subscription active and now inside a reserved block. */
export async function judgeSubscriptionKey(
  key: ConsumptionKeyRecord,
  now: number,
): Promise<{ ok: true; subscription: SubscriptionView } | { ok: false; code: "key_expired" | "outside_reserved_block"; refusal: Refusal }> {
  const sub = key.subscriptionId ? await subscriptionFor(key.subscriptionId) : null;
  if (!sub || sub.status !== "active" || sub.periodEnd <= now) {
    const ended = sub ? ` It ended on ${new Date(Math.min(sub.periodEnd, now)).toISOString()}.` : "";
    const message = `This key's subscription is no longer active.${ended} Renew it with POST /api/subscriptions/:id/renew; the same keys work again.`;
    return { ok: false, code: "key_expired", refusal: { status: 401, code: "invalid_api_key", message, reason: "expired_key" } };
  }
  if (!sub.poolActive || !sub.blocks.includes(blockIndexAt(now, sub.blockHours))) {
    const next = sub.poolActive ? nextBlockStart(now, sub.blocks, sub.blockHours, sub.periodEnd) : null;
    const when =
      next === null
        ? "No reserved block starts again before the subscription's period ends."
        : `The next reserved block starts at ${new Date(next).toISOString()}.`;
    return {
      ok: false,
      code: "outside_reserved_block",
      refusal: {
        status: 403,
        code: "outside_reserved_block",
        message: `This subscription key works only inside its reserved time blocks (UTC). ${when}`,
        headers: next === null ? {} : { "x-keygate-next-block-at": new Date(next).toISOString() },
        reason: "outside_reserved_block",
      },
    };
  }
  return { ok: true, subscription: sub };
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

function limitRefusal(result: Refused, key: ConsumptionKeyRecord, headers: Record<string, string>, now: number): Refusal {
  const dollars = `$${(result.availableMicros / 1e6).toFixed(6)}`;
  switch (result.reason) {
    case "rpm":
      return {
        status: 429,
        code: "rate_limit_exceeded",
        reason: "rpm",
        headers,
        message: `This key allows ${key.rpmLimit} requests per minute; try again in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s.`,
      };
    case "tpm":
      return {
        status: 429,
        code: "rate_limit_exceeded",
        reason: "tpm",
        headers,
        message: `This key allows ${key.tpmLimit} tokens per minute, and this request's estimate does not fit in what is left of the current minute (a request estimated above the whole limit runs once the window is empty). Retry after the Retry-After header's seconds.`,
      };
    case "budget": {
      const resetsAt = budgetPeriodEnd(key.budgetPeriod, now);
      const period = resetsAt === null ? "" : ` It resets at ${new Date(resetsAt).toISOString()} (budgetPeriod: ${key.budgetPeriod}).`;
      return {
        status: 402,
        code: "budget_exceeded",
        reason: "budget",
        headers,
        message: `This key's budget cannot pay for this request: ${dollars} of its maxBudget${resetsAt === null ? "" : " for this period"} is left after requests in flight.${period} Raise maxBudget, or send a smaller prompt or max_tokens.`,
      };
    }
    case "balance":
      return {
        status: 402,
        code: "insufficient_balance",
        reason: "balance",
        headers,
        message: `Your credit balance cannot pay for this request: ${dollars} is available after requests in flight. Top up your credits, or send a smaller prompt or max_tokens.`,
      };
  }
}

/** Decisions retried after a "stale" or "unseeded" answer before giving up with 503 (each retry makes progress, so this is never reached in practice). */
const MAX_DECISION_ATTEMPTS = 5;

export interface Candidate {
  adapter: ProtocolAdapter;
  token: string | null;
  key: ConsumptionKeyRecord;
  /** The request body; admission writes the upstream model's name and the granted max_tokens into it. */
  body: Json;
  /** The prompt's token bound (money) and estimate (tpm). */
  prompt: { bound: number; estimate: number };
  usageId: string;
}

/**
 * Decides the request: the model, then one atomic step in the store. "stale"
 * means another instance changed a key, subscription, pool or price since
 * this one last looked: catch up and decide again with fresh data.
 */
export async function admit(c: Candidate): Promise<Admitted | Refusal> {
  const { adapter, body } = c;
  const modelName = body.model as string;
  const requested = adapter.requestedMaxTokens(body);
  /** Each translator's output, made once per request whatever the decision loop does. */
  const translations = new Map<Translator, Outgoing | Refusal>();
  let key = c.key;
  let synced = false;
  for (let attempt = 1; ; attempt++) {
    if (attempt > MAX_DECISION_ATTEMPTS) throw new StoreUnavailableError("the limits store kept answering 'decide again'");
    if (attempt > 1) {
      const auth = await authorize(c.token, Date.now());
      if (!auth.ok) return auth;
      key = auth.key;
    }
    const model = await findModel(modelName);
    if ((!model || !model.active) && !synced && redisEnabled()) {
      // Perhaps added or re-enabled through another instance: catch up once before refusing.
      synced = true;
      await sync();
      continue;
    }
    const kind = adapter.modelKind ?? "chat";
    if (model && model.active && model.kind !== kind) return wrongKind(model, adapter);
    if (!model || !model.active) {
      const message = `The model '${modelName}' does not exist or is not served on ${adapter.path}. GET /v1/models lists the models you can use.`;
      return { status: 404, code: "model_not_found", message };
    }
    if (key.kind === "credit" && key.allowedModels !== null && !key.allowedModels.includes(model.model)) {
      // This process's copy of the key may predate an allowlist change made through another instance
      // (the store's revision check below never runs for a refusal): catch up once before refusing.
      if (!synced && redisEnabled()) {
        synced = true;
        await sync();
        continue;
      }
      return notAllowed(model, key.allowedModels);
    }
    const found = await upstreamFor(model, adapter);
    if ("notServed" in found) {
      const message = `The model '${modelName}' is not served on ${adapter.path}. GET /v1/models lists the models you can use.`;
      return { status: 404, code: "model_not_found", message };
    }
    if ("missing" in found) return { status: 502, code: "upstream_error", message: found.missing };
    // Translated before anything is counted or reserved: a parameter no route can carry is a 400 that costs nothing.
    const upstream = translate(found, model, body, translations);
    if ("status" in upstream) return upstream;
    /** The attempt plan, given the cooldowns read with the admission; null when every route is cooling down. */
    const plan = (cooling: Cooling): Route[] | null | Refusal => {
      if (upstream.kind === "demo") return null;
      const planned = planAttempts(upstream.routes, cooling, env().KEYGATE_MAX_ATTEMPTS);
      if ("routes" in planned) return planned.routes;
      const seconds = Math.max(1, Math.ceil(planned.coolingMs / 1000));
      return {
        status: 503,
        code: "upstream_unavailable",
        message: `Every upstream serving '${model.model}' is cooling down after failures; nothing was charged. Retry in ${seconds} s.`,
        headers: { "retry-after": String(seconds) },
        reason: "upstream_unavailable",
      };
    };

    if (key.kind === "subscription") {
      const accounting = await subscriptionAccounting(key, model, c.usageId, Date.now());
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
      if ("refusal" in accounting) return accounting.refusal;
      const routes = plan(accounting.cooling);
      if (routes && !Array.isArray(routes)) {
        void accounting.end(null, null);
        return routes;
      }
      const maxTokens = requested ?? model.maxOutputTokens;
      if (requested === null) adapter.setMaxTokens(body, maxTokens);
      return {
        key,
        model,
        routes,
        outgoing: outgoingFor(routes, body, translations, maxTokens),
        accounting,
        maxTokens,
        headers: { "x-keygate-usage-id": c.usageId },
      };
    }

    // Renewed every third of it while the request lives, so a crashed instance's reservation is freed within this.
    const ttlMs = env().KEYGATE_LEASE_TTL_S * 1000;
    const store = limits();
    const now = Date.now();
    // The period is decided here, once: the request is charged to it however long it runs (docs/gateway.md).
    const periodStart = keyPeriodStart(key, now);
    const admitted = await store.admit({
      revision: localRevision(),
      requestId: c.usageId,
      userId: key.userId,
      keyId: key.id,
      now,
      ttlMs,
      rpmLimit: key.rpmLimit,
      tpmLimit: key.tpmLimit,
      maxBudgetMicros: key.maxBudgetMicros,
      periodStart,
      promptTokens: c.prompt.bound,
      promptTokensEstimate: c.prompt.estimate,
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
      await seedStore(key, admitted, now);
      continue;
    }
    const headers = rateHeaders(admitted.rate);
    if (!admitted.ok) {
      if (admitted.retryAfterMs !== null) headers["retry-after"] = String(Math.max(1, Math.ceil(admitted.retryAfterMs / 1000)));
      return limitRefusal(admitted, key, headers, now);
    }
    // Always send a cap upstream: the reservation holds exactly that many output tokens.
    adapter.setMaxTokens(body, admitted.maxTokens);
    if (admitted.lowered) headers["x-keygate-max-tokens"] = String(admitted.maxTokens);
    // X-Request-Id (set by the front server) names the request in the logs; this names its usage record.
    headers["x-keygate-usage-id"] = c.usageId;
    body.model = model.upstreamModel;
    const requestId = c.usageId;
    const accounting: Accounting = {
      inputMicrosPerMTok: model.inputMicrosPerMTok,
      outputMicrosPerMTok: model.outputMicrosPerMTok,
      renewEveryMs: ttlMs / 3,
      periodStart,
      renew: (at) => void store.renew(requestId, at, ttlMs).catch(() => undefined),
      end: (usage, record) => {
        if (!record) {
          void store.release(requestId);
          return Promise.resolve();
        }
        // Nothing generated (an upstream error): the reservation ends at no cost, and the record joins the outbox in the same step.
        if (!usage) return store.settle(requestId, { costMicros: 0, tokens: 0 }, record(0)).catch(() => undefined);
        // Never below zero nor above what was reserved, whatever usage reached here (lib/gateway/charge.ts bounds it first).
        const cost = boundedCharge(
          costMicros(usage.inputTokens, usage.outputTokens, model.inputMicrosPerMTok, model.outputMicrosPerMTok),
          admitted.reservedMicros,
        );
        const tokens = usage.inputTokens + usage.outputTokens;
        const settled = { costMicros: cost, tokens: Number.isSafeInteger(tokens) && tokens > 0 ? tokens : 0 };
        return store.settle(requestId, settled, record(cost)).catch(() => undefined);
      },
    };
    const routes = plan(admitted.cooling);
    if (routes && !Array.isArray(routes)) {
      void accounting.end(null, null);
      return { ...routes, headers: { ...headers, ...routes.headers } };
    }
    return { key, model, routes, outgoing: outgoingFor(routes, body, translations, admitted.maxTokens), accounting, maxTokens: admitted.maxTokens, headers };
  }
}

const NO_DROPS: string[] = [];

/**
 * The model's routes with each translated request made (once per translator):
 * a route whose translation refuses a parameter is left out, and when that
 * leaves none, the first refusal is the answer (400 `unsupported_parameter`).
 */
function translate(
  found: Exclude<Awaited<ReturnType<typeof upstreamFor>>, { missing: string } | { notServed: true }>,
  model: CatalogueModel,
  body: Json,
  translations: Map<Translator, Outgoing | Refusal>,
): typeof found | Refusal {
  if (found.kind === "demo" || found.routes.every((r) => r.translator === null)) return found;
  let refusal: Refusal | null = null;
  const routes = found.routes.filter((r) => {
    if (!r.translator) return true;
    let t = translations.get(r.translator);
    if (!t) {
      const out = r.translator.request(body, { model: model.model, maxOutputTokens: model.maxOutputTokens });
      t = "unsupported" in out ? { status: 400, code: "unsupported_parameter", message: out.message } : out;
      translations.set(r.translator, t);
    }
    if ("status" in t) refusal ??= t;
    return !("status" in t);
  });
  return routes.length ? { kind: "http", routes } : refusal!;
}

/**
 * What each route is sent: the client's body (its cap already written), or
 * a translation, with the granted output cap written in by the route's own
 * adapter (a translated body has the route's field names).
 */
function outgoingFor(
  routes: Route[] | null,
  body: Json,
  translations: Map<Translator, Outgoing | Refusal>,
  maxTokens: number,
): (route: Route | null) => Outgoing {
  const own: Outgoing = { body, dropped: NO_DROPS };
  for (const route of routes ?? []) {
    const out = route.translator && translations.get(route.translator);
    if (out && "body" in out) route.adapter.setMaxTokens(out.body, maxTokens);
  }
  return (route) => {
    const out = route?.translator ? translations.get(route.translator) : own;
    return out && "body" in out ? out : own;
  };
}

/**
 * The models a key may use, for GET /v1/models (null: every active model): a
 * credit key's allowlist, or the pool's models for a subscription key (none
 * once its subscription is gone). Blocks and the lease are not judged here:
 * listing is not a request to a model.
 */
export async function modelsKeyMayUse(key: ConsumptionKeyRecord): Promise<readonly string[] | null> {
  if (key.kind === "credit") return key.allowedModels;
  const sub = key.subscriptionId ? await subscriptionFor(key.subscriptionId) : null;
  return sub?.models ?? [];
}

/**
 * A model asked for on an endpoint of another kind: 400 (the model exists,
 * and GET /v1/models lists it, so "not found" would mislead), naming the
 * endpoint that serves it.
 */
function wrongKind(model: CatalogueModel, adapter: ProtocolAdapter): Refusal {
  const message =
    model.kind === "embedding"
      ? `'${model.model}' is an embedding model: send it to POST /v1/embeddings. ${adapter.path} serves chat models.`
      : `'${model.model}' is a chat model: send it to POST /v1/chat/completions (or /v1/messages, /v1/responses). ${adapter.path} serves embedding models only.`;
  return { status: 400, code: "invalid_request", message };
}

/** A credit key's allowlist refusal: before anything is counted or reserved, so it costs nothing. */
function notAllowed(model: CatalogueModel, allowed: readonly string[]): Refusal {
  const message = `This key may not use '${model.model}'. It may use: ${allowed.join(", ")}. Change the key's allowedModels (dashboard, or PUT /api/keys/:id) to use another model.`;
  return { status: 403, code: "model_not_allowed", message, reason: "model_not_allowed" };
}

/**
 * A subscription key: valid while its subscription is active and now (UTC)
 * is inside one of its reserved blocks, for the pool's models only, with one
 * request in flight (a lease with a TTL, renewed while the request lives).
 * It costs nothing; its usage is recorded at $0.
 */
async function subscriptionAccounting(
  key: ConsumptionKeyRecord,
  model: CatalogueModel,
  requestId: string,
  now: number,
): Promise<(Accounting & { cooling: Cooling }) | { refusal: Refusal } | { stale: number }> {
  const verdict = await judgeSubscriptionKey(key, now);
  if (!verdict.ok) return { refusal: verdict.refusal };
  if (!verdict.subscription.models.includes(model.model)) {
    const message = `This subscription's pool does not serve '${model.model}'. It serves: ${verdict.subscription.models.join(", ")}.`;
    return { refusal: { status: 403, code: "model_not_allowed", message, reason: "model_not_allowed" } };
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
        reason: "concurrency",
      },
    };
  }
  return {
    cooling: lease.cooling,
    inputMicrosPerMTok: 0,
    outputMicrosPerMTok: 0,
    renewEveryMs: ttlMs / 3,
    periodStart: 0,
    renew: (at) => void store.renewLease(key.id, requestId, at, ttlMs).catch(() => undefined),
    end: (usage, record) => {
      void store.releaseLease(key.id, requestId);
      return record ? store.record(requestId, record(0)).catch(() => undefined) : Promise.resolve();
    },
  };
}
