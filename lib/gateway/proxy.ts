import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Admitted } from "@/lib/gateway/admission";
import { sendError } from "@/lib/gateway/io";
import { chargeableUsage } from "@/lib/gateway/charge";
import { estimateTokens, StreamMeter, type Json, type ProtocolAdapter, type Usage } from "@/lib/gateway/protocols";
import { noteAttempt, retryAfterMs, RETRYABLE_STATUSES, type Route } from "@/lib/gateway/routing";
import { callUpstream, type UpstreamResponse } from "@/lib/gateway/upstreams";
import { env } from "@/lib/env";
import { limits } from "@/lib/limits";
import { recordUpstreamAttempt } from "@/lib/limits/health";
import { decReservationsInFlight, incReservationsInFlight, observeGatewayOverhead, observeUpstreamLatency, routeLabel } from "@/lib/ops/metrics";
import { redact } from "@/lib/log";
import { encodeUsage } from "@/lib/usage/writer";

/**
 * Relays an admitted request to its upstream and the answer back, then
 * finishes it exactly once: settles the reservation (or releases the lease)
 * at the real usage and records it. Streams pass event by event, never
 * buffering past one event, and wait while the client is slow; a client that
 * goes away aborts the upstream and pays for what was generated.
 */

interface InFlight {
  requests: Set<AbortController>;
}

const globalForProxy = globalThis as unknown as { __keygateInFlight?: InFlight };

function inFlight(): Set<AbortController> {
  return (globalForProxy.__keygateInFlight ??= { requests: new Set() }).requests;
}

export interface Relay {
  req: IncomingMessage;
  res: ServerResponse;
  adapter: ProtocolAdapter;
  admitted: Admitted;
  body: Json;
  stream: boolean;
  clientWantsUsage: boolean;
  usageId: string;
  promptBytes: number;
  /** The prompt's token bound, as admission reserved it: no plausible input count is above it. */
  promptBound: number;
  startedAt: number;
}

