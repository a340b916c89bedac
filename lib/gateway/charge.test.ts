import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundedCharge, chargeableUsage } from "@/lib/gateway/charge";
import { adapterFor, StreamMeter, type Json } from "@/lib/gateway/protocols";
import { costMicros } from "@/lib/limits/store";

/**
 * Settlement against arbitrary upstream usage (PRODUCT.md, "Gateway": an
 * upstream's usage is input, not truth). Whatever an upstream reports, in a
 * whole answer or a stream, the charge is a whole number of micro-dollars
 * from zero to the reservation, and a plausible report is charged as sent.
 */

const openai = adapterFor("openai");
const anthropic = adapterFor("anthropic");
const enc = new TextEncoder();

/** Anything an upstream could put where a count belongs. */
const countLike = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.nat({ max: 2_000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(2 ** 53, 2 ** 60, -0, 1e300, -1e300),
  fc.string({ maxLength: 4 }),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.nat(), { maxLength: 2 }),
);
const usageLike = fc.oneof(
  fc.record(
    {
      prompt_tokens: countLike,
      completion_tokens: countLike,
      input_tokens: countLike,
      output_tokens: countLike,
      cache_read_input_tokens: countLike,
      cache_creation_input_tokens: countLike,
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom(null, "usage", 42, [] as unknown[]),
);
const request = fc.record({
  promptBound: fc.integer({ min: 1, max: 4_000_000 }),
  maxTokens: fc.integer({ min: 1, max: 200_000 }),
  inputMicrosPerMTok: fc.integer({ min: 0, max: 1_000_000_000 }),
  outputMicrosPerMTok: fc.integer({ min: 0, max: 1_000_000_000 }),
  ownInput: fc.integer({ min: 1, max: 1_000_000 }),
  ownOutput: fc.integer({ min: 0, max: 1_000_000 }),
  seen: fc.integer({ min: 0, max: 1_000 }),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

function settle(reported: { inputTokens: number | null; outputTokens: number | null }, r: Req) {
  const usage = chargeableUsage(reported, { inputTokens: r.ownInput, outputTokens: r.ownOutput, outputSeen: r.seen }, r);
  const reserved = costMicros(r.promptBound, r.maxTokens, r.inputMicrosPerMTok, r.outputMicrosPerMTok);
  const cost = boundedCharge(costMicros(usage.inputTokens, usage.outputTokens, r.inputMicrosPerMTok, r.outputMicrosPerMTok), reserved);
  return { usage, reserved, cost };
}

function expectBounded({ usage, reserved, cost }: ReturnType<typeof settle>, r: Req) {
  expect(Number.isSafeInteger(usage.inputTokens) && usage.inputTokens >= 0 && usage.inputTokens <= r.promptBound).toBe(true);
  expect(Number.isSafeInteger(usage.outputTokens) && usage.outputTokens >= 0 && usage.outputTokens <= r.maxTokens).toBe(true);
  expect(Number.isSafeInteger(cost)).toBe(true);
  expect(cost).toBeGreaterThanOrEqual(0);
  expect(cost).toBeLessThanOrEqual(reserved);
}

describe("settlement against arbitrary upstream usage", () => {
  it("a whole answer's usage, in either protocol, is charged a whole number of micro-dollars from zero to the reservation", () => {
    fc.assert(
      fc.property(usageLike, request, (usage, r) => {
        for (const adapter of [openai, anthropic]) expectBounded(settle(adapter.usageFromBody({ usage } as Json), r), r);
      }),
      { numRuns: 2_000 },
    );
  });

  it("a stream's usage events, however many and however wrong, are charged the same way", () => {
    fc.assert(
      fc.property(fc.array(usageLike, { maxLength: 4 }), request, (usages, r) => {
        const openaiEvents = usages.map((usage) => ({ id: "c", object: "chat.completion.chunk", model: "m", choices: [], usage }));
        const anthropicEvents = usages.flatMap((usage) => [
          { type: "message_start", message: { id: "m", model: "m", usage } },
          { type: "message_delta", delta: {}, usage },
        ]);
        for (const [adapter, events] of [
          [openai, openaiEvents],
          [anthropic, anthropicEvents],
        ] as const) {
          const meter = new StreamMeter(adapter, true, "m", "m");
          meter.push(enc.encode(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")));
          meter.end();
          expectBounded(settle(meter.usage, r), r);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("a plausible report (whole counts within the request's bounds) is charged exactly as reported, with the output raised to what was seen", () => {
    fc.assert(
      fc.property(request, fc.nat(), fc.nat(), (r, a, b) => {
        const input = a % (r.promptBound + 1);
        const output = b % (r.maxTokens + 1);
        const { usage } = settle({ inputTokens: input, outputTokens: output }, r);
        expect(usage).toEqual({ inputTokens: input, outputTokens: Math.max(output, Math.min(r.seen, r.maxTokens)) });
      }),
    );
  });

  it("an implausible report falls back to Keygate's own count, within the same bounds", () => {
    const r = { promptBound: 100, maxTokens: 10, inputMicrosPerMTok: 1_000_000, outputMicrosPerMTok: 1_000_000, ownInput: 25, ownOutput: 4, seen: 3 };
    expect(settle({ inputTokens: 101, outputTokens: 11 }, r).usage).toEqual({ inputTokens: 25, outputTokens: 4 });
    expect(settle({ inputTokens: null, outputTokens: null }, { ...r, ownInput: 1_000, ownOutput: 1_000 }).usage).toEqual({
      inputTokens: 100,
      outputTokens: 10,
    });
    expect(boundedCharge(-35_000_000, 500)).toBe(0);
    expect(boundedCharge(Number.NaN, 500)).toBe(0);
    expect(boundedCharge(10_000, 500)).toBe(500);
  });
});
