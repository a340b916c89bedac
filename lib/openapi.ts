import { z } from "zod";
import pkg from "@/package.json";
import { operations, TAGS } from "@/lib/api/operations";
import { MAX_BODY_BYTES } from "@/lib/http/request";
import { errorEnvelopeSchema, pathParamNames, successBodySchema, type ErrorStatus, type OperationAuth, type OperationSpec } from "@/lib/http/operation";
import { SCOPE_DESCRIPTIONS, SCOPES, type Scope } from "@/lib/keys/scopes";

/**
 * The OpenAPI 3.1 document, generated from the operation declarations and
 * the zod schemas the handlers parse with, so the reference cannot describe
 * a field the API does not accept. Field descriptions come from the schemas'
 * `.meta()`; schemas with a `.meta({ id })` become named components.
 */

type JsonSchema = z.core.JSONSchema.JSONSchema;

interface ParameterObject {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchema;
  example?: string;
}

interface MediaType {
  schema: JsonSchema;
  example?: unknown;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: { "application/json": MediaType; "text/event-stream"?: MediaType; "text/csv"?: MediaType };
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Array<Record<string, string[]>>;
  parameters?: ParameterObject[];
  requestBody?: { required: boolean; content: { "application/json": MediaType } };
  responses: Record<string, ResponseObject>;
  /** Which of the route wrapper's auth modes the handler uses. */
  "x-keygate-auth": OperationAuth;
  /** The scope a management key needs for this operation (session-or-mk operations only). */
  "x-keygate-scope"?: Scope;
}

type SecurityScheme =
  | { type: "http"; scheme: "bearer"; bearerFormat?: string; description: string }
  | { type: "apiKey"; in: "cookie" | "header"; name: string; description: string };

type LowerMethod = "get" | "post" | "put" | "delete";

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: Array<{ url: string; description: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<LowerMethod, OperationObject>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<SecuritySchemeName, SecurityScheme>;
  };
};

// Component keys must match ^[a-zA-Z0-9.\-_]+$, so the names people read are
// the keys' words run together; each description starts with the plain name.
type SecuritySchemeName = "SessionToken" | "ManagementKey" | "SessionCookie" | "AdminToken" | "ConsumptionKey" | "ConsumptionKeyHeader";

/** The scheme the reference page pre-selects for trying requests. */
export const SESSION_TOKEN_SCHEME: SecuritySchemeName = "SessionToken";

const SECURITY_SCHEMES: Record<SecuritySchemeName, SecurityScheme> = {
  SessionToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "Session token: the token from `POST /api/auth/token`, the same JWT the dashboard's cookie holds, sent as `Authorization: Bearer <token>`. Paste one here to try requests.",
  },
  ManagementKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "mk_…",
    description:
      "Management key: `Authorization: Bearer mk_…`. Acts as its owner on the management API, within its scopes: each operation lists the scope it needs here, and a key without it gets 403 `insufficient_scope`. It cannot be used for inference, and cannot list, create or delete management keys.",
  },
  SessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "next-auth.session-token",
    description:
      "Session cookie: the dashboard's NextAuth cookie (`__Secure-next-auth.session-token` over HTTPS). Used only when no Authorization header is sent. Changes authenticated by cookie must come from Keygate's own pages (Origin / Sec-Fetch-Site check).",
  },
  AdminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "Admin token: the operator's `ADMIN_API_TOKEN`, as `Authorization: Bearer <token>`. Operators listed in `KEYGATE_ADMIN_EMAILS` may use their session (token or cookie) instead; management keys never. The admin API is off when neither is set.",
  },
  ConsumptionKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "sk_…",
    description:
      "Consumption key: a credit key (`sk_live_…`) or a subscription key (`sk_pool_…`), as `Authorization: Bearer sk_…` (the `openai` SDKs' way). For the inference endpoints (`/v1/…`) only.",
  },
  ConsumptionKeyHeader: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description:
      "Consumption key header: the same `sk_…` key as `x-api-key` (the `@anthropic-ai/sdk` way). Both headers may be sent if they carry the same key; two different keys are refused with 401.",
  },
};

