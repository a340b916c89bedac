/**
 * A fake LLM provider for the gateway's tests and the benchmark: a local
 * node:http server speaking OpenAI Chat Completions and Anthropic Messages,
 * plain and streamed, faithfully enough for the official SDKs. Replies are
 * deterministic ("w0 w1 w2 …", one word = one token) and so is usage. Knobs
 * (mutable between requests) add latency, error statuses, mid-stream
 * disconnects and slow chunks; writes honour backpressure. It can also answer
 * with tool calls and report cached input tokens. Every request is recorded
 * along with the concurrency seen.
 *
 * Tests: `const up = await startFakeUpstream()`. Benchmark, as its own process:
 * `npx tsx test/fake-upstream.ts --port 9000 [--latency-ms N] [--output-tokens N]`.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeUpstreamOptions {
  latencyMs?: number;
  chunkDelayMs?: number;
  streamUsage?: boolean;
  outputTokens?: number;
  failMidStreamAfter?: number;
  status?: number;
  /** Reported in place of the real usage, in answers and streams alike (a buggy or hostile upstream: negative, fractional, huge counts). */
  usage?: Json;
  /** Every inference request gets exactly this answer (an HTML error page from a proxy, plain text, cut JSON). */
  raw?: { status: number; contentType?: string; body: string; headers?: Record<string, string> };
  /**
   * Answer with these tool calls, after the words (set `outputTokens: 0` for
   * none), with ids `call_<i>` / `toolu_<i>` and stop reason `tool_calls` /
   * `tool_use`. Streamed, each call's arguments arrive in two or more
   * fragments. Each call adds ceil(UTF-8 bytes of its name and arguments / 4)
   * output tokens.
   */
  toolCalls?: Array<{ name: string; arguments: Json }>;
  /**
   * Report this many of the input tokens (at most all of them) as read from
   * the prompt cache: OpenAI's `prompt_tokens_details.cached_tokens` within
   * `prompt_tokens`, Anthropic's `cache_read_input_tokens` beside an
   * `input_tokens` reduced by as many, so the total input is unchanged.
   */
  cachedTokens?: number;
  /** Per request: options to use over these for this request, from its body (e.g. a tool call until the request carries the tool's result). */
  respond?: (body: Json) => Omit<FakeUpstreamOptions, "respond">;
  /** POST /v1/embeddings: the vectors' length when the request sets no `dimensions` (default 8). */
  embeddingDimensions?: number;
}
export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  startedAt: number;
  endedAt?: number;
  aborted: boolean;
}
export interface FakeUpstream {
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  requests: RecordedRequest[];
  inFlight: number;
  maxInFlight: number;
  options: FakeUpstreamOptions;
  reset(): void;
  close(): Promise<void>;
}

type Req = http.IncomingMessage;
type Res = http.ServerResponse;
type Json = Record<string, unknown>;
interface Reply {
  model: string;
  inputTokens: number;
  /** Of the input tokens, those reported as read from the cache (0 unless `cachedTokens` is set). */
  cachedTokens: number;
  words: string[];
  toolCalls: Array<{ name: string; arguments: string }>;
  /** The words, and the tool calls' tokens. */
  outputTokens: number;
  capped: boolean;
}
interface SseEvent {
  data: unknown;
  event?: string;
  content?: boolean;
}

const MODELS = ["gpt-4o-mini", "gpt-4o", "claude-test"];
const severed = new WeakSet<Res>(); // responses we cut on purpose (not client aborts)
const SEVER_GRACE_MS = 20;
let seq = 0;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const now = () => Math.floor(Date.now() / 1000);

// ---------- request side ----------

async function readBody(req: Req): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** A message content's text: a string, or the `text` of an array of blocks/parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b) => (isObj(b) && typeof b.text === "string" ? b.text : "")).join("");
}

/** Deterministic input tokens: ceil(UTF-8 bytes of all text / 4), at least 1. */
function countTokens(contents: unknown[]): number {
  const bytes = contents.reduce<number>((n, c) => n + Buffer.byteLength(textOf(c)), 0);
  return Math.max(1, Math.ceil(bytes / 4));
}

