import { isStoreUnavailable } from "@/lib/cluster/redis";
import { z } from "zod";
import type { Actor, Identity, UserActor } from "@/lib/auth/actor";
import { resolveCaller, resolveOperator } from "@/lib/auth/caller";
import { ConfigError, env } from "@/lib/env";
import { operations } from "@/lib/api/operations";
import { errorResponse, ForbiddenError, HttpError, NotFoundError } from "@/lib/http/errors";
import { opaqueIdSchema, pathParamNames, successBodySchema, type OperationSpec, type PathParams, type ResponseOf } from "@/lib/http/operation";
import { assertSingleCredentialHeaders, parseWith, queryObject, readJsonBodyWithText, withDefault } from "@/lib/http/request";
import type { Scope } from "@/lib/keys/scopes";
import { redact } from "@/lib/log";
import { clientIp } from "@/lib/rate-limit";
import { countingAuditRows } from "@/lib/audit/record";
import { logger } from "@/lib/ops/logger";

/**
 * One wrapper for every /api route handler, driven by the operation's
 * declaration: resolve the caller once and make it the request's actor
 * (lib/auth/actor.ts: a user for session and session-or-mk operations, the
 * operator for admin ones, anonymous for the rest, carrying the operation's
 * audit declaration to the unit of work), parse path, query and body with the
 * declared schemas, send the declared success shape, map typed errors to the
 * envelope, and log (never send) the cause of anything unexpected.
 */

const NO_STORE = { "Cache-Control": "no-store" };

export interface HandlerContext<S extends OperationSpec> {
  req: Request;
  /** Who is acting: pass it to the services, which scope and record their writes by it. */
  actor: S["auth"] extends "session" | "session-or-mk" ? UserActor : Actor;
  body: S["body"] extends z.ZodType ? z.output<S["body"]> : undefined;
  /** The body's exact text ("" when none was sent), for operations declared with `rawBody: true`. */
  rawBody: S["rawBody"] extends true ? string : undefined;
  query: S["query"] extends z.ZodType ? z.output<S["query"]> : undefined;
  params: Record<PathParams<S["path"]>, string>;
}

/**
 * A response the handler makes itself: a body streamed as it is read (the
 * request log as CSV), for operations that declare `response.csv`. It is
 * sent as it is, with `Cache-Control: no-store`.
 */
export class RawResponse {
  constructor(readonly response: Response) {}
}

export type Handler<S extends OperationSpec> = (
  ctx: HandlerContext<S>,
) => Promise<ResponseOf<S> | (S["response"] extends { csv: object } ? RawResponse : never)>;

/** A declared operation with its handler, as a fetch-style function of the request and path parameters. */
export interface Implementation {
  op: OperationSpec;
  run: (req: Request, params: Record<string, string>) => Promise<Response>;
}

export function handle<const S extends OperationSpec>(op: S, handler: Handler<S>): Implementation {
  const run = async (req: Request, rawParams: Record<string, string>): Promise<Response> => {
    try {
      assertSingleCredentialHeaders(req);
      const identity: Identity =
        op.auth === "session" || op.auth === "session-or-mk"
          ? await resolveCaller(req, op.auth)
          : op.auth === "admin"
            ? await resolveOperator(req)
            : { userId: null, via: "anonymous" };
      if (identity.via === "management-key") assertScope(op, identity.scopes);
      const actor = requestActor(req, identity);
      if (op.audit) actor.audit = op.audit;
      const params = pathParams(op, rawParams);
      const query = op.query ? parseWith(op.query, queryObject(req), "query") : undefined;
      const read = op.body ? await readJsonBodyWithText(req, op.maxBodyBytes) : undefined;
      // Only an absent body means "no fields"; a JSON `null` is a non-object body like any other.
      const body = op.body ? parseWith(op.body, withDefault(read?.value), "body") : undefined;
      const rawBody = op.rawBody ? (read?.text ?? "") : undefined;
      const ctx = { req, actor, body, rawBody, query, params } as HandlerContext<S>;
      const checked = env().NODE_ENV !== "production";
      const value = checked ? await auditedRun(op, () => handler(ctx)) : await handler(ctx);
      if (value instanceof RawResponse) return withNoStore(value.response);
      const payload = op.response.shape === "envelope" ? { success: true, data: value } : value;
      if (checked) assertDocumented(op, payload);
      return Response.json(payload, { status: op.response.status, headers: NO_STORE });
    } catch (err) {
      if (err instanceof HttpError) return withNoStore(errorResponse(err));
      return internalError(err);
    }
  };
  return { op, run };
}

/**
 * A management key may call an operation only with the scope its declaration
 * names. Checked before the input is read, so a key without the scope learns
 * nothing about the operation from its answers. An operation without a scope
 * (which the type rules out for session-or-mk) refuses every key: fail closed.
 */
function assertScope(op: OperationSpec, scopes: readonly Scope[]): void {
  if (op.scope && scopes.includes(op.scope)) return;
  const needs = op.scope ? `the '${op.scope}' scope, which ${op.method} ${op.path} needs` : `a scope for ${op.method} ${op.path}`;
  throw new ForbiddenError(`This management key lacks ${needs}. Create a management key with it in the dashboard.`, "insufficient_scope");
}

/**
 * Outside production every success body is checked against its declaration,
 * so a handler that drifts from the documented shape fails its tests loudly.
 */
