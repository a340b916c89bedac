import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Json } from "@/lib/gateway/protocols/adapter";
import { chatToMessages } from "@/lib/gateway/translate/chat-to-messages";
import { messagesToChat } from "@/lib/gateway/translate/messages-to-chat";
import type { RequestTranslation } from "@/lib/gateway/translate/types";

/**
 * Requests translated one way and back are the request sent (PRODUCT.md,
 * "Protocols: any SDK, any model": tool calls and tool results keep their
 * order and ids, parallel results included; tools, tool_choice, stop,
 * temperature, top_p and max_tokens are carried). A conversation the two
 * protocols can both say exactly survives the round trip unchanged.
 */

const ctx = { model: "m", maxOutputTokens: 4096 };

function bodyOf(t: RequestTranslation): Json {
  if ("unsupported" in t) throw new Error(`refused: ${t.message}`);
  expect(t.dropped).toEqual([]);
  return t.body;
}

const text = fc.string({ unit: "binary", minLength: 1, maxLength: 20 });
const name = fc.stringMatching(/^[a-z_]{1,10}$/);
// As JSON carries them: a round trip through the wire format (-0 is 0 there).
const args = fc
  .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as Json) as fc.Arbitrary<Json>;
/** One round: the assistant's text (or none) and 1–3 parallel tool calls with their results, then maybe the user's text. */
const round = fc.record({
  text: fc.option(text, { nil: null }),
  calls: fc.array(fc.record({ name, args, result: text }), { minLength: 1, maxLength: 3 }),
  after: fc.option(text, { nil: null }),
});
const requestKnobs = fc.record(
  {
    tools: fc.record({
      list: fc.array(fc.record({ name, description: text, parameters: fc.constant({ type: "object", properties: { x: { type: "string" } } }) }), {
        minLength: 1,
        maxLength: 3,
      }),
      choice: fc.constantFrom("auto", "none", "required", "named"),
      parallel: fc.boolean(),
    }),
    stop: fc.array(text, { minLength: 1, maxLength: 3 }),
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    max_tokens: fc.integer({ min: 1, max: 64_000 }),
  },
  { requiredKeys: ["max_tokens"] },
);

describe("round trips", () => {
  it("a Chat Completions request → Anthropic → Chat Completions is the request sent", () => {
    fc.assert(
      fc.property(text, text, fc.array(round, { maxLength: 3 }), requestKnobs, (system, first, rounds, knobs) => {
        const messages: Json[] = [
          { role: "system", content: system },
          { role: "user", content: first },
        ];
        let id = 0;
        for (const r of rounds) {
          const calls = r.calls.map((c) => ({ ...c, id: `call_${id++}` }));
          messages.push({
            role: "assistant",
            content: r.text,
            tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: JSON.stringify(c.args) } })),
          });
          for (const c of calls) messages.push({ role: "tool", tool_call_id: c.id, content: c.result });
          if (r.after !== null) messages.push({ role: "user", content: r.after });
        }
        const request: Json = { model: "m", messages, max_tokens: knobs.max_tokens };
        for (const field of ["stop", "temperature", "top_p"] as const) if (knobs[field] !== undefined) request[field] = knobs[field];
        const tools = knobs.tools;
        if (tools) {
          request.tools = tools.list.map((t) => ({ type: "function", function: t }));
          request.tool_choice = tools.choice === "named" ? { type: "function", function: { name: tools.list[0].name } } : tools.choice;
          if (!tools.parallel && tools.choice !== "none") request.parallel_tool_calls = false;
        }
        const back = bodyOf(messagesToChat.request(bodyOf(chatToMessages.request(request, ctx)), ctx));
        expect(back).toEqual(request);
      }),
      { numRuns: 500 },
    );
  });

  it("an Anthropic request → Chat Completions → Anthropic is the request sent", () => {
    fc.assert(
      fc.property(text, text, fc.array(round, { maxLength: 3 }), requestKnobs, (system, first, rounds, knobs) => {
        const messages: Json[] = [{ role: "user", content: [{ type: "text", text: first }] }];
        let id = 0;
        for (const r of rounds) {
          const calls = r.calls.map((c) => ({ ...c, id: `toolu_${id++}` }));
          messages.push({
            role: "assistant",
            content: [
              ...(r.text === null ? [] : [{ type: "text", text: r.text }]),
              ...calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.args })),
            ],
          });
          messages.push({
            role: "user",
            content: [
              ...calls.map((c) => ({ type: "tool_result", tool_use_id: c.id, content: c.result })),
              ...(r.after === null ? [] : [{ type: "text", text: r.after }]),
            ],
          });
        }
        const request: Json = { model: "m", messages, system: [{ type: "text", text: system }], max_tokens: knobs.max_tokens };
        if (knobs.stop) request.stop_sequences = knobs.stop;
        for (const field of ["temperature", "top_p"] as const) if (knobs[field] !== undefined) request[field] = knobs[field];
        const tools = knobs.tools;
        if (tools) {
          request.tools = tools.list.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
          const type = { auto: "auto", none: "none", required: "any", named: "tool" }[tools.choice];
          request.tool_choice = {
            type,
            ...(tools.choice === "named" ? { name: tools.list[0].name } : {}),
            ...(!tools.parallel && tools.choice !== "none" ? { disable_parallel_tool_use: true } : {}),
          };
        }
        const back = bodyOf(chatToMessages.request(bodyOf(messagesToChat.request(request, ctx)), ctx));
        expect(back).toEqual(request);
      }),
      { numRuns: 500 },
    );
  });
});
