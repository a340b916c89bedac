import { z } from "zod";
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "@/lib/http/errors";

/**
 * Reading a request before any handler sees it: the JSON body (size-capped,
 * strictly decoded), the query string, and zod parsing with errors a person
 * can act on. Everything here throws typed HttpErrors, never a 500.
 */

/** Request bodies here are a few fields; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

type AnySchema = z.ZodType;

/** Headers that carry a credential; each may appear at most once. */
export const CREDENTIAL_HEADERS = ["authorization", "x-api-key"] as const;

export function duplicateCredentialsMessage(header: string): string {
  const name = header.toLowerCase() === "authorization" ? "Authorization" : header.toLowerCase();
  return `The request carries more than one ${name} header (or one value listing several). Send exactly one credential.`;
}

/**
 * Refuses a request that carries a credential header more than once: which
 * copy counts would depend on the parser (Node keeps the first
 * Authorization, a proxy may read the last). Fetch's Headers joins repeats
 * with ", ", and no token we issue or accept contains a comma, so a comma
 * means "more than one". Behind Node's http server the second Authorization
 * never arrives here at all; server.ts refuses it from the raw headers.
 */
export function assertSingleCredentialHeaders(req: Request): void {
  for (const name of CREDENTIAL_HEADERS) {
    if (req.headers.get(name)?.includes(",")) {
      throw new BadRequestError(duplicateCredentialsMessage(name), undefined, "duplicate_credentials");
    }
  }
}

const NO_BODY = Symbol("no body");

export function withDefault(body: unknown): unknown {
  return body === NO_BODY ? {} : body;
}

// Text PostgreSQL cannot store would fail in the database as a 500, so it is
// refused up front as the client's mistake it is: U+0000 (text cannot hold
// it) and a lone UTF-16 surrogate (a JSON escape such as \ud800 without its
// pair, which no UTF-8 can encode).
type TextFault = "nul" | "surrogate" | "utf8";

function hasNul(s: string): boolean {
  return s.includes("\u0000");
}

function textFault(s: string): TextFault | undefined {
  if (hasNul(s)) return "nul";
  if (!s.isWellFormed()) return "surrogate";
  return undefined;
}

const FAULT_TEXT: Record<TextFault, string> = {
  nul: "must not contain the NUL character (\\u0000)",
  surrogate: "must be well-formed Unicode: it contains a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair)",
  utf8: "is not valid UTF-8: encode the request body as UTF-8",
};

interface FoundFault {
  /** Dotted path of the value, or of the object whose field name is at fault. */
  path: string[];
  inKey: boolean;
  fault: TextFault;
}

/**
 * The first string (value or field name) in a parsed JSON value that `test`
 * faults, in document order. Iterative: a 16 KB body can nest thousands of
 * levels deep, which recursion would not survive.
 */
function findTextFault(root: unknown, test: (s: string) => TextFault | undefined): FoundFault | undefined {
  interface Node {
    value: unknown;
    key?: string;
    parent?: Node;
  }
  const pathOf = (node: Node | undefined): string[] => {
    const path: string[] = [];
    for (let n = node; n?.key !== undefined; n = n.parent) path.unshift(n.key);
    return path;
  };
  const stack: Node[] = [{ value: root }];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node.value === "string") {
      const fault = test(node.value);
      if (fault) return { path: pathOf(node), inKey: false, fault };
    } else if (node.value !== null && typeof node.value === "object") {
      const entries = Object.entries(node.value);
      for (const [key] of entries) {
        const fault = test(key);
        if (fault) return { path: pathOf(node), inKey: true, fault };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], key: entries[i][0], parent: node });
    }
  }
  return undefined;
}

function textError({ path, inKey, fault }: FoundFault, where: "body" | "query"): BadRequestError {
  const field = path.length ? path.join(".") : undefined;
  const message = inKey ? `a field name${field ? ` in ${field}` : ""} ${FAULT_TEXT[fault]}` : `${field ? `${field}: ` : ""}text ${FAULT_TEXT[fault]}`;
  return new BadRequestError(`Invalid ${where === "body" ? "request body" : "query string"}: ${message}`, [{ path: field, message }], "validation_error");
}

