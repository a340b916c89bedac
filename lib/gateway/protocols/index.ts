import type { Protocol } from "@/lib/models/catalogue";
import type { ProtocolAdapter } from "@/lib/gateway/protocols/adapter";
import { anthropic } from "@/lib/gateway/protocols/anthropic";
import { embeddings } from "@/lib/gateway/protocols/embeddings";
import { openai } from "@/lib/gateway/protocols/openai";
import { responses } from "@/lib/gateway/protocols/responses";
import { chatToMessages } from "@/lib/gateway/translate/chat-to-messages";
import { compose } from "@/lib/gateway/translate/compose";
import { messagesToChat } from "@/lib/gateway/translate/messages-to-chat";
import { responsesToChat } from "@/lib/gateway/translate/responses-to-chat";
import type { Translator } from "@/lib/gateway/translate/types";

/** The protocols upstreams speak, one adapter each (adapter.ts says what an adapter does): what `adapterFor` answers. */
export const CHAT_ADAPTERS: readonly ProtocolAdapter[] = [openai, anthropic];

/**
 * Every inference endpoint the router serves, one adapter each: the chat
 * protocols; the Responses API (a client's API only, always translated); and
 * endpoints of other kinds of models that share a protocol's upstreams and
 * error shape (embeddings speak OpenAI's).
 */
export const ADAPTERS: readonly ProtocolAdapter[] = [...CHAT_ADAPTERS, responses, embeddings];

const byProtocol = new Map<Protocol, ProtocolAdapter>(CHAT_ADAPTERS.map((a) => [a.protocol as Protocol, a]));

/** The chat adapter of a protocol (never the embeddings endpoint, which shares OpenAI's protocol). */
export function adapterFor(protocol: Protocol): ProtocolAdapter {
  const adapter = byProtocol.get(protocol);
  if (!adapter) throw new Error(`no adapter for protocol ${protocol}`);
  return adapter;
}

/**
 * How a client's API reaches an upstream of another protocol: a translator
 * (lib/gateway/translate/) for each pair, by the path the client's API is
 * served on and the route's protocol.
 */
const TRANSLATIONS: ReadonlyArray<{ clientPath: string; route: Protocol; translator: Translator }> = [
  { clientPath: openai.path, route: "anthropic", translator: chatToMessages },
  { clientPath: anthropic.path, route: "openai", translator: messagesToChat },
  { clientPath: responses.path, route: "openai", translator: responsesToChat },
  { clientPath: responses.path, route: "anthropic", translator: compose(responsesToChat, chatToMessages) },
];

/** How a request to `client` is sent to an upstream speaking `route`. */
export interface Pairing {
  /** The adapter that speaks to the upstream: where it is, its headers, how it reports usage. */
  adapter: ProtocolAdapter;
  /** Null when the client speaks the route's protocol: the body passes through untouched (prompt caching, thinking signatures). */
  translator: Translator | null;
}

/** How a request to `client` reaches an upstream speaking `route`, or null when it cannot (no translator for the pair). */
export function pairing(client: ProtocolAdapter, route: Protocol): Pairing | null {
  if (client.protocol === route) return { adapter: client, translator: null };
  const t = TRANSLATIONS.find((x) => x.clientPath === client.path && x.route === route);
  return t ? { adapter: adapterFor(route), translator: t.translator } : null;
}

export type { GatewayErrorCode, Json, ProtocolAdapter, ReportedUsage, Usage, UpstreamTarget } from "@/lib/gateway/protocols/adapter";
export { estimateTokens, promptSize } from "@/lib/gateway/protocols/prompt";
export { StreamMeter } from "@/lib/gateway/protocols/stream";
