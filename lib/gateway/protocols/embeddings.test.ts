import { describe, expect, it } from "vitest";
import { ADAPTERS, adapterFor, CHAT_ADAPTERS, promptSize } from "@/lib/gateway/protocols";
import { base64Vector, demoVector, embeddings, MAX_EMBEDDING_INPUTS } from "@/lib/gateway/protocols/embeddings";
import { openai } from "@/lib/gateway/protocols/openai";

/**
 * The embeddings endpoint's adapter on its own: which bodies it takes, that
 * it generates nothing (no output cap, no output usage), its demo vectors, and
 * that it sits beside the chat adapters without replacing OpenAI's.
 */

describe("the embeddings adapter", () => {
  it("is served by the router beside the chat adapters, while adapterFor('openai') stays Chat Completions", () => {
    expect(ADAPTERS.map((a) => a.path)).toEqual(expect.arrayContaining(["/v1/chat/completions", "/v1/messages", "/v1/embeddings"]));
    expect(CHAT_ADAPTERS).not.toContain(embeddings);
    expect(adapterFor("openai")).toBe(openai);
    expect(embeddings).toMatchObject({ protocol: "openai", modelKind: "embedding" });
    expect(embeddings.target("https://api.example.com/v1/", "sk-up", { "x-org": "o" })).toEqual({
      url: "https://api.example.com/v1/embeddings",
      headers: { "x-org": "o", authorization: "Bearer sk-up" },
    });
  });

  it("takes the four input shapes OpenAI takes and refuses anything empty, mixed, streamed or malformed with a sentence", () => {
    const ok = (input: unknown, extra: object = {}) => embeddings.invalid({ model: "m", input, ...extra });
    for (const input of ["text", ["a", "b"], [1, 2, 3], [[1, 2], [3]]]) expect(ok(input), JSON.stringify(input)).toBeNull();
    expect(ok("x", { encoding_format: "base64", dimensions: 256, stream: false })).toBeNull();
    for (const input of [undefined, null, "", [], ["a", ""], [[]], ["a", [1]], [1, "a"], [1.5], [-1], { text: "a" }, 5]) {
      expect(ok(input), JSON.stringify(input)).toEqual(expect.stringContaining("'input'"));
    }
    expect(ok(Array.from({ length: MAX_EMBEDDING_INPUTS + 1 }, () => "a"))).toContain(`at most ${MAX_EMBEDDING_INPUTS}`);
    expect(embeddings.invalid({ input: "x" })).toContain("'model'");
    expect(ok("x", { stream: true })).toContain("does not stream");
    expect(ok("x", { encoding_format: "int8" })).toContain("encoding_format");
    expect(ok("x", { dimensions: 0 })).toContain("dimensions");
  });

  it("generates nothing: no output cap is asked for or written, and output usage is always 0", () => {
    const body = { model: "m", input: "x" };
    expect(embeddings.requestedMaxTokens(body)).toBe(0);
    embeddings.setMaxTokens(body, 100);
    expect(body).toEqual({ model: "m", input: "x" });
    expect(embeddings.usageFromBody({ usage: { prompt_tokens: 7, total_tokens: 7, completion_tokens: 9 } })).toEqual({ inputTokens: 7, outputTokens: 0 });
    expect(embeddings.usageFromBody({})).toEqual({ inputTokens: null, outputTokens: 0 });
    expect(embeddings.usageFromBody({ usage: { prompt_tokens: -3 } })).toEqual({ inputTokens: null, outputTokens: 0 });
  });

  it("counts an embeddings input in the prompt's estimate (text by its bytes, a token id as one token); the bound is the body's bytes", () => {
    const text = { model: "m", input: ["a".repeat(400)] };
    expect(promptSize(1000, text)).toEqual({ bound: 1000, estimate: 100 });
    expect(promptSize(50, { model: "m", input: [[1, 2, 3], [4]] }).estimate).toBe(4);
  });

  it("makes deterministic unit vectors for the demo model, the same as floats and as base64 float32s", () => {
    const v = demoVector("hello", 8);
    expect(v).toHaveLength(8);
    expect(demoVector("hello", 8)).toEqual(v);
    expect(demoVector("hello!", 8)).not.toEqual(v);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const bytes = Buffer.from(base64Vector(v), "base64");
    expect(Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(v);
    const answer = embeddings.echo(
      { model: "keygate/echo-embedding", id: "x", text: "", words: [], truncated: false, inputTokens: 3, request: { input: ["a", "b"], dimensions: 3 } },
      false,
      false,
    );
    expect(answer).toEqual({
      json: {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: demoVector("a", 3) },
          { object: "embedding", index: 1, embedding: demoVector("b", 3) },
        ],
        model: "keygate/echo-embedding",
        usage: { prompt_tokens: 3, total_tokens: 3 },
      },
    });
  });
});
