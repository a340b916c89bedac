import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import type { Json, ProtocolAdapter, StreamReading } from "@/lib/gateway/protocols/adapter";
import type { StreamTranslator } from "@/lib/gateway/translate/types";

/**
 * Reads an upstream's server-sent events as they pass through to the client:
 * the protocol's adapter finds the usage and counts output deltas in each
 * event (for a stream cut short, or an upstream that sends no usage), and
 * may drop the usage event Keygate asked for on the client's behalf; the
 * public model name is written over the upstream's. When the client speaks
 * another protocol, each event read is handed to the stream's translator,
 * and what reaches the client is what it writes. Framing (CRLF, several
 * `data:` lines, comments, a last event without its blank line) is
 * eventsource-parser's; events are written back in the canonical form.
 */

/** An upstream event larger than this (without a line break) ends the stream as broken, instead of growing the buffer. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

export class StreamMeter implements StreamReading {
  usage: StreamReading["usage"] = { inputTokens: null, outputTokens: null };
  deltas = 0;
  firstTokenAt: number | null = null;
  /** Set when the upstream's framing could not be read (an oversized event). */
  broken = false;
  private out = "";
  private readonly decoder = new TextDecoder();
  private readonly parser: EventSourceParser;

  constructor(
    private readonly adapter: ProtocolAdapter,
    /** Forward the usage event (the client asked for it). */
    private readonly clientWantsUsage: boolean,
    /** The public model name, written over the upstream's name when they differ. */
    private readonly publicModel: string,
    private readonly upstreamModel: string,
    /** Between the upstream's protocol and the client's, when they differ. */
    private readonly translator: StreamTranslator | null = null,
  ) {
    this.parser = createParser({
      onEvent: (event) => this.onEvent(event),
      onComment: (comment) => {
        this.out += `: ${comment}\n\n`;
      },
      onRetry: (ms) => {
        this.out += `retry: ${ms}\n\n`;
      },
      onError: (err) => {
        if (err.type === "max-buffer-size-exceeded") this.broken = true;
      },
      maxBufferSize: MAX_EVENT_CHARS,
    });
  }

  /** Takes a chunk of the upstream's bytes and returns what to send the client now. */
  push(chunk: Uint8Array): string {
    if (!this.broken) this.parser.feed(this.decoder.decode(chunk, { stream: true }));
    return this.take();
  }

  /** What is left at the end of the stream (a last event that lacked its blank line), and the translator's closing events. */
  end(): string {
    if (!this.broken) this.parser.feed(this.decoder.decode() + "\n\n");
    if (this.translator) this.out += this.translator.end(true).join("");
    return this.take();
  }

  private take(): string {
    const out = this.out;
    this.out = "";
    return out;
  }

  private onEvent(event: EventSourceMessage): void {
    let data = event.data;
    let json: Json | null = null;
    if (data.startsWith("{")) {
      try {
        json = JSON.parse(data) as Json;
      } catch {
        json = null;
      }
    }
    if (this.translator) {
      // The upstream's usage is read in its own protocol, whatever the client sees of it.
      if (json) this.adapter.readStreamEvent(json, this, true);
      for (const out of this.translator.event({ event: event.event, json, data })) this.out += out;
      return;
    }
    if (json) {
      if (!this.adapter.readStreamEvent(json, this, this.clientWantsUsage)) return;
      if (this.publicModel !== this.upstreamModel && this.adapter.renameModel(json, this.publicModel)) data = reserialized(json) ?? data;
    }
    let text = event.event ? `event: ${event.event}\n` : "";
    if (event.id !== undefined) text += `id: ${event.id}\n`;
    for (const line of data.split("\n")) text += `data: ${line}\n`;
    this.out += text + "\n";
  }
}

/** The event's JSON written back, or null for one nested too deeply to write (then it passes as the upstream sent it). */
function reserialized(json: Json): string | null {
  try {
    return JSON.stringify(json);
  } catch {
    return null;
  }
}
