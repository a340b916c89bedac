/**
 * The token of an `Authorization: Bearer <token>` header, or null when the
 * header is absent or not exactly that shape (another scheme, no token, or
 * more than one word after the scheme). The one parser for every place that
 * reads a bearer credential: the management API, the admin token, /metrics
 * and the gateway.
 */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}
