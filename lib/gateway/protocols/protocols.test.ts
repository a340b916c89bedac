import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adapterFor, promptSize, StreamMeter } from "@/lib/gateway/protocols";

const openai = adapterFor("openai");
const anthropic = adapterFor("anthropic");
const enc = new TextEncoder();

const chunk = (delta: object, extra: object = {}) =>
  JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "up-model", choices: [{ index: 0, delta }], ...extra });
const usageChunk = JSON.stringify({
  id: "c1",
  object: "chat.completion.chunk",
  model: "up-model",
  choices: [],
  usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
});
const OPENAI_STREAM = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hello" }),
  chunk({ content: " there" }),
  chunk({ content: "!" }),
  usageChunk,
]
  .map((d) => `data: ${d}\n\n`)
  .join("")
  .concat("data: [DONE]\n\n");

/** Feeds `text` to a meter in the given pieces and returns what it forwards. */
function relay(meter: StreamMeter, pieces: string[]): string {
  return pieces.map((p) => meter.push(enc.encode(p))).join("") + meter.end();
}

function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

describe("the stream meter", () => {
  it("forwards the same events and reads the same usage however the upstream's bytes are cut into chunks", () => {
    const whole = relay(new StreamMeter(openai, true, "up-model", "up-model"), [OPENAI_STREAM]);
    expect(whole).toBe(OPENAI_STREAM);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        const meter = new StreamMeter(openai, true, "up-model", "up-model");
        expect(relay(meter, split(OPENAI_STREAM, cuts))).toBe(whole);
        expect(meter.usage).toEqual({ inputTokens: 11, outputTokens: 3 });
        expect(meter.deltas).toBe(3);
      }),
    );
  });

  it("reads events framed with CRLF and data split over several lines, which a split on blank LF lines misses", () => {
    const meter = new StreamMeter(openai, true, "up-model", "up-model");
    const usage = JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }, null, 1).split("\n");
    const crlf = `data: ${chunk({ content: "a" })}\r\n\r\n` + usage.map((l) => `data: ${l}`).join("\r\n") + "\r\n\r\n";
    const out = relay(meter, [crlf]);
    expect(meter.usage).toEqual({ inputTokens: 5, outputTokens: 2 });
    expect(meter.deltas).toBe(1);
    expect(out.split("\n\n").filter(Boolean)).toHaveLength(2);
  });

  it("drops the usage chunk Keygate asked for when the client did not ask, and keeps comments", () => {
    const meter = new StreamMeter(openai, false, "up-model", "up-model");
    const out = relay(meter, [": keep-alive\n\n", OPENAI_STREAM]);
    expect(out).toContain(": keep-alive");
    expect(out).not.toContain('"usage"');
    expect(out).toContain("data: [DONE]");
    expect(meter.usage).toEqual({ inputTokens: 11, outputTokens: 3 });
  });

  it("forwards a last event that lacks its blank line, and reads its usage", () => {
    const meter = new StreamMeter(anthropic, true, "m", "m");
    const start = `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { model: "m", usage: { input_tokens: 7, cache_read_input_tokens: 3, output_tokens: 1 } } })}\n\n`;
    const last = `event: message_delta\ndata: ${JSON.stringify({ type: "message_delta", usage: { output_tokens: 9 } })}`;
    const out = relay(meter, [start, last]);
    expect(out.endsWith("\n\n")).toBe(true);
    expect(out).toContain("event: message_delta");
    expect(meter.usage).toEqual({ inputTokens: 10, outputTokens: 9 });
  });

  it("writes the public model name over the upstream's in each event", () => {
    const out = relay(new StreamMeter(openai, true, "public/name", "up-model"), [OPENAI_STREAM]);
    expect(out).not.toContain("up-model");
    expect(out.match(/"model":"public\/name"/g)).toHaveLength(5);
    const a = relay(new StreamMeter(anthropic, true, "public/claude", "claude-up"), [
      `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { model: "claude-up" } })}\n\n`,
    ]);
    expect(a).toContain('"model":"public/claude"');
  });

  it("stops relaying an upstream event too large to hold instead of buffering it without bound", () => {
    const meter = new StreamMeter(openai, true, "m", "m");
    const piece = "x".repeat(1024 * 1024);
    let out = meter.push(enc.encode(`data: ${chunk({ content: "a" })}\n\ndata: `));
    for (let i = 0; i < 9 && !meter.broken; i++) out += meter.push(enc.encode(piece));
    expect(meter.broken).toBe(true);
    expect(out.length).toBeLessThan(1024);
  });
});

describe("the prompt's size", () => {
  const body = (text: string) => ({ model: "m", messages: [{ role: "user", content: text }] });

  it("bounds the prompt by the body's bytes (money) and estimates it from the text at about four bytes a token (tpm)", () => {
    const b = body("word ".repeat(60));
    const bytes = Buffer.byteLength(JSON.stringify(b));
    const size = promptSize(bytes, b);
    expect(size.bound).toBe(bytes);
    expect(size.estimate).toBe(75);
    expect(size.estimate).toBeLessThan(size.bound);
  });

  it("counts each image by a fixed allowance, not by the bytes of its data, in both protocols", () => {
    const data = "A".repeat(100_000);
    const o = {
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
          ],
        },
      ],
    };
    const a = {
      model: "m",
      system: "be brief",
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data } }] }],
    };
    expect(promptSize(100_200, o)).toEqual({ bound: 102_200, estimate: 2_004 });
    expect(promptSize(100_100, a)).toEqual({ bound: 102_100, estimate: 2_002 });
  });

  it("allows for the system prompt a provider adds to a request with tools, which the body does not hold", () => {
    const withTools = { ...body("hi"), tools: [{ name: "f", input_schema: { type: "object" } }] };
    const bytes = Buffer.byteLength(JSON.stringify(withTools));
    // Anthropic bills a small tool request for its tool-use prompt (346 tokens), more than the body's bytes.
    expect(promptSize(bytes, withTools).bound).toBeGreaterThanOrEqual(346 + 10);
    expect(promptSize(bytes, withTools).bound - promptSize(bytes, { ...withTools, tools: [] }).bound).toBe(1_000);
  });

  it("reads a Responses API prompt from input and instructions", () => {
    const r = { model: "m", instructions: "be brief ".repeat(10), input: [{ role: "user", content: [{ type: "input_text", text: "word ".repeat(40) }] }] };
    expect(promptSize(Buffer.byteLength(JSON.stringify(r)), r).estimate).toBe(Math.ceil((90 + 200) / 4));
    expect(promptSize(20, { model: "m", input: "word ".repeat(40) }).estimate).toBe(50);
  });
});
