import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Admitted } from "@/lib/gateway/admission";
import { sendError } from "@/lib/gateway/io";
import { estimateTokens, StreamMeter, type Json, type ProtocolAdapter, type Usage } from "@/lib/gateway/protocols";
import { callUpstream, type UpstreamResponse } from "@/lib/gateway/upstreams";
import { decReservationsInFlight, incReservationsInFlight, observeGatewayOverhead, observeUpstreamLatency, routeLabel } from "@/lib/ops/metrics";
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
        createdAt: new Date(),
      }),
    );
  };

  const calledAt = performance.now();
  observeGatewayOverhead(routeLabel(adapter.path), (calledAt - r.startedAt) / 1000);
  let upstream: UpstreamResponse;
  try {
    upstream = await callUpstream({
      upstream: r.admitted.upstream,
      adapter,
      req: r.req,
      body: r.body,
      signal: abort.signal,
      maxTokens,
      promptBytes: r.promptBytes,
    });
  } catch (err) {
    finish(502, null, null);
    if (abort.signal.aborted) return;
    const timeout = err instanceof Error && /timeout/i.test(err.name + err.message);
    observeUpstreamLatency(model.provider, timeout ? "timeout" : "error", (performance.now() - calledAt) / 1000);
    return sendError(
      res,
      adapter,
      timeout ? 504 : 502,
      timeout ? "upstream_timeout" : "upstream_error",
      timeout
        ? `The upstream for '${model.model}' did not answer in time; nothing was charged.`
        : `The upstream for '${model.model}' could not be reached; nothing was charged. Try again shortly.`,
      headers,
    );
  }

  observeUpstreamLatency(model.provider, upstream.statusCode, (performance.now() - calledAt) / 1000);
  if (upstream.statusCode >= 400) {
    // Passed on in the upstream's own shape and status; nothing was generated, nothing is charged.
    const text = await readText(upstream).catch(() => "");
    finish(upstream.statusCode, null, null);
    const contentType = header(upstream.headers, "content-type") ?? "application/json";
    const retryAfter = header(upstream.headers, "retry-after");
    res.writeHead(upstream.statusCode, { ...headers, "content-type": contentType, ...(retryAfter ? { "retry-after": retryAfter } : {}) });
    res.end(text);
    return;
  }

  if (!r.stream) {
    let text: string;
    try {
      text = await readText(upstream);
    } catch {
      // Cut off mid-body: the upstream read the prompt; charge its estimate.
      finish(502, { inputTokens: estimateTokens(r.promptBytes), outputTokens: 0 }, null);
      if (!abort.signal.aborted) sendError(res, adapter, 502, "upstream_error", "The upstream's answer was cut off.", headers);
      return;
    }
    let json: Json | null = null;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = null;
    }
    const usage = json ? adapter.usageFromBody(json) : null;
    // An upstream that reports no usage is charged by estimate: about four bytes a token, each way.
    const recorded = finish(
      upstream.statusCode,
      usage ?? { inputTokens: estimateTokens(r.promptBytes), outputTokens: Math.min(maxTokens, estimateTokens(text.length)) },
      null,
    );
    if (json && model.upstreamModel !== model.model && adapter.renameModel(json, model.model)) text = JSON.stringify(json);
    // A client that holds an answer (and its x-keygate-usage-id) holds a usage record that a crash can no longer lose.
    await recorded;
    if (!res.destroyed) {
      res.writeHead(upstream.statusCode, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    }
    return;
  }

  // Streaming: pass each event on as it arrives, and wait when the client is slow.
  const meter = new StreamMeter(adapter, r.clientWantsUsage, model.model, model.upstreamModel);
  res.writeHead(upstream.statusCode, {
    ...headers,
    "content-type": header(upstream.headers, "content-type") ?? "text/event-stream",
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
  const usage = {
    inputTokens: meter.usage.inputTokens ?? estimateTokens(r.promptBytes),
    outputTokens: Math.min(Math.max(meter.usage.outputTokens ?? 0, meter.deltas), maxTokens),
  };
  // The stream's end waits for its record to be durable, as a whole answer does above.
  await finish(status, usage, meter.firstTokenAt === null ? null : Math.round(meter.firstTokenAt - r.startedAt));
  if (status === 502) res.destroy();
  else res.end();
}

/** The whole body as text (undici's own reader where there is one). */
async function readText(upstream: UpstreamResponse): Promise<string> {
  if (upstream.body.text) return upstream.body.text();
  const chunks: Buffer[] = [];
  for await (const c of upstream.body) chunks.push(Buffer.from(c));
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
