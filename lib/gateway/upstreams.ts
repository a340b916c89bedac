import type { IncomingMessage } from "node:http";
import { Agent, request as undiciRequest } from "undici";
import { env } from "@/lib/env";
import { echoResponse } from "@/lib/gateway/echo";
import { pairing, type Json, type ProtocolAdapter } from "@/lib/gateway/protocols";
import { cooldownKey, type Route } from "@/lib/gateway/routing";
import type { CatalogueModel } from "@/lib/models/catalogue";
import { upstreamByName } from "@/lib/upstreams/registry";

/**
 * Where a model's requests go, and the connections that take them there:
 * the upstream a model is served by (today the environment's one per
 * protocol, or the in-process demo model), and one keep-alive undici agent
 * for all of them. Routing over several upstreams lands here.
 */

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array> & { text?: () => Promise<string> };
}

/** A model's upstreams: its routes over HTTP (lib/gateway/routing.ts orders them), or the demo model answered in process. */
export type Upstream = { kind: "http"; routes: Route[] } | { kind: "demo" };

/**
 * The routes that may serve a model asked through `client`'s API: its routes
 * whose upstream is active and whose protocol the client's API can reach
 * (the same protocol, or one a translator writes: protocols/index.ts
 * `pairing`), each upstream from the registry, in memory; or, for a model
 * without routes, its provider's environment upstream (`env-openai` /
 * `env-anthropic`). `notServed`: no route could take this API (a 404);
 * `missing`: nothing could take the request (a sentence for the 502).
 */
export async function upstreamFor(model: CatalogueModel, client: ProtocolAdapter): Promise<Upstream | { missing: string } | { notServed: true }> {
  if (model.provider === "keygate") return { kind: "demo" };
  if (model.routes.length === 0) {
    const pair = pairing(client, model.provider);
    if (!pair) return { notServed: true };
    const target = pair.adapter.envUpstream(env());
    if (!target)
      return { missing: `No ${pair.adapter.label} upstream is configured for '${model.model}'. The operator must set ${pair.adapter.upstreamSettings}.` };
    const upstream = `env-${model.provider}`;
    return {
      kind: "http",
      routes: [
        {
          upstream,
          cooldownKey: cooldownKey(upstream, target.url),
          upstreamModel: model.upstreamModel,
          priority: 0,
          weight: 1,
          target,
          ...pair,
          timeoutMs: null,
        },
      ],
    };
  }
  const routes: Route[] = [];
  let reachable = 0;
  for (const r of model.routes) {
    const record = await upstreamByName(r.upstream);
    const pair = record && pairing(client, record.protocol);
    if (!record || !pair) continue;
    reachable++;
    if (!record.active) continue;
    const target = pair.adapter.target(record.baseUrl, record.apiKey, record.headers);
    routes.push({
      upstream: record.name,
      cooldownKey: cooldownKey(record.name, target.url),
      upstreamModel: r.upstreamModel,
      priority: r.priority,
      weight: r.weight,
      target,
      ...pair,
      timeoutMs: record.timeoutMs,
    });
  }
  if (reachable === 0) return { notServed: true };
  if (routes.length === 0) return { missing: `Every upstream routed to for '${model.model}' is turned off. An operator must turn one on.` };
  return { kind: "http", routes };
}

export interface UpstreamCall {
  /** The route to try, or null for the demo model. */
  route: Route | null;
  /** The client's API (the demo model answers in it). */
  adapter: ProtocolAdapter;
  req: IncomingMessage;
  /** What the route is sent: the client's body, or its translation for the route's protocol. */
  body: Json;
  signal: AbortSignal;
  /** For the demo model: the output cap and the prompt's size it answers with. */
  maxTokens: number;
  promptBytes: number;
}

export function callUpstream(c: UpstreamCall): Promise<UpstreamResponse> {
  if (!c.route) return Promise.resolve(echoResponse(c.adapter, c.body, c.maxTokens, c.promptBytes));
  // Each route may name the model its own way.
  c.body.model = c.route.upstreamModel;
  const timeout = c.route.timeoutMs ?? undefined;
  return undiciRequest(c.route.target.url, {
    method: "POST",
    headers: { ...c.route.adapter.forwardedHeaders(c.req), ...c.route.target.headers },
    body: JSON.stringify(c.body),
    signal: c.signal,
    dispatcher: agent(),
    ...(timeout ? { headersTimeout: timeout, bodyTimeout: timeout } : {}),
  });
}

interface AgentState {
  agent: Agent | null;
  /** The upstream timeout the agent was made with (a changed setting makes a new agent). */
  timeoutMs: number;
}

const globalForAgent = globalThis as unknown as { __keygateUpstreamAgent?: AgentState };

function agent(): Agent {
  const s = (globalForAgent.__keygateUpstreamAgent ??= { agent: null, timeoutMs: 0 });
  const timeout = env().KEYGATE_UPSTREAM_TIMEOUT_MS;
  if (!s.agent || s.timeoutMs !== timeout) {
    void s.agent?.close();
    s.agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, headersTimeout: timeout, bodyTimeout: timeout });
    s.timeoutMs = timeout;
  }
  return s.agent;
}