export async function relay(r: Relay): Promise<void> {
  const { res, adapter } = r;
  const { model, accounting, maxTokens, headers } = r.admitted;
  const abort = new AbortController();
  const requests = inFlight();
  requests.add(abort);
  // A client that goes away mid-request: stop the upstream, charge what was generated.
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on("close", onClose);
  // The reservation or lease lives while the request does, however long the upstream takes.
  const renewal = setInterval(() => accounting.renew(Date.now()), accounting.renewEveryMs);
  renewal.unref();
  incReservationsInFlight();
  /** The attempts made and the upstream that answered, for the usage record. */
  let attempts = 0;
  let upstreamName = "";
  /** The model's name at the upstream that answered (each route may name it its own way); the client sees the public name. */
  let upstreamModel = model.upstreamModel;
  /** The route that answered (null: the demo model). */
  let answered: Route | null = null;
  /** A retryable failure: counted against the upstream, which may start cooling down (for every instance). */
  const failed = (route: Route | null, status: number | null, retryAfter: number | null) => {
    if (!route) return;
    recordUpstreamAttempt(route.upstream, true);
    const e = env();
    const cool = noteAttempt(
      route.cooldownKey,
      { failed: true, status, retryAfterMs: retryAfter },
      e.KEYGATE_COOLDOWN_S * 1000,
      e.KEYGATE_COOLDOWN_AFTER_FAILURES,
    );
    if (cool !== null)
      void limits()
        .coolDown(route.cooldownKey, cool)
        .catch(() => undefined);
  };
  const tried = (i: number) => (i > 0 ? ` (${i + 1} upstreams tried)` : "");
  let finished = false;
  /** Resolves when the settlement and its usage record are in the limits store: the response ends only then. */
  const finish = (status: number, usage: Usage | null, ttftMs: number | null): Promise<void> => {
    if (finished) return Promise.resolve();
    finished = true;
    decReservationsInFlight();
    clearInterval(renewal);
    requests.delete(abort);
    res.off("close", onClose);
    // The record travels with the settlement (one step in the store), so neither can be lost without the other.
    return accounting.end(usage, (cost) =>
      encodeUsage({
        id: r.usageId,
        userId: r.admitted.key.userId,
        apiKeyId: r.admitted.key.id,
        model: model.model,
        provider: model.provider,
        inputTokens: usage?.inputTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
        costMicros: cost,
        inputMicrosPerMTok: accounting.inputMicrosPerMTok,
        outputMicrosPerMTok: accounting.outputMicrosPerMTok,
        status,
        latencyMs: Math.round(performance.now() - r.startedAt),
        ttftMs,
        streamed: r.stream,
        upstream: upstreamName,
        attempts,
        createdAt: new Date(),
        periodStart: accounting.periodStart,
      }),
    );
  };

  const calledAt = performance.now();
  observeGatewayOverhead(routeLabel(adapter.path), (calledAt - r.startedAt) / 1000);
  // Each route in turn until one answers with something other than a retryable failure; the first byte to the client ends the choosing.
  const plan: Array<Route | null> = r.admitted.routes ?? [null];
  const cooldownMs = env().KEYGATE_COOLDOWN_S * 1000;
  let upstream: UpstreamResponse | null = null;
  /** Time spent waiting on upstreams (every attempt, and reading a whole answer); the rest of the request's time is Keygate's. */
  let upstreamMs = 0;
  /** `Server-Timing` on the answer, so a user can see Keygate's own share of every request. */
  const stampTiming = () => {
    const keygate = Math.max(0, performance.now() - r.startedAt - upstreamMs);
    headers["server-timing"] = `keygate;dur=${keygate.toFixed(2)}, upstream;dur=${upstreamMs.toFixed(2)}`;
  };
  for (let i = 0; i < plan.length && !upstream; i++) {
    const route = plan[i];
    const last = i === plan.length - 1;
    const name = route?.upstream ?? "keygate";
    headers["x-keygate-upstream"] = name;
    headers["x-keygate-attempts"] = String(i + 1);
    attempts = i + 1;
    upstreamName = name;
    upstreamModel = route?.upstreamModel ?? model.upstreamModel;
    answered = route;
    const sent = r.admitted.outgoing(route);
    if (sent.dropped.length) headers["x-keygate-dropped-params"] = sent.dropped.join(", ");
    else delete headers["x-keygate-dropped-params"];
    const startedAt = performance.now();
    let answer: UpstreamResponse;
    try {
      answer = await callUpstream({ route, adapter, req: r.req, body: sent.body, signal: abort.signal, maxTokens, promptBytes: r.promptBytes });
      upstreamMs += performance.now() - startedAt;
    } catch (err) {
      upstreamMs += performance.now() - startedAt;
      if (abort.signal.aborted) {
        finish(499, null, null);
        return;
      }
      const timeout = err instanceof Error && /timeout/i.test(err.name + err.message);
      observeUpstreamLatency(model.provider, timeout ? "timeout" : "error", (performance.now() - startedAt) / 1000, name);
      failed(route, null, null);
      if (!last) continue;
      // The request log shows what the client got: 504 for a timeout, 502 for an upstream that could not be reached.
      finish(timeout ? 504 : 502, null, null);
      stampTiming();
      return sendError(
        res,
        adapter,
        timeout ? 504 : 502,
        timeout ? "upstream_timeout" : "upstream_error",
        timeout
          ? `The upstream for '${model.model}' did not answer in time${tried(i)}; nothing was charged.`
          : `The upstream for '${model.model}' could not be reached${tried(i)}; nothing was charged. Try again shortly.`,
        headers,
      );
    }
    observeUpstreamLatency(model.provider, answer.statusCode, (performance.now() - startedAt) / 1000, name);
    if (RETRYABLE_STATUSES.has(answer.statusCode)) {
      failed(route, answer.statusCode, retryAfterMs(header(answer.headers, "retry-after")));
      if (!last) {
        // Nothing of this answer reaches the client: read it off the connection (so it can be reused) and try the next route.
        await readText(answer, MAX_ERROR_BYTES, true).catch(() => "");
        continue;
      }
    } else if (route) {
      noteAttempt(route.cooldownKey, { failed: false, status: answer.statusCode, retryAfterMs: null }, cooldownMs);
      recordUpstreamAttempt(route.upstream, false);
    }
    upstream = answer;
  }
  if (!upstream) return; // unreachable: the last attempt always answers or returns above
  // The upstream's protocol (its usage, its answers' shape), and the translator to the client's when it differs.
  const upstreamAdapter = answered?.adapter ?? adapter;
  const translator = answered?.translator ?? null;
  const ctx = { model: model.model, maxOutputTokens: model.maxOutputTokens, request: r.body };

  if (upstream.statusCode < 200 || upstream.statusCode >= 300) {
    // Passed on with the upstream's status, in the protocol's error shape; nothing was generated, nothing is charged.
    const text = await readText(upstream, MAX_ERROR_BYTES, true).catch(() => "");
    finish(upstream.statusCode, null, null);
    const retryAfter = header(upstream.headers, "retry-after");
    const status = upstream.statusCode >= 400 ? upstream.statusCode : 502;
    const body = protocolError(adapter, status, upstream.statusCode, text, model.model, answered);
    stampTiming();
    if (!res.destroyed) {
      res.writeHead(status, { ...headers, "content-type": "application/json", ...(retryAfter ? { "retry-after": retryAfter } : {}) });
      res.end(body);
    }
    return;
  }

  if (!r.stream) {
    let text: string;
    const readAt = performance.now();
    try {
      text = await readText(upstream);
      upstreamMs += performance.now() - readAt;
    } catch {
      upstreamMs += performance.now() - readAt;
      stampTiming();
      // Cut off mid-body: the upstream read the prompt; charge its estimate.
      finish(502, { inputTokens: estimateTokens(r.promptBytes), outputTokens: 0 }, null);
      if (!abort.signal.aborted) sendError(res, adapter, 502, "upstream_error", "The upstream's answer was cut off.", headers);
      return;
    }
    let json: Json | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      json = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Json) : null;
    } catch {
      json = null;
    }
    if (!json) {
      // Not an answer the client's SDK could read (an HTML page, cut JSON): nothing usable was generated, nothing is charged.
      finish(502, null, null);
      const message = `The upstream for '${model.model}' answered ${upstream.statusCode} with a body that is not ${upstreamAdapter.label} JSON${excerptOf(text)}; nothing was charged.`;
      stampTiming();
      if (!abort.signal.aborted) sendError(res, adapter, 502, "upstream_error", message, headers);
      return;
    }
    const own = { inputTokens: estimateTokens(r.promptBytes), outputTokens: estimateTokens(text.length), outputSeen: 0 };
    const recorded = finish(upstream.statusCode, chargeableUsage(upstreamAdapter.usageFromBody(json), own, { promptBound: r.promptBound, maxTokens }), null);
    if (translator) text = reserialized(translator.response(json, ctx)) ?? text;
    else if (upstreamModel !== model.model && adapter.renameModel(json, model.model)) text = reserialized(json) ?? text;
    // A client that holds an answer (and its x-keygate-usage-id) holds a usage record that a crash can no longer lose.
    await recorded;
    stampTiming();
    if (!res.destroyed) {
      res.writeHead(upstream.statusCode, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    }
    return;
  }

  // Streaming: pass each event on as it arrives, and wait when the client is slow.
  stampTiming();
  const meter = new StreamMeter(upstreamAdapter, r.clientWantsUsage, model.model, upstreamModel, translator?.stream(ctx, r.clientWantsUsage));
  res.writeHead(upstream.statusCode, {
    ...headers,
    "content-type": (!translator && header(upstream.headers, "content-type")) || "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  let status = upstream.statusCode;
  try {
    for await (const chunk of upstream.body) {
      const out = meter.push(chunk);
      if (meter.broken) throw new Error("the upstream sent an event too large to relay");
      if (out && !res.write(out)) await once(res, "drain", { signal: abort.signal });
    }
    const rest = meter.end();
    if (rest) res.write(rest);
  } catch {
    status = abort.signal.aborted ? 499 : 502;
  }
  const own = { inputTokens: estimateTokens(r.promptBytes), outputTokens: meter.deltas, outputSeen: meter.deltas };
  const usage = chargeableUsage(meter.usage, own, { promptBound: r.promptBound, maxTokens });
  // The stream's end waits for its record to be durable, as a whole answer does above.
  await finish(status, usage, meter.firstTokenAt === null ? null : Math.round(meter.firstTokenAt - r.startedAt));
  if (status === 502) res.destroy();
  else res.end();
}

/** JSON text again, or null for a value too deeply nested to write back (V8's stack): the caller then sends the original text. */
function reserialized(json: Json): string | null {
  try {
    return JSON.stringify(json);
  } catch {
    return null;
  }
}

/**
 * An upstream's error answer in the protocol's error shape: passed on as sent
 * when it already is one (the SDKs read it), otherwise wrapped, with a short
 * excerpt of what it said (an HTML page's title, a plain-text line, another
 * JSON shape's message), so an SDK can parse it and a person can act on it.
 */
function protocolError(adapter: ProtocolAdapter, status: number, upstreamStatus: number, text: string, model: string, route: Route | null): string {
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // An error in the upstream's own shape, from an upstream of another protocol: the translator carries its message over.
  if (route?.translator && route.adapter.isErrorBody(json)) return reserialized(route.translator.error(json, status)) ?? text;
  if (json !== undefined && adapter.isErrorBody(json)) return text;
  const said = json !== undefined ? messageOf(json) : text;
  const what = upstreamStatus === status ? `an error (${status})` : `${upstreamStatus}, which Keygate does not follow`;
  const message = `The upstream for '${model}' answered with ${what}${excerptOf(said)}. Nothing was charged.`;
  return JSON.stringify(adapter.errorBody(status, "upstream_error", message));
}

/** The message of an error in some other JSON shape ({"message"}, {"error": "…"}, {"detail"}), or its text. */
function messageOf(json: unknown): string {
  if (json && typeof json === "object") {
    const o = json as Record<string, unknown>;
    const inner = o.error && typeof o.error === "object" ? (o.error as Record<string, unknown>) : null;
    for (const v of [o.message, inner?.message, o.error, o.detail]) if (typeof v === "string") return v;
  }
  return typeof json === "string" ? json : "";
}

const EXCERPT_CHARS = 200;

/** `: "…"`, a short, single-line, redacted excerpt of what the upstream said (an HTML page's title, else its text), or "" when it said nothing. */
function excerptOf(text: string): string {
  if (!text) return "";
  // Linear work only (indexOf and simple regexes on a bounded head): the text comes from a server that may be hostile.
  const head = text.slice(0, 16 * 1024);
  const lower = head.toLowerCase();
  const open = lower.indexOf("<title");
  const start = open < 0 ? -1 : lower.indexOf(">", open) + 1;
  const end = start > 0 ? lower.indexOf("</title", start) : -1;
  const plain = (end > 0 ? head.slice(start, end) : head.replace(/<[^>]*>/g, " "))
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (!plain) return "";
  const cut = plain.length > EXCERPT_CHARS ? `${plain.slice(0, EXCERPT_CHARS)}…` : plain;
  return `: "${redact(cut)}"`;
}

/** A whole answer larger than this is treated as cut off (an upstream cannot make Keygate buffer without end). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** An error answer is read up to this much: only an excerpt of it is ever used. */
const MAX_ERROR_BYTES = 1024 * 1024;

/**
 * The whole body as text: undici's own reader when the declared length fits,
 * else read chunk by chunk up to `limit` bytes. Past the limit it throws, or
 * with `truncate` returns what came so far (and drops the rest).
 */
async function readText(upstream: UpstreamResponse, limit = MAX_ANSWER_BYTES, truncate = false): Promise<string> {
  const declared = Number(header(upstream.headers, "content-length"));
  if (upstream.body.text && Number.isSafeInteger(declared) && declared <= limit) return upstream.body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of upstream.body) {
    size += c.length;
    if (size > limit) {
      if (truncate) break;
      throw new Error(`the upstream's answer is larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Shutdown: waits for requests in flight (up to `graceMs`), then aborts the rest; each settles what it used. */
export async function drainGateway(graceMs: number): Promise<void> {
  const requests = inFlight();
  const deadline = Date.now() + graceMs;
  while (requests.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const a of requests) a.abort();
  const settleBy = Date.now() + 1_000;
  while (requests.size && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 10));
}
