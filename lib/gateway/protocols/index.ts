import type { Protocol } from "@/lib/models/catalogue";
import type { ProtocolAdapter } from "@/lib/gateway/protocols/adapter";
import { anthropic } from "@/lib/gateway/protocols/anthropic";
import { embeddings } from "@/lib/gateway/protocols/embeddings";
import { openai } from "@/lib/gateway/protocols/openai";

/** The chat protocols Keygate serves, one adapter each (adapter.ts says what an adapter does): what `adapterFor` answers. */
export const CHAT_ADAPTERS: readonly ProtocolAdapter[] = [openai, anthropic];

/**
 * Every inference endpoint the router serves, one adapter each: the chat
 * protocols, and endpoints of other kinds of models that share a protocol's
 * upstreams and error shape (embeddings speak OpenAI's).
 */
export const ADAPTERS: readonly ProtocolAdapter[] = [...CHAT_ADAPTERS, embeddings];

const byProtocol = new Map<Protocol, ProtocolAdapter>(CHAT_ADAPTERS.map((a) => [a.protocol, a]));

/** The chat adapter of a protocol (never the embeddings endpoint, which shares OpenAI's protocol). */
export function adapterFor(protocol: Protocol): ProtocolAdapter {
  const adapter = byProtocol.get(protocol);
  if (!adapter) throw new Error(`no adapter for protocol ${protocol}`);
  return adapter;
}

export type { GatewayErrorCode, Json, ProtocolAdapter, ReportedUsage, Usage, UpstreamTarget } from "@/lib/gateway/protocols/adapter";
export { estimateTokens, promptSize } from "@/lib/gateway/protocols/prompt";
export { StreamMeter } from "@/lib/gateway/protocols/stream";