function assertDocumented(op: OperationSpec, payload: unknown): void {
  const parsed = successBodySchema(op).safeParse(payload);
  if (!parsed.success) {
    throw new Error(`${op.method} ${op.path} answered a body its declaration does not describe: ${parsed.error.message}`);
  }
}

/**
 * Outside production every successful call is checked against its audit
 * declaration: exactly one row for a mutating operation (at most one when it
 * may change nothing), none for the rest. A service that forgets
 * `after.audit`, or a handler that writes twice, fails its tests loudly.
 */
async function auditedRun<T>(op: OperationSpec, run: () => Promise<T>): Promise<T> {
  const { value, rows } = await countingAuditRows(run);
  const expected = op.audit ? (op.audit.onlyWhenChanged ? [0, 1] : [1]) : [0];
  if (!expected.includes(rows)) {
    throw new Error(`${op.method} ${op.path} wrote ${rows} audit rows; its declaration (${JSON.stringify(op.audit ?? null)}) says ${expected.join(" or ")}`);
  }
  return value;
}

type NextHandler = (req: Request, context: NextRouteContext) => Promise<Response>;
type RouteFileExports = Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", NextHandler>;

interface NextRouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

/** Marks the exports of a route file with the operation each one serves, for the tests. */
export const OPERATION = Symbol.for("keygate.operation");

/**
 * The exports of one route file under app/api: the handlers of every
 * operation declared at that path, and a 405 in the envelope with `Allow`
 * for every other method. Refuses to load when the file and the declarations
 * disagree, so a declared operation cannot go unserved.
 */
export function nextRoutes(...implementations: Implementation[]): RouteFileExports {
  const path = implementations[0]?.op.path;
  const declared = operations.filter((o) => o.path === path && (o.servedBy ?? "next") === "next");
  const given = implementations.map((i) => `${i.op.method} ${i.op.path}`).sort();
  const expected = declared.map((o) => `${o.method} ${o.path}`).sort();
  if (!path || given.join() !== expected.join() || implementations.some((i) => !declared.includes(i.op as (typeof declared)[number]))) {
    throw new Error(`Route file for ${path ?? "?"} implements [${given.join(", ")}] but the declarations say [${expected.join(", ")}]`);
  }
  const allowed = declared.map((o) => o.method);
  const notAllowed = methodNotAllowed(allowed);
  const out = { GET: notAllowed, POST: notAllowed, PUT: notAllowed, PATCH: notAllowed, DELETE: notAllowed } as RouteFileExports;
  for (const impl of implementations) {
    const handler: NextHandler = async (req, context) => impl.run(req, flattenParams(await context.params));
    Object.defineProperty(handler, OPERATION, { value: impl.op.id });
    out[impl.op.method] = handler;
  }
  return out;
}

function methodNotAllowed(allowed: string[]): NextHandler {
  return async (req) =>
    refusal(req, () => {
      throw new HttpError(
        405,
        "method_not_allowed",
        `${req.method} is not supported on ${new URL(req.url).pathname}; use ${allowed.join(" or ")}.`,
        undefined,
        { Allow: allowed.join(", ") },
      );
    });
}

/** Unknown /api paths answer in the envelope instead of Next's HTML 404 page. */
export function notFoundRoute(): NextHandler {
  return async (req) =>
    refusal(req, () => {
      throw new NotFoundError(`There is no API endpoint ${req.method} ${new URL(req.url).pathname}. See /docs for the list.`);
    });
}

/** Answers a request that reaches no operation, after the checks every request gets. */
function refusal(req: Request, refuse: () => never): Response {
  try {
    assertSingleCredentialHeaders(req);
    refuse();
  } catch (err) {
    if (err instanceof HttpError) return withNoStore(errorResponse(err));
    return internalError(err);
  }
}

function pathParams(op: OperationSpec, raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of pathParamNames(op.path)) {
    const parsed = opaqueIdSchema.safeParse(raw[name]);
    if (!parsed.success) throw new NotFoundError("Nothing with that ID exists in your account: check the ID.");
    out[name] = parsed.data;
  }
  return out;
}

function withNoStore(res: Response): Response {
  res.headers.set("Cache-Control", "no-store");
  return res;
}

function internalError(err: unknown): Response {
  if (isStoreUnavailable(err)) {
    // With REDIS_URL, what reads live figures (a balance net of requests in flight) needs Redis: say so, not "internal error".
    return withNoStore(
      errorResponse(
        new HttpError(
          503,
          "store_unavailable",
          "Keygate's shared store (Redis) is unreachable, so this request was not completed. Retry in a few seconds.",
          undefined,
          { "Retry-After": "1" },
        ),
      ),
    );
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  logger().error(`unhandled error: ${redact(detail)}`);
  const message =
    err instanceof ConfigError
      ? "The server is misconfigured; the operator has been told in the server log."
      : "Something went wrong on our side. The request was not completed; please try again.";
  return withNoStore(errorResponse(new HttpError(500, "internal_error", message)));
}

/**
 * The actor of one request: its identity, plus the client's address (the
 * first X-Forwarded-For hop, which the front server has already reduced to
 * the one address the trusted-proxy rules vouch for), its user agent and the
 * X-Request-Id the front server gave it.
 */
export function requestActor(req: Request, identity: Identity): Actor {
  const address = clientIp(req);
  return {
    ...identity,
    clientAddress: address === "unknown" ? null : address,
    userAgent: req.headers.get("user-agent"),
    requestId: req.headers.get("x-request-id"),
  };
}

function flattenParams(params: Record<string, string | string[] | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.join("/");
  }
  return out;
}
