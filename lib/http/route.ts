import crypto from "node:crypto";
import { z } from "zod";
import { resolveCaller, type Caller } from "@/lib/auth/caller";
import { ConfigError, env } from "@/lib/env";
import { errorResponse, HttpError, NotFoundError, UnauthorizedError } from "@/lib/http/errors";
import { assertSingleCredentialHeaders, parseWith, queryObject, readJsonBody, withDefault } from "@/lib/http/request";
import { redact } from "@/lib/log";

/**
 * One wrapper for every /api route handler: resolve the caller once, parse
 * params, query and body with zod, map typed errors to the envelope, and log
 * (never send) the cause of anything unexpected.
 */

export type RouteAuth = "none" | "session" | "session-or-mk" | "admin";

type AnySchema = z.ZodType;

interface RouteOptions<A extends RouteAuth, B extends AnySchema | undefined, Q extends AnySchema | undefined> {
  auth: A;
  body?: B;
  query?: Q;
}

export interface RouteContext<A extends RouteAuth, B, Q> {
  req: Request;
  caller: A extends "session" | "session-or-mk" ? Caller : null;
  body: B extends AnySchema ? z.output<B> : undefined;
  query: Q extends AnySchema ? z.output<Q> : undefined;
  params: Record<string, string>;
}

interface NextRouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

const NO_STORE = { "Cache-Control": "no-store" };

/** Native success envelope. */
export function ok(data: unknown, status = 200): Response {
  return Response.json({ success: true, data }, { status, headers: NO_STORE });
}

/** A documented non-native shape (the second seed's endpoints). */
export function raw(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: NO_STORE });
}

export function route<
  A extends RouteAuth,
  B extends AnySchema | undefined = undefined,
  Q extends AnySchema | undefined = undefined,
>(options: RouteOptions<A, B, Q>, handler: (ctx: RouteContext<A, B, Q>) => Promise<Response>) {
  return async (req: Request, context: NextRouteContext): Promise<Response> => {
    try {
      assertSingleCredentialHeaders(req);
      const params = flattenParams(await context.params);
      let caller: Caller | null = null;
      if (options.auth === "session" || options.auth === "session-or-mk") {
        caller = await resolveCaller(req, options.auth);
      } else if (options.auth === "admin") {
        assertAdmin(req);
      }
      const query = options.query ? parseWith(options.query, queryObject(req), "query") : undefined;
      // Only an absent body means "no fields"; a JSON `null` is a non-object body like any other.
      const body = options.body ? parseWith(options.body, withDefault(await readJsonBody(req)), "body") : undefined;
      return await handler({ req, caller, body, query, params } as RouteContext<A, B, Q>);
    } catch (err) {
      if (err instanceof HttpError) return withNoStore(errorResponse(err));
      return internalError(err);
    }
  };
}

function withNoStore(res: Response): Response {
  res.headers.set("Cache-Control", "no-store");
  return res;
}

function internalError(err: unknown): Response {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(`[api] unhandled error: ${redact(detail)}`);
  const message =
    err instanceof ConfigError
      ? "The server is misconfigured; the operator has been told in the server log."
      : "Something went wrong on our side. The request was not completed; please try again.";
  return withNoStore(errorResponse(new HttpError(500, "internal_error", message)));
}

function flattenParams(params: Record<string, string | string[] | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === "string") out[k] = v;
    else if (Array.isArray(v)) out[k] = v.join("/");
  }
  return out;
}

/** IDs are opaque, but anything that cannot be one is simply not found. */
export function idParam(params: Record<string, string>, name = "id"): string {
  const id = params[name];
  if (!id || id.length > 64 || !/^[A-Za-z0-9_-]+$/.test(id)) throw new NotFoundError("No such key: check the ID.");
  return id;
}

function assertAdmin(req: Request): void {
  const expected = env().ADMIN_API_TOKEN;
  if (!expected) {
    throw new NotFoundError("The admin API is disabled. Set ADMIN_API_TOKEN on the server to enable it.", "admin_disabled");
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
  const digest = (s: string) => crypto.createHash("sha256").update(s).digest();
  if (!match || !crypto.timingSafeEqual(digest(match[1]), digest(expected))) {
    throw new UnauthorizedError("The admin API needs 'Authorization: Bearer <ADMIN_API_TOKEN>'.");
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
type RouteHandler = ReturnType<typeof route>;

/**
 * Handlers for the methods a path does not support, so that they answer 405
 * in the envelope with an Allow header rather than Next's empty 405. Usage in
 * a route file: `export const { PUT, PATCH, DELETE } = unsupportedMethods("GET", "POST");`
 */
export function unsupportedMethods(...allowed: Method[]): Record<Method, RouteHandler> {
  const handler = route({ auth: "none" }, async ({ req }) => {
    throw new HttpError(
      405,
      "method_not_allowed",
      `${req.method} is not supported on ${new URL(req.url).pathname}; use ${allowed.join(" or ")}.`,
      undefined,
      { Allow: allowed.join(", ") },
    );
  });
  return { GET: handler, POST: handler, PUT: handler, PATCH: handler, DELETE: handler };
}
