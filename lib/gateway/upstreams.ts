import type { IncomingMessage } from "node:http";
import { Agent, request as undiciRequest } from "undici";
import { env } from "@/lib/env";
import { echoResponse } from "@/lib/gateway/echo";
import type { Json, ProtocolAdapter, UpstreamTarget } from "@/lib/gateway/protocols";
import type { CatalogueModel } from "@/lib/models/catalogue";

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

/** A model's upstream: an HTTP endpoint, or the demo model answered in process. */
export type Upstream = { kind: "http"; target: UpstreamTarget } | { kind: "demo" };

/** The upstream for a model asked through `adapter`'s protocol, or null when none is configured (a sentence for the 502). */
export function upstreamFor(model: CatalogueModel, adapter: ProtocolAdapter): Upstream | { missing: string } {
  if (model.provider === "keygate") return { kind: "demo" };
  const target = adapter.envUpstream(env());
  if (!target) return { missing: `No ${adapter.label} upstream is configured for '${model.model}'. The operator must set ${adapter.upstreamSettings}.` };
  return { kind: "http", target };
}

export interface UpstreamCall {
  upstream: Upstream;
  adapter: ProtocolAdapter;
  req: IncomingMessage;
  body: Json;
  signal: AbortSignal;
  /** For the demo model: the output cap and the prompt's size it answers with. */
  maxTokens: number;
  promptBytes: number;
}

export function callUpstream(c: UpstreamCall): Promise<UpstreamResponse> {
  if (c.upstream.kind === "demo") return Promise.resolve(echoResponse(c.adapter, c.body, c.maxTokens, c.promptBytes));
  return undiciRequest(c.upstream.target.url, {
    method: "POST",
    headers: { ...c.adapter.forwardedHeaders(c.req), ...c.upstream.target.headers },
    body: JSON.stringify(c.body),
    signal: c.signal,
    dispatcher: agent(),
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
