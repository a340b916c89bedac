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
}

/** The response's JSON as sent, or an ApiError with the API's own message. */
async function request(path: string, init: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers: init.body === undefined ? undefined : { "Content-Type": "application/json" },
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
    throw new ApiError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? `The request failed (HTTP ${res.status}). Please try again.`,
      err?.details,
    );
  }
  return payload;
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const payload = await request(path, init);
  return (payload && typeof payload === "object" && "success" in payload ? (payload as { data?: unknown }).data : payload) as T;
}

/** One page of a list that answers `{success, data: [...], nextCursor}` (the cursor sits beside `data`). */
export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export async function apiFetchPage<T>(path: string): Promise<Page<T>> {
  const payload = (await request(path, {})) as { data?: T[]; nextCursor?: string | null } | null;
  return { data: payload?.data ?? [], nextCursor: payload?.nextCursor ?? null };
}