/**
 * Who may call, as OpenAPI security requirements. A management key's entry
 * names the operation's scope: OpenAPI 3.1 lets a non-OAuth requirement list
 * the roles it needs, which is what a scope is.
 */
function security(op: OperationSpec): Array<Record<string, string[]>> {
  if (op.auth !== "session-or-mk") return SECURITY[op.auth];
  return SECURITY[op.auth].map((req) => ("ManagementKey" in req ? { ManagementKey: [op.scope] } : req));
}

const SECURITY: Record<OperationAuth, Array<Record<string, string[]>>> = {
  none: [],
  session: [{ SessionToken: [] }, { SessionCookie: [] }],
  "session-or-mk": [{ SessionToken: [] }, { ManagementKey: [] }, { SessionCookie: [] }],
  admin: [{ AdminToken: [] }, { SessionToken: [] }, { SessionCookie: [] }],
  "consumption-key": [{ ConsumptionKey: [] }, { ConsumptionKeyHeader: [] }],
};

const DESCRIPTION = [
  "Keygate manages API keys for LLM inference: consumption keys (`sk_…`) that apps use for inference, and management keys (`mk_…`) that scripts use for this API.",
  "Authentication: with an `Authorization` header, that header is the only credential looked at (sent twice, it is refused with 400). `Bearer mk_…` is a management key; `Bearer sk_…` is refused with 403, because consumption keys are for inference only; any other Bearer token is a session token from `POST /api/auth/token`. Without the header, the NextAuth session cookie of the dashboard is used. Sign-in for the dashboard goes through NextAuth's own `/api/auth/*` routes, which are not part of this API. Missing or bad credentials get 401 with `WWW-Authenticate: Bearer`.",
  'Responses: success is `{"success": true, "data": …}`; an error is `{"success": false, "error": {"code", "message", "details"?}}` with an honest HTTP status (500 only for bugs, whose cause is logged and never sent). The ModelSwitch-compatible endpoints (`GET/POST /api/billing-keys`, `DELETE /api/billing-keys/{id}`, `POST /api/keys`) answer in that API\'s documented shapes instead, and their errors still use the envelope.',
  'Inference (`/v1/…`): the endpoints the official OpenAI and Anthropic SDKs call, with a consumption key (`sk_…`) as `Authorization: Bearer` or `x-api-key`. They follow their protocol rather than the conventions above: unknown fields are passed on to the upstream, errors come in the protocol\'s own shape (OpenAI\'s `{"error": {"message", "type", "code"}}`, Anthropic\'s `{"type": "error", "error": {"type", "message"}}`), an upstream\'s own error is passed on with its status, and bodies may be up to 4 MB (images travel inline). Every answer that went upstream carries `x-keygate-usage-id` (its usage record), `x-keygate-upstream` and `x-keygate-attempts`.',
  `Management key scopes: a management key holds some of these scopes, chosen when it is created (default: all), and each operation it may call needs one, named in the operation's description, its \`security\` requirement and \`x-keygate-scope\`. ${SCOPES.map((s) => `\`${s}\`: ${SCOPE_DESCRIPTIONS[s]}`).join(" ")} A key without the scope an operation needs gets 403 \`insufficient_scope\`, whose message names the scope. Sessions are not scoped.`,
  `Requests: bodies are JSON objects (\`Content-Type: application/json\`, UTF-8) of at most ${MAX_BODY_BYTES / 1024} KB. Unknown fields are refused with 400. Where the two APIs Keygate follows spell a field differently, both spellings are accepted (\`isActive\`/\`active\`, \`expiresAt\`/\`expires_at\`). IDs are opaque strings; another account's ID answers 404, exactly like a missing one.`,
].join("\n\n");

const METHOD_ORDER = ["GET", "POST", "PUT", "DELETE"];

