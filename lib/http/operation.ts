import { z } from "zod";
import type { AuditDeclaration } from "@/lib/audit/declaration";
import type { Scope } from "@/lib/keys/scopes";

/**
 * The declaration of one API operation: method, path, auth, request schemas,
 * the success response and the errors it adds, its summary and examples.
 * Everything else is derived from these declarations: the handlers' types and
 * parsing (lib/http/route.ts), the 405 answers with `Allow`, the OpenAPI
 * document (lib/openapi.ts) and the test harness's route table. Declarations
 * import only zod schemas, never the database, so any module can read them.
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/**
 * Who may call: nobody in particular, a signed-in session only (cookie or
 * session token), a session or a management key, the operator's admin token,
 * or a consumption key (`sk_…`, the inference endpoints).
 */
export type OperationAuth = "none" | "session" | "session-or-mk" | "admin" | "consumption-key";

/**
 * How the success body is sent: `envelope` wraps the response schema's value
 * as `{"success": true, "data": …}`; `as-is` sends it unchanged (the
 * ModelSwitch-compatible shapes, and documents that are not API objects).
 */
export type ResponseShape = "envelope" | "as-is";

/**
 * Where the operation is served: by a Next route file under app/api, or by a
 * plain node:http handler in the custom server (the inference hot path).
 */
export type ServedBy = "next" | "node";

export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504;

/**
 * What a call records in the audit log (lib/audit/): required of every
 * operation that is not a GET, so none can be added without deciding.
 * `false` for a POST that changes nothing (a key check, inference, a
 * connection test). GETs record nothing.
 */
export type OperationAudit = { method: "GET"; audit?: undefined } | { method: Exclude<HttpMethod, "GET">; audit: AuditDeclaration | false };

interface OperationFields {
  /** The OpenAPI operationId, camelCase. */
  id: string;
  /** OpenAPI style: `/api/keys/{id}`. Every `{name}` is an opaque ID. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  servedBy?: ServedBy;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * Also hand the handler the body's exact text (`rawBody`), for a signature
   * computed over the bytes as sent (webhooks). Needs `body`, which is still
   * parsed and validated as usual.
   */
  rawBody?: boolean;
  /** The body size limit, when this operation's senders need more than MAX_BODY_BYTES (webhooks). */
  maxBodyBytes?: number;
  /** Optional request headers the handler reads, by name: what each does (documented as header parameters). */
  requestHeaders?: Record<string, string>;
  response: {
    status: number;
    description: string;
    schema: z.ZodType;
    shape: ResponseShape;
    /** Response headers worth documenting, by name: what each says. */
    headers?: Record<string, string>;
    /** When the operation can also answer with server-sent events (`stream: true`): what they are, and an example. */
    stream?: { description: string; example: string };
    /** When the operation can also answer as CSV (`Accept: text/csv`): what it holds, and an example. The handler streams it itself. */
    csv?: { description: string; example: string };
  };
  /**
   * The error body's schema when it is not the envelope: the inference
   * endpoints answer in their protocol's shape, from their own handlers (not
   * the route wrapper), so their errors are exactly `errors`, nothing added.
   */
  errorSchema?: z.ZodType;
  /** Errors specific to this operation; those implied by auth, body, query and path are added (unless `errorSchema` is set). */
  errors?: Partial<Record<ErrorStatus, string>>;
  examples: {
    /** A request body that the body schema accepts (required when there is a body). */
    body?: unknown;
    /** Path and query parameters for the example request. */
    params?: Record<string, string>;
    query?: Record<string, string>;
    /** The value of the response schema: `data` for enveloped responses. */
    response: unknown;
  };
}

/**
 * An operation a management key can call names the one scope the key needs
 * (lib/keys/scopes.ts); the route wrapper refuses a key without it, and the
 * reference shows it. The type makes `scope` required exactly there, so a new
 * `session-or-mk` operation cannot forget it (lib/openapi.test.ts checks the
 * list again at run time). Sessions are not scoped.
 */
export type OperationSpec = OperationFields &
  OperationAudit &
  ({ auth: "session-or-mk"; scope: Scope } | { auth: Exclude<OperationAuth, "session-or-mk">; scope?: never });

/** Keeps the literal types of a declaration, so handlers are typed from it. */
export function defineOperation<const S extends OperationSpec>(spec: S): S {
  return spec;
}

/** `"/api/keys/{id}"` → `"id"`. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | PathParams<Rest> : never;

export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/** IDs are opaque; anything that cannot be one is simply not found. */
export const opaqueIdSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/** The value a handler returns for this operation: what the response schema describes. */
export type ResponseOf<S extends OperationSpec> = z.input<S["response"]["schema"]>;

export const errorDetailSchema = z.strictObject({
  path: z.string().optional().meta({ description: "The offending field, dotted, when the error is about one field." }),
  message: z.string(),
});

export const errorEnvelopeSchema = z
  .strictObject({
    success: z.literal(false),
    error: z.strictObject({
      code: z.string().meta({ description: "A stable snake_case code for programs, e.g. `validation_error`, `not_found`." }),
      message: z.string().meta({ description: "A sentence for people that says what to do next. Never contains a secret." }),
      details: z.array(errorDetailSchema).optional().meta({ description: "One entry per problem, for validation errors." }),
    }),
  })
  .meta({ id: "Error", description: "The error envelope every operation answers errors in." });

export type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** The success envelope around an operation's response value. */
export function envelopeOf<T extends z.ZodType>(data: T) {
  return z.strictObject({ success: z.literal(true), data });
}

/** The schema of the whole success body as it goes over the wire. */
export function successBodySchema(op: OperationSpec): z.ZodType {
  return op.response.shape === "envelope" ? envelopeOf(op.response.schema) : op.response.schema;
}
