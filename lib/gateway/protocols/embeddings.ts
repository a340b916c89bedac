import crypto from "node:crypto";
import { isObject, type Json, type ProtocolAdapter, type ReportedUsage, tokenCount } from "@/lib/gateway/protocols/adapter";
import { openai } from "@/lib/gateway/protocols/openai";

/**
 * OpenAI Embeddings (`POST /v1/embeddings`), for catalogue models of kind
 * `embedding`, on OpenAI-protocol upstreams only (Anthropic has no
 * embeddings). It speaks OpenAI's error shape and finds its upstreams like
 * Chat Completions (protocol "openai", `${baseUrl}/embeddings`). An
 * embedding generates no tokens: `requestedMaxTokens` is 0, so admission
 * reserves the prompt's bound alone and the request settles at the
 * upstream's `prompt_tokens` (bounded by that), with 0 output tokens. There
 * is no streaming: `stream: true` is refused.
 */

/** OpenAI's own limit on the inputs of one request. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** The demo model's vector length when the request sets no `dimensions`. */
export const DEMO_EMBEDDING_DIMENSIONS = 8;
const MAX_DEMO_DIMENSIONS = 4096;

const INPUT_SHAPE = "'input' must be a non-empty string, an array of non-empty strings, an array of token ids, or an array of non-empty arrays of token ids";

function isTokenId(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every(isTokenId);
}

/** A sentence saying what is wrong with `input`, or null when it is one of the shapes OpenAI accepts. */
function invalidInput(input: unknown): string | null {
  if (input === undefined || input === null) return "The request needs an 'input': the text (or texts) to embed.";
  if (typeof input === "string") return input ? null : `${INPUT_SHAPE}; it is an empty string.`;
  if (!Array.isArray(input) || input.length === 0) return `${INPUT_SHAPE}.`;
  if (input.length > MAX_EMBEDDING_INPUTS) return `'input' has ${input.length} items; at most ${MAX_EMBEDDING_INPUTS} fit in one request.`;
  if (input.every((v) => typeof v === "string")) {
    const empty = input.findIndex((v) => v === "");
    return empty < 0 ? null : `${INPUT_SHAPE}; input[${empty}] is an empty string.`;
  }
  if (isTokenArray(input) || input.every(isTokenArray)) return null;
  return `${INPUT_SHAPE}; the items must all be of one kind.`;
}

/** The inputs one by one, as the demo model embeds them. */
function inputsOf(input: unknown): unknown[] {
  if (typeof input === "string" || isTokenArray(input)) return [input];
  return Array.isArray(input) ? input : [];
}

/**
 * A deterministic unit vector for one input: SHA-256 of the input (and the
 * vector's length) stretched over `dimensions` floats in [-1, 1], normalised.
 * The same input always gets the same vector; different inputs, different ones.
 */
export function demoVector(input: unknown, dimensions: number): number[] {
  const seed = JSON.stringify(input);
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = crypto.createHash("sha256").update(`${dimensions}:${block}:${seed}`).digest();
    for (let i = 0; i + 2 <= digest.length && values.length < dimensions; i += 2) values.push(digest.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.hypot(...values) || 1;
  // Float32, as an upstream's vectors are: a float and a base64 answer then say exactly the same.
  return values.map((v) => Math.fround(v / norm));
}

/** A vector as OpenAI's `encoding_format: "base64"` sends it: little-endian float32s, base64. */
export function base64Vector(vector: number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString("base64");
}

export const embeddings: ProtocolAdapter = {
  ...openai,
  protocol: "openai",
  label: "OpenAI",
  path: "/v1/embeddings",
  modelKind: "embedding",
  owns: (path) => path.startsWith("/v1/embeddings"),

  target(baseUrl, apiKey, headers) {
    const base = baseUrl.replace(/\/+$/, "");
    return { url: `${base}/embeddings`, headers: { ...headers, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) } };
  },
  envUpstream(e) {
    if (!e.OPENAI_BASE_URL && !e.OPENAI_API_KEY) return null;
    return embeddings.target(e.OPENAI_BASE_URL ?? "https://api.openai.com/v1", e.OPENAI_API_KEY ?? null, {});
  },

  invalid(body) {
    if (typeof body.model !== "string" || !body.model) return "The request needs a 'model': one of the embedding models GET /v1/models lists.";
    const input = invalidInput(body.input);
    if (input) return input;
    if (body.stream !== undefined && body.stream !== false && body.stream !== null) return "POST /v1/embeddings does not stream: leave out 'stream'.";
    if (body.encoding_format !== undefined && body.encoding_format !== "float" && body.encoding_format !== "base64")
      return '\'encoding_format\' must be "float" or "base64".';
    const d = body.dimensions;
    if (d !== undefined && d !== null && !(typeof d === "number" && Number.isInteger(d) && d > 0)) return "'dimensions' must be a positive whole number.";
    return null;
  },
  // An embedding generates no tokens: nothing to cap, and nothing of output is reserved or charged.
  requestedMaxTokens: () => 0,
  setMaxTokens: () => undefined,
  askForStreamUsage: () => false,

  usageFromBody(json): ReportedUsage {
    const u = json.usage;
    return { inputTokens: isObject(u) ? tokenCount(u.prompt_tokens) : null, outputTokens: 0 };
  },
  readStreamEvent: () => true,

  echo(a) {
    const body = a.request;
    const requested = typeof body.dimensions === "number" && Number.isInteger(body.dimensions) ? body.dimensions : DEMO_EMBEDDING_DIMENSIONS;
    const dimensions = Math.min(Math.max(1, requested), MAX_DEMO_DIMENSIONS);
    const base64 = body.encoding_format === "base64";
    const data = inputsOf(body.input).map((input, index) => {
      const vector = demoVector(input, dimensions);
      return { object: "embedding", index, embedding: base64 ? base64Vector(vector) : vector };
    });
    const json: Json = { object: "list", data, model: a.model, usage: { prompt_tokens: a.inputTokens, total_tokens: a.inputTokens } };
    return { json };
  },
};
