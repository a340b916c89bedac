/**
 * The dashboard's fetch wrapper. Runs in the browser: it must never import
 * server code. Errors carry the API's human message, shown as-is in toasts.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { path?: string; message: string }[],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface RequestInit {
  method?: string;
  body?: unknown;
  /** Extra request headers, e.g. an Idempotency-Key. */
  headers?: Record<string, string>;
}

/**
 * What an answer carries: the envelope's `data` (the whole JSON where a route
 * sends no envelope) and, on a page of a list, the `nextCursor` beside it.
 */
export interface ApiResult<T> {
  data: T;
  /** Pass as `cursor` for the next page; null on the last page, and on anything that is not a page. */
  nextCursor: string | null;
}

/** Every dashboard request goes through here; errors are ApiErrors with the API's own message. */
export async function apiRequest<T>(path: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers: { ...(init.body === undefined ? {} : { "Content-Type": "application/json" }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network_error", "Could not reach Keygate. Check your connection and try again.");
  }
  const payload = await res.json().catch(() => null);
  if (!res.ok) {
    const err = payload?.error;
    throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `The request failed (HTTP ${res.status}). Please try again.`, err?.details);
  }
  if (payload !== null && typeof payload === "object" && "success" in payload) return { data: payload.data as T, nextCursor: payload.nextCursor ?? null };
  return { data: payload as T, nextCursor: null };
}

/** Just the data: for everything but a page of a list. */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await apiRequest<T>(path, init)).data;
}