function plan(opts: FakeUpstreamOptions, body: Json, maxTokens: unknown, contents: unknown[]): Reply {
  const wanted = opts.outputTokens ?? 5;
  const cap = typeof maxTokens === "number" ? maxTokens : Infinity;
  const n = Math.max(0, Math.min(wanted, cap));
  const inputTokens = countTokens(contents);
  const toolCalls = (opts.toolCalls ?? []).map((c) => ({ name: c.name, arguments: JSON.stringify(c.arguments) }));
  const toolTokens = toolCalls.reduce((sum, c) => sum + countTokens([c.name + c.arguments]), 0);
  return {
    model: typeof body.model === "string" ? body.model : "unknown",
    inputTokens,
    cachedTokens: Math.max(0, Math.min(opts.cachedTokens ?? 0, inputTokens)),
    words: Array.from({ length: n }, (_, i) => `${i ? " " : ""}w${i}`),
    toolCalls,
    outputTokens: n + toolTokens,
    capped: cap < wanted,
  };
}

/** A tool call's arguments in the fragments a stream sends them in: two or more, of up to 8 characters. */
function fragments(args: string): string[] {
  const size = Math.max(1, Math.min(8, Math.ceil(args.length / 2)));
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out.length >= 2 ? out : [...out, ""].slice(0, 2);
}

// ---------- response side ----------

function json(res: Res, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function openaiError(res: Res, status: number, message: string): void {
  const type = status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
  const code = status === 401 ? "invalid_api_key" : status === 429 ? "rate_limit_exceeded" : null;
  json(res, status, { error: { message, type, param: null, code } });
}

const ANTHROPIC_ERRORS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};
function anthropicError(res: Res, status: number, message: string): void {
  json(res, status, { type: "error", error: { type: ANTHROPIC_ERRORS[status] ?? "api_error", message } });
}

/** Resolves on 'drain' or 'close', whichever comes first. */
function drained(res: Res): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Writes one chunk, waiting for 'drain' under backpressure; false once the client is gone. */
async function write(res: Res, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) await drained(res);
  return !res.destroyed;
}

/**
 * Destroys the socket mid-response. Waits a moment first: a fetch body that
 * errors drops the chunks it has queued but not yet handed to the reader, and
 * the point is for the client to see the content chunks, then the failure.
 */
async function sever(res: Res): Promise<void> {
  await sleep(SEVER_GRACE_MS);
  severed.add(res);
  res.socket?.destroy();
}

/** Streams SSE events (generated lazily) one write each; cuts the socket after `failMidStreamAfter` content events. */
async function streamSse(res: Res, opts: FakeUpstreamOptions, events: Iterable<SseEvent>): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  let sent = 0;
  let i = 0;
  for (const e of events) {
    if (sent === opts.failMidStreamAfter) return sever(res);
    if (i++ > 0 && opts.chunkDelayMs) await sleep(opts.chunkDelayMs);
    const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
    if (!(await write(res, `${e.event ? `event: ${e.event}\n` : ""}data: ${data}\n\n`))) return;
    if (e.content) sent++;
  }
  res.end();
}

// ---------- OpenAI ----------

function hasBearer(req: Req): boolean {
  return /^Bearer\s+\S+/i.test(req.headers.authorization ?? "");
}

async function chatCompletions(req: Req, res: Res, opts: FakeUpstreamOptions, body: unknown): Promise<void> {
  if (!hasBearer(req)) return openaiError(res, 401, "Incorrect API key provided.");
  if (opts.status) return openaiError(res, opts.status, `Fake upstream error ${opts.status}`);
  if (!isObj(body) || !Array.isArray(body.messages)) return openaiError(res, 400, "'messages' is required.");
  const r = plan(
    opts,
    body,
    body.max_completion_tokens ?? body.max_tokens,
    body.messages.map((m) => (isObj(m) ? m.content : "")),
  );
  const usage = opts.usage ?? {
    prompt_tokens: r.inputTokens,
    completion_tokens: r.outputTokens,
    total_tokens: r.inputTokens + r.outputTokens,
    ...(opts.cachedTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: r.cachedTokens } }),
  };
  const finish = r.toolCalls.length ? "tool_calls" : r.capped ? "length" : "stop";
  const base = { id: `chatcmpl-fake${++seq}`, created: now(), model: r.model, system_fingerprint: null };
  const callId = (i: number) => `call_${i}`;
  if (body.stream !== true) {
    const message: Json = { role: "assistant", content: r.toolCalls.length && !r.words.length ? null : r.words.join(""), refusal: null };
    if (r.toolCalls.length)
      message.tool_calls = r.toolCalls.map((c, i) => ({ id: callId(i), type: "function", function: { name: c.name, arguments: c.arguments } }));
    return json(res, 200, { ...base, object: "chat.completion", choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage });
  }
  const withUsage = isObj(body.stream_options) && body.stream_options.include_usage === true && opts.streamUsage !== false;
  const chunk = (delta: Json, finishReason: string | null = null) => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  });
  function* events(): Generator<SseEvent> {
    yield { data: chunk({ role: "assistant", content: "", refusal: null }) };
    for (const w of r.words) yield { data: chunk({ content: w }), content: true };
    for (const [i, c] of r.toolCalls.entries()) {
      yield { data: chunk({ tool_calls: [{ index: i, id: callId(i), type: "function", function: { name: c.name, arguments: "" } }] }), content: true };
      for (const part of fragments(c.arguments)) yield { data: chunk({ tool_calls: [{ index: i, function: { arguments: part } }] }), content: true };
    }
    yield { data: chunk({}, finish) };
    if (withUsage) yield { data: { ...base, object: "chat.completion.chunk", choices: [], usage } };
    yield { data: "[DONE]" };
  }
  await streamSse(res, opts, events());
}

