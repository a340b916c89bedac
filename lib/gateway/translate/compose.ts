import type { Json } from "@/lib/gateway/protocols/adapter";
import type { StreamTranslator, Translator, UpstreamEvent } from "@/lib/gateway/translate/types";

/**
 * Two translators in a row: `outer` from the client's API to a middle
 * protocol, `inner` from that protocol to the route's (the Responses API on an
 * Anthropic route is Responses → Chat Completions → Anthropic Messages). The
 * inner stream always reports usage, since the outer one reads it there.
 */
export function compose(outer: Translator, inner: Translator): Translator {
  return {
    request(body, ctx) {
      const middle = outer.request(body, ctx);
      if ("unsupported" in middle) return middle;
      const route = inner.request(middle.body, ctx);
      if ("unsupported" in route) return route;
      return { body: route.body, dropped: [...middle.dropped, ...route.dropped.filter((d) => !middle.dropped.includes(d))] };
    },
    response: (json, ctx) => outer.response(inner.response(json, ctx), ctx),
    stream(ctx, clientWantsUsage) {
      const first = inner.stream(ctx, true);
      const second = outer.stream(ctx, clientWantsUsage);
      const pass = (events: string[]) => events.flatMap((e) => second.event(parseSseEvent(e)));
      const chain: StreamTranslator = {
        event: (e) => pass(first.event(e)),
        end: (complete) => [...pass(first.end(complete)), ...second.end(complete)],
      };
      return chain;
    },
    error: (json, status) => outer.error(inner.error(json, status), status),
  };
}

/** One SSE event as a translator writes it (`event: …` and `data: …` lines) read back. */
export function parseSseEvent(text: string): UpstreamEvent {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  const joined = data.join("\n");
  let json: Json | null = null;
  if (joined.startsWith("{")) {
    try {
      json = JSON.parse(joined) as Json;
    } catch {
      json = null;
    }
  }
  return { event, json, data: joined };
}
