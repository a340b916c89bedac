import { SecretDecryptionError } from "@/lib/crypto/secrets";
import { prisma } from "@/lib/db";
import { env } from "@/lib/env";
import { adapterFor } from "@/lib/gateway/protocols";
import { NotFoundError } from "@/lib/http/errors";
import { redact } from "@/lib/log";
import { environmentUpstreams, toUpstreamRecord, type UpstreamRecord } from "@/lib/upstreams/registry";
import type { UpstreamTestResult } from "@/lib/upstreams/schemas";

/**
 * "Test a connection": one cheap, read-only request to an upstream with its
 * stored key, the protocol's model list (OpenAI `GET {baseUrl}/models`,
 * Anthropic `GET {baseUrl}/v1/models`), which proves the URL, the key and the
 * extra headers without spending tokens. The answer says what happened and how
 * long it took; it never carries the key or a header value, even when the
 * upstream's error message quotes them. A test is not traffic: it does not
 * count in the upstream's health and never starts a cooldown.
 */

/** A test waits at most this long (or the upstream's own timeout, when shorter). */
const TEST_TIMEOUT_MS = 10_000;
/** Only the head of an answer is read: enough to count models or quote an error. */
const MAX_READ_BYTES = 256 * 1024;
const EXCERPT_CHARS = 160;

/** Tests the upstream with this ID (a stored upstream's ID, or `env-openai` / `env-anthropic`). */
export async function testUpstream(id: string): Promise<UpstreamTestResult> {
  const found = await recordFor(id);
  if ("unreadable" in found) {
    return {
      ok: false,
      status: null,
      latencyMs: 0,
      url: found.url,
      modelCount: null,
      message: `The stored API key or headers of "${found.name}" cannot be decrypted with this server's KEYGATE_ENCRYPTION_KEY. Enter them again (PUT /api/admin/upstreams/{id}), or set KEYGATE_ENCRYPTION_KEY_PREVIOUS to the key they were sealed with.`,
    };
  }
  return probe(found);
}

async function recordFor(id: string): Promise<UpstreamRecord | { unreadable: true; name: string; url: string }> {
  const fromEnv = environmentUpstreams().find((u) => u.name === id);
  if (fromEnv) return fromEnv;
  const db = await prisma();
  const row = id.length <= 64 ? await db.upstream.findUnique({ where: { id } }) : null;
  if (!row) throw new NotFoundError("No upstream has this ID; GET /api/admin/upstreams lists them.");
  try {
    return toUpstreamRecord(row);
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
    return { unreadable: true, name: row.name, url: adapterFor(row.protocol).modelList(row.baseUrl, null, {}).url };
  }
}

/** Sends the request and reads the answer into a verdict a person can act on. */
export async function probe(u: UpstreamRecord): Promise<UpstreamTestResult> {
  const adapter = adapterFor(u.protocol);
  const target = adapter.modelList(u.baseUrl, u.apiKey, u.headers);
  const url = target.url;
  const timeoutMs = Math.min(u.timeoutMs ?? env().KEYGATE_UPSTREAM_TIMEOUT_MS, TEST_TIMEOUT_MS);
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  let answer: Response;
  try {
    answer = await fetch(url, { headers: { accept: "application/json", ...target.headers }, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      status: null,
      latencyMs: elapsed(),
      url,
      modelCount: null,
      message: timedOut
        ? `No answer within ${timeoutMs / 1000} s. Check that ${new URL(url).host} is reachable from this server.`
        : `Could not connect to ${new URL(url).host}: ${scrub(cause, u)}. Check the base URL and that this server can reach it.`,
    };
  }
  const text = await readHead(answer);
  const latencyMs = elapsed();
  const status = answer.status;
  if (status >= 200 && status < 300) {
    const count = modelCount(text);
    return {
      ok: true,
      status,
      latencyMs,
      url,
      modelCount: count,
      message:
        count === null
          ? `Connected: ${status} in ${latencyMs} ms.`
          : `Connected: ${status} in ${latencyMs} ms; the upstream lists ${count} model${count === 1 ? "" : "s"}.`,
    };
  }
  const said = excerpt(text, u);
  return {
    ok: false,
    status,
    latencyMs,
    url,
    modelCount: null,
    message: `${advice(status, u, adapter.baseUrlConvention)}${said ? ` The upstream said: "${said}"` : ""}`,
  };
}

function advice(status: number, u: UpstreamRecord, convention: string): string {
  if (status === 401 || status === 403)
    return `The upstream refused the credentials (${status}): check the API key${Object.keys(u.headers).length ? " and the extra headers" : ""}.`;
  if (status === 404) return `Nothing at this URL (404): check the base URL (${convention}).`;
  if (status >= 300 && status < 400) return `The upstream redirects (${status}); the gateway does not follow redirects: use the final URL as the base URL.`;
  if (status === 429) return "The upstream is rate limiting this key (429); the connection and key work.";
  return `The upstream answered ${status}.`;
}

async function readHead(answer: Response): Promise<string> {
  if (!answer.body) return "";
  const reader = answer.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut off is judged on what arrived.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function modelCount(text: string): number | null {
  try {
    const json = JSON.parse(text) as { data?: unknown };
    return Array.isArray(json.data) ? json.data.length : null;
  } catch {
    return null;
  }
}

/** A short, single-line excerpt of an error answer (its JSON message, else its text), with the upstream's secrets and any key material taken out. */
function excerpt(text: string, u: UpstreamRecord): string {
  let said = text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const inner = json.error && typeof json.error === "object" ? (json.error as Record<string, unknown>) : null;
    const message = [inner?.message, json.message, json.error, json.detail].find((v) => typeof v === "string");
    if (typeof message === "string") said = message;
  } catch {
    said = text.slice(0, 16 * 1024).replace(/<[^>]*>/g, " ");
  }
  const line = scrub(said.replace(/\s+/g, " ").trim(), u);
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

/** Takes the upstream's key and header values out of a text (an upstream may quote them back), and any Keygate key material. */
function scrub(text: string, u: UpstreamRecord): string {
  let out = text;
  for (const secret of [u.apiKey, ...Object.values(u.headers)]) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return redact(out);
}