export function queryObject(req: Request): Record<string, string> {
  const query = Object.fromEntries(new URL(req.url).searchParams);
  for (const [name, value] of Object.entries(query)) {
    if (hasNul(name)) throw textError({ path: [], inKey: true, fault: "nul" }, "query");
    if (hasNul(value)) throw textError({ path: [name], inKey: false, fault: "nul" }, "query");
  }
  return query;
}

/**
 * JSON bodies must say so. A form or text/plain body is what a foreign page
 * can send without a CORS preflight, and a charset other than UTF-8 would be
 * misread, so anything but application/json (UTF-8) is refused.
 */
function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const [essence, ...params] = header.split(";");
  if (essence.trim().toLowerCase() !== "application/json") return false;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") return false;
  }
  return true;
}

function assertJsonContentType(req: Request): void {
  const type = req.headers.get("content-type");
  if (isJsonContentType(type)) return;
  throw new UnsupportedMediaTypeError(
    type
      ? "The request body is not declared as JSON in UTF-8: send it with 'Content-Type: application/json'."
      : "The request body has no Content-Type: send it with 'Content-Type: application/json'.",
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });
const REPLACEMENT_CHARACTER_BYTES = Buffer.from("\uFFFD", "utf8");

/**
 * Bytes that are not UTF-8 (0xFF, or a surrogate encoded as 0xED 0xA0 0x80).
 * Decoding them leniently turns each bad sequence into U+FFFD, so the field
 * holding the first one can be named, unless the body also holds a real
 * U+FFFD (raw or as a \ufffd escape), which would make that guess unreliable.
 */
function invalidUtf8(raw: Buffer): BadRequestError {
  const lenient = lenientUtf8.decode(raw);
  if (!raw.includes(REPLACEMENT_CHARACTER_BYTES) && !/\\u[fF]{3}[dD]/.test(lenient)) {
    try {
      const found = findTextFault(JSON.parse(lenient), (s) => (s.includes("\uFFFD") ? "utf8" : undefined));
      if (found) return textError(found, "body");
    } catch {
      // Not JSON either: fall through to the general message.
    }
  }
  return new BadRequestError(
    "The request body is not valid UTF-8. Send JSON encoded as UTF-8 with 'Content-Type: application/json'.",
    undefined,
    "invalid_json",
  );
}

export async function readJsonBody(req: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return (await readJsonBodyWithText(req, maxBytes)).value;
}

/**
 * The body parsed as readJsonBody does, plus the exact text it was parsed
 * from, for callers that must check a signature over the bytes as sent
 * (webhooks). The text is "" when there is no body.
 */
export async function readJsonBodyWithText(req: Request, maxBytes = MAX_BODY_BYTES): Promise<{ value: unknown; text: string }> {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return { value: NO_BODY, text: "" };
  // A declared body of the wrong type is refused before it is read.
  if (declared > 0) assertJsonContentType(req);

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  // No body at all (e.g. `curl -X POST`) needs no Content-Type.
  if (size === 0) return { value: NO_BODY, text: "" };
  assertJsonContentType(req);

  const raw = Buffer.concat(chunks);
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw invalidUtf8(raw);
  }
  if (text.trim() === "") return { value: NO_BODY, text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(
      `The request body is not valid JSON (${(err as Error).message}). Send a JSON object with 'Content-Type: application/json'.`,
      undefined,
      "invalid_json",
    );
  }
  const fault = findTextFault(parsed, textFault);
  if (fault) throw textError(fault, "body");
  return { value: parsed, text };
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The request body is larger than ${maxBytes / 1024} KB; send only the documented fields.`);
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
      return {
        path: path || undefined,
        message: `Unknown field${issue.keys.length > 1 ? "s" : ""} ${fields}: this endpoint does not accept ${issue.keys.length > 1 ? "them" : "it"}.`,
      };
    }
    if (issue.code === "invalid_type" && path === "" && where === "body") {
      return { message: "The request body must be a JSON object." };
    }
    return { path: path || undefined, message: path ? `${path}: ${issue.message}` : issue.message };
  });
  const what = where === "body" ? "request body" : "query string";
  return new BadRequestError(`Invalid ${what}: ${details[0]?.message ?? "see details"}`, details, "validation_error");
}
