import type { Protocol } from "@/lib/models/catalogue";
import type { ProtocolAdapter } from "@/lib/gateway/protocols/adapter";
import { anthropic } from "@/lib/gateway/protocols/anthropic";
import { openai } from "@/lib/gateway/protocols/openai";

/** The protocols Keygate serves, one adapter each (adapter.ts says what an adapter does). */
export const ADAPTERS: readonly ProtocolAdapter[] = [openai, anthropic];

const byProtocol = new Map<Protocol, ProtocolAdapter>(ADAPTERS.map((a) => [a.protocol, a]));

export function adapterFor(protocol: Protocol): ProtocolAdapter {
  const adapter = byProtocol.get(protocol);
  if (!adapter) throw new Error(`no adapter for protocol ${protocol}`);
  return adapter;
}

export type { GatewayErrorCode, Json, ProtocolAdapter, ReportedUsage, Usage, UpstreamTarget } from "@/lib/gateway/protocols/adapter";
export { estimateTokens, promptSize } from "@/lib/gateway/protocols/prompt";
export { StreamMeter } from "@/lib/gateway/protocols/stream";