function listModels(req: Req, res: Res): void {
  // OpenAI's GET /v1/models takes a bearer key, Anthropic's an x-api-key.
  if (!hasBearer(req) && !req.headers["x-api-key"]) return openaiError(res, 401, "Incorrect API key provided.");
  json(res, 200, { object: "list", data: MODELS.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "fake" })) });
}

// ---------- OpenAI embeddings ----------

/** One input's deterministic vector: values from its text (or token ids) and position, normalised, as float32s like OpenAI's. */
function fakeVector(input: unknown, dimensions: number): number[] {
  const seed = JSON.stringify(input);
  const raw = Array.from({ length: dimensions }, (_, i) => {
    let h = 2166136261 ^ i;
    for (let j = 0; j < seed.length; j++) h = Math.imul(h ^ seed.charCodeAt(j), 16777619);
    return ((h >>> 0) / 0xffffffff) * 2 - 1;
  });
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

/** Deterministic input tokens of one embeddings input: its text's UTF-8 bytes / 4 (at least 1), or its token ids' count. */
function embeddingTokens(input: unknown): number {
  if (Array.isArray(input) && input.every((t) => typeof t === "number")) return Math.max(1, input.length);
  return countTokens([typeof input === "string" ? input : ""]);
}

async function createEmbeddings(req: Req, res: Res, opts: FakeUpstreamOptions, body: unknown): Promise<void> {
  if (!hasBearer(req)) return openaiError(res, 401, "Incorrect API key provided.");
  if (opts.status) return openaiError(res, opts.status, `Fake upstream error ${opts.status}`);
  if (!isObj(body) || body.input === undefined) return openaiError(res, 400, "'input' is required.");
  const single = typeof body.input === "string" || (Array.isArray(body.input) && body.input.every((t) => typeof t === "number"));
  const inputs: unknown[] = single ? [body.input] : Array.isArray(body.input) ? body.input : [];
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : (opts.embeddingDimensions ?? 8);
  const base64 = body.encoding_format === "base64";
  const data = inputs.map((input, index) => {
    const vector = fakeVector(input, dimensions);
    if (!base64) return { object: "embedding", index, embedding: vector };
    const bytes = Buffer.alloc(vector.length * 4);
    vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    return { object: "embedding", index, embedding: bytes.toString("base64") };
  });
  const tokens = inputs.reduce<number>((n, input) => n + embeddingTokens(input), 0);
  json(res, 200, {
    object: "list",
    data,
    model: typeof body.model === "string" ? body.model : "unknown",
    usage: opts.usage ?? { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---------- Anthropic ----------

async function messages(req: Req, res: Res, opts: FakeUpstreamOptions, body: unknown): Promise<void> {
  // The real API takes x-api-key; @anthropic-ai/sdk 1.x sends its apiKey as a bearer token.
  if (!req.headers["x-api-key"] && !hasBearer(req)) return anthropicError(res, 401, "invalid x-api-key");
  if (opts.status) return anthropicError(res, opts.status, `Fake upstream error ${opts.status}`);
  if (!isObj(body) || !Array.isArray(body.messages)) return anthropicError(res, 400, "messages: Field required");
  const contents = [body.system, ...body.messages.map((m) => (isObj(m) ? m.content : ""))];
  const r = plan(opts, body, body.max_tokens, contents);
  const stop_reason = r.toolCalls.length ? "tool_use" : r.capped ? "max_tokens" : "end_turn";
  const message = { id: `msg_fake${++seq}`, type: "message", role: "assistant", model: r.model, stop_sequence: null };
  // Cache reads are reported beside input_tokens, which then counts only the rest.
  const input =
    opts.cachedTokens === undefined
      ? { input_tokens: r.inputTokens }
      : { input_tokens: r.inputTokens - r.cachedTokens, cache_read_input_tokens: r.cachedTokens };
  // A text block unless the answer is only tool calls.
  const withText = r.words.length > 0 || r.toolCalls.length === 0;
  const toolUse = (c: Reply["toolCalls"][number], i: number, args: unknown) => ({ type: "tool_use", id: `toolu_${i}`, name: c.name, input: args });
  if (body.stream !== true) {
    const content = [...(withText ? [{ type: "text", text: r.words.join("") }] : []), ...r.toolCalls.map((c, i) => toolUse(c, i, JSON.parse(c.arguments)))];
    return json(res, 200, { ...message, content, stop_reason, usage: opts.usage ?? { ...input, output_tokens: r.outputTokens } });
  }
  const ev = (event: string, data: Json, content = false): SseEvent => ({ event, data: { type: event, ...data }, content });
  function* events(): Generator<SseEvent> {
    yield ev("message_start", {
      message: { ...message, content: [], stop_reason: null, usage: opts.usage ?? { ...input, output_tokens: 1 } },
    });
    if (withText) yield ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    yield ev("ping", {});
    for (const w of r.words) yield ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: w } }, true);
    if (withText) yield ev("content_block_stop", { index: 0 });
    for (const [i, c] of r.toolCalls.entries()) {
      const index = i + (withText ? 1 : 0);
      yield ev("content_block_start", { index, content_block: toolUse(c, i, {}) });
      for (const part of fragments(c.arguments)) yield ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } }, true);
      yield ev("content_block_stop", { index });
    }
    yield ev("message_delta", { delta: { stop_reason, stop_sequence: null }, usage: opts.usage ?? { output_tokens: r.outputTokens } });
    yield ev("message_stop", {});
  }
  await streamSse(res, opts, events());
}