/** Noise the generator adds that says nothing a reader needs. */
function tidy({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/**
 * Converts one schema, moving the named schemas it uses (`.meta({ id })`)
 * into the document's components and pointing at them there.
 */
function converter() {
  const components: Record<string, JsonSchema> = {};
  const convert = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
    const generated = z.toJSONSchema(schema, { io, target: "draft-2020-12", override: tidy });
    const json = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema & {
      $defs?: Record<string, JsonSchema>;
    };
    const { $defs, $schema, $id, ...rest } = json;
    void $schema;
    for (const [id, def] of Object.entries($defs ?? {})) components[id] = def;
    void $id;
    // A named schema at the top is itself a component.
    const id = z.globalRegistry.get(schema)?.id;
    if (id) {
      components[id] = rest;
      return { $ref: `#/components/schemas/${id}` };
    }
    return rest;
  };
  return { components, convert };
}

function buildDocument(): OpenApiDocument {
  const { components, convert } = converter();
  const errorRef = convert(errorEnvelopeSchema, "output");
  const errorRefs = new Map<z.ZodType, JsonSchema>();
  const errorSchemaOf = (op: OperationSpec): JsonSchema => {
    if (!op.errorSchema) return errorRef;
    if (!errorRefs.has(op.errorSchema)) errorRefs.set(op.errorSchema, convert(op.errorSchema, "output"));
    return errorRefs.get(op.errorSchema)!;
  };
  const tagOrder: string[] = TAGS.map((t) => t.name);
  const sorted = [...operations].sort(
    (a, b) =>
      tagOrder.indexOf(a.tag) - tagOrder.indexOf(b.tag) || a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method),
  );

  const paths: OpenApiDocument["paths"] = {};
  for (const op of sorted) {
    const parameters: ParameterObject[] = pathParamNames(op.path).map((name) => ({
      name,
      in: "path",
      required: true,
      description: "Opaque ID.",
      schema: { type: "string", maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" },
      example: op.examples.params?.[name],
    }));
    if (op.query) {
      const query = convert(op.query, "input");
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: "query",
          required: query.required?.includes(name) ?? false,
          description,
          schema: rest,
          example: op.examples.query?.[name],
        });
      }
    }
    for (const [name, description] of Object.entries(op.requestHeaders ?? {})) {
      parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });
    }

    const success = op.response.shape === "envelope" ? { success: true, data: op.examples.response } : op.examples.response;
    const ok: ResponseObject = {
      description: op.response.description,
      content: { "application/json": { schema: convert(successBodySchema(op), "output"), example: success } },
    };
    if (op.response.stream) {
      ok.description += ` With \`stream: true\`: ${op.response.stream.description}`;
      ok.content!["text/event-stream"] = { schema: { type: "string" }, example: op.response.stream.example };
    }
    if (op.response.csv) {
      ok.description += ` As CSV (\`Accept: text/csv\` or \`?format=csv\`): ${op.response.csv.description}`;
      ok.content!["text/csv"] = { schema: { type: "string" }, example: op.response.csv.example };
    }
    if (op.response.headers) {
      ok.headers = Object.fromEntries(Object.entries(op.response.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]));
    }
    const responses: Record<string, ResponseObject> = { [op.response.status]: ok };
    for (const [status, text] of Object.entries(errorResponses(op)).sort(([a], [b]) => Number(a) - Number(b))) {
      const response: ResponseObject = { description: text, content: { "application/json": { schema: errorSchemaOf(op) } } };
      if (status === "401") response.headers = { "WWW-Authenticate": { description: "`Bearer`", schema: { type: "string" } } };
      if (status === "429" || status === "503")
        response.headers = { "Retry-After": { description: "Seconds until you may try again.", schema: { type: "integer" } } };
      responses[status] = response;
    }

    let requestBody: OperationObject["requestBody"];
    if (op.body) {
      const schema = convert(op.body, "input");
      requestBody = {
        required: (schema.required?.length ?? 0) > 0,
        content: { "application/json": { schema, example: op.examples.body } },
      };
    }

    (paths[op.path] ??= {})[op.method.toLowerCase() as LowerMethod] = {
      operationId: op.id,
      tags: [op.tag],
      summary: op.summary,
      ...(describe(op) ? { description: describe(op) } : {}),
      security: security(op),
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
      "x-keygate-auth": op.auth,
      ...(op.auth === "session-or-mk" ? { "x-keygate-scope": op.scope } : {}),
    };
  }

  return {
    openapi: "3.1.0",
    info: { title: "Keygate API", version: pkg.version, description: DESCRIPTION },
    servers: [{ url: "/", description: "This Keygate instance" }],
    tags: TAGS.map((t) => ({ ...t })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** The operation's description, and for a management key's operations the scope they need, where readers of /docs see it. */
function describe(op: OperationSpec): string | undefined {
  if (op.auth !== "session-or-mk") return op.description;
  const scope = `**Scope:** a management key needs \`${op.scope}\` (${SCOPE_DESCRIPTIONS[op.scope].replace(/\.$/, "").toLowerCase()}).`;
  return op.description ? `${op.description}\n\n${scope}` : scope;
}

/** The errors an operation can answer: what the route wrapper does, plus the operation's own. */
function errorResponses(op: OperationSpec): Partial<Record<ErrorStatus, string>> {
  // Answered by their own handler in their protocol's shape: exactly the errors declared.
  if (op.errorSchema) return { ...op.errors };
  const out: Partial<Record<ErrorStatus, string[]>> = {};
  const add = (status: ErrorStatus, text: string) => (out[status] ??= []).push(text);
  const mutation = op.method !== "GET";

  if (op.body) {
    add(400, "`validation_error`: a field is missing, malformed, unknown or not valid Unicode (see `details`); `invalid_json`: the body is not JSON.");
    add(413, `\`payload_too_large\`: the body is over ${(op.maxBodyBytes ?? MAX_BODY_BYTES) / 1024} KB.`);
    add(415, "`unsupported_media_type`: a body was sent without `Content-Type: application/json`.");
  }
  if (op.query) add(400, "`validation_error`: a query parameter is malformed.");
  if (op.auth !== "none") add(400, "`duplicate_credentials`: more than one `Authorization` or `x-api-key` header.");
  if (op.auth === "session" || op.auth === "session-or-mk") {
    add(401, "No credentials, or an invalid, expired, deactivated or deleted session token or key.");
    add(403, "`consumption_key_not_allowed`: an `sk_` key was sent; consumption keys are for inference only.");
    if (op.auth === "session") add(403, "`management_key_not_allowed`: management keys cannot manage management keys; use a session.");
    if (op.auth === "session-or-mk") add(403, `\`insufficient_scope\`: the management key lacks the \`${op.scope}\` scope this operation needs.`);
    if (mutation) add(403, "`cross_site_request`: a cookie-authenticated change from another site.");
  }
  if (op.auth === "admin") {
    add(401, "The admin token is missing or wrong, the session is invalid, or a management key was sent (never accepted here).");
    add(
      404,
      "`not_found`: the session is of a user who is not an operator (`KEYGATE_ADMIN_EMAILS`), answered as if the endpoint did not exist. `admin_disabled`: neither `ADMIN_API_TOKEN` nor `KEYGATE_ADMIN_EMAILS` is set on the server.",
    );
    if (mutation) add(403, "`cross_site_request`: an operator's cookie-authenticated change from another site.");
  }
  if (pathParamNames(op.path).length) add(404, "`not_found`: nothing with this ID in your account (another account's ID is not found either).");
  for (const [status, text] of Object.entries(op.errors ?? {})) add(Number(status) as ErrorStatus, text);

  return Object.fromEntries(Object.entries(out).map(([status, texts]) => [status, texts.join(" ")]));
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  return (cached ??= buildDocument());
}

/** The zod schema a documented response of this operation is validated with (used by the tests). */
export function responseSchema(method: string, path: string, status: number): z.ZodType | undefined {
  const op = operations.find((o) => o.method === method.toUpperCase() && o.path === path);
  if (!op) return undefined;
  if (status === op.response.status) return successBodySchema(op);
  return String(status) in errorResponses(op) ? (op.errorSchema ?? errorEnvelopeSchema) : undefined;
}
