/// <reference types="vite/client" />
import crypto from "node:crypto";
import { expect } from "vitest";
import { operations } from "@/lib/api/operations";

/**
 * Calls the real App Router route handlers in process, with real Request
 * objects, exactly as Next does. No server, no mocks: what a test sees is
 * what a client would get.
 */

type Handler = (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
type RouteModule = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", Handler>>;

/** Every route file under app/api, by its path on disk. */
export const ROUTE_FILES = import.meta.glob<RouteModule>("/app/api/**/route.ts");

/** The route file Next serves an OpenAPI path template from: `/api/keys/{id}` → `/app/api/keys/[id]/route.ts`. */
export function routeFileFor(template: string): string {
  return `/app${template.replace(/\{(\w+)\}/g, "[$1]")}/route.ts`;
}

// The declared paths served by Next, most specific first (as Next matches
// them: static segments before dynamic ones), then the catch-all 404.
const ROUTES: Array<[string, () => Promise<RouteModule>]> = [
  ...[...new Set(operations.filter((o) => (o.servedBy ?? "next") === "next").map((o) => o.path))]
    .sort((a, b) => specificity(b) - specificity(a))
    .map((template): [string, () => Promise<RouteModule>] => {
      const load = ROUTE_FILES[routeFileFor(template)];
      if (!load) throw new Error(`${template} is declared but ${routeFileFor(template)} does not exist`);
      return [template.replace(/\{(\w+)\}/g, ":$1"), load];
    }),
  ["/api/*path", ROUTE_FILES["/app/api/[...path]/route.ts"]!],
];

function specificity(template: string): number {
  return template.split("/").reduce((n, seg) => n * 2 + (seg.startsWith("{") ? 0 : 1), 1);
}

function match(pattern: string, pathname: string): Record<string, string | string[]> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = pathname.split("/").filter(Boolean);
  const params: Record<string, string | string[]> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith("*")) {
      if (i >= s.length) return null;
      params[p[i].slice(1)] = s.slice(i).map(decodeURIComponent);
      return params;
    }
    if (i >= s.length) return null;
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return p.length === s.length ? params : null;
}

export const ORIGIN = "http://localhost:3000";

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** JSON-encoded unless it is already a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // Tests inspect arbitrary JSON shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function call(method: string, pathWithQuery: string, opts: CallOptions = {}): Promise<ApiResponse> {
  const url = new URL(pathWithQuery, ORIGIN);
  const found = ROUTES.map(([pattern, load]) => ({ load, params: match(pattern, url.pathname) })).find((r) => r.params);
  if (!found) throw new Error(`no route for ${url.pathname}`);
  const mod = await found.load();
  const handler = mod[method as keyof RouteModule];
  if (!handler) return { status: 405, headers: new Headers(), text: "", json: null };

  const headers = new Headers({ host: "localhost:3000", "x-forwarded-for": randomIp(), ...opts.headers });
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await handler(new Request(url, { method, headers, body }), { params: Promise.resolve(found.params!) });
  return readResponse(res);
}

/** A response as tests inspect it: status, headers, text and the parsed JSON (null when it is not JSON). */
export async function readResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// Every simulated client gets its own address, so per-address limits don't
// couple unrelated tests.
function randomIp(): string {
  const b = crypto.randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

export async function createUser(opts: { creditUsd?: number } = {}): Promise<TestUser> {
  const email = `user-${crypto.randomUUID()}@example.com`;
  const password = `pw-${crypto.randomBytes(8).toString("hex")}`;
  const signup = await call("POST", "/api/auth/signup", { body: { email, password } });
  expect(signup.status, signup.text).toBe(201);
  const login = await call("POST", "/api/auth/token", { body: { email, password } });
  expect(login.status, login.text).toBe(200);
  if (opts.creditUsd) await grant(email, opts.creditUsd);
  return { id: signup.json.data.id, email, password, token: login.json.data.token };
}

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export async function grant(email: string, amountUsd: number) {
  const res = await call("POST", "/api/admin/credits", { token: ADMIN_TOKEN, body: { email, amountUsd } });
  expect(res.status, res.text).toBe(201);
  return res.json.data;
}

/** Expects the native error envelope with this status and code. */
export function expectError(res: ApiResponse, status: number, code?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.json?.success, res.text).toBe(false);
  expect(typeof res.json?.error?.message).toBe("string");
  expect(res.json.error.message.length).toBeGreaterThan(10);
  if (code) expect(res.json.error.code).toBe(code);
}