// ---------- server ----------

async function handle(up: FakeUpstream, req: Req, res: Res): Promise<void> {
  const rec: RecordedRequest = { path: req.url ?? "", headers: { ...req.headers }, body: undefined, startedAt: Date.now(), aborted: false };
  up.requests.push(rec);
  up.maxInFlight = Math.max(up.maxInFlight, ++up.inFlight);
  res.on("close", () => {
    up.inFlight--;
    rec.endedAt = Date.now();
    rec.aborted = !res.writableFinished && !severed.has(res);
  });
  const body = (rec.body = await readBody(req));
  const opts = up.options.respond && isObj(body) ? { ...up.options, ...up.options.respond(body) } : up.options;
  if (opts.latencyMs) await sleep(opts.latencyMs);
  if (res.destroyed) return;
  const route = `${req.method} ${new URL(rec.path, "http://x").pathname}`;
  if (opts.raw && req.method === "POST") {
    res.writeHead(opts.raw.status, { "content-type": opts.raw.contentType ?? "text/html", ...opts.raw.headers });
    return void res.end(opts.raw.body);
  }
  if (route === "POST /v1/chat/completions") return chatCompletions(req, res, opts, body);
  if (route === "POST /v1/messages") return messages(req, res, opts, body);
  if (route === "GET /v1/models") return listModels(req, res);
  if (route === "POST /v1/embeddings") return createEmbeddings(req, res, opts, body);
  openaiError(res, 404, `Unknown route ${route}`);
}

async function listen(options: FakeUpstreamOptions, port: number): Promise<FakeUpstream> {
  const server = http.createServer((req, res) => {
    handle(up, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const up: FakeUpstream = {
    openaiBaseUrl: `${origin}/v1`,
    anthropicBaseUrl: origin,
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    options,
    reset() {
      up.requests.length = 0;
      up.maxInFlight = up.inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  return up;
}

export function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  return listen(options, 0);
}

// ---------- CLI (benchmark) ----------

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : undefined;
}

// Run as a program (tsx test/fake-upstream.ts), not imported. Judged by the script's name, not import.meta:
// Playwright compiles e2e helpers to CommonJS, and a module that mentions import.meta is then loaded as ESM and fails.
if (process.argv[1] && /[\\/]fake-upstream\.[cm]?[jt]s$/.test(process.argv[1])) {
  const options = { latencyMs: flag("latency-ms"), outputTokens: flag("output-tokens"), chunkDelayMs: flag("chunk-delay-ms") };
  void listen(options, flag("port") ?? 0).then((up) => {
    console.log(`fake upstream listening on ${up.anthropicBaseUrl}`);
    const stop = () => void up.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
