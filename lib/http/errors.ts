/**
 * Typed errors that map to the native error envelope:
 * {"success": false, "error": {"code", "message", "details"?}}.
 * Services throw these; the route wrapper turns them into responses. Messages
 * are shown to people, so they say what to do, and never carry a secret.
 */

import type { ErrorDetail } from "@/lib/http/operation";

export type { ErrorDetail };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string, details?: ErrorDetail[], code = "bad_request") {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message: string, code = "unauthorized") {
    super(401, code, message, undefined, { "WWW-Authenticate": "Bearer" });
  }
}

export class PaymentRequiredError extends HttpError {
  constructor(message: string, code = "insufficient_balance") {
    super(402, code, message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message: string, code = "forbidden") {
    super(403, code, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message: string, code = "not_found") {
    super(404, code, message);
  }
}

export class ConflictError extends HttpError {
  constructor(message: string, code = "conflict", details?: ErrorDetail[]) {
    super(409, code, message, details);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, "payload_too_large", message);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, "unsupported_media_type", message);
  }
}

export class UnprocessableError extends HttpError {
  constructor(message: string, code = "unprocessable") {
    super(422, code, message);
  }
}

export class TooManyRequestsError extends HttpError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, "rate_limited", message, undefined, { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export function errorResponse(err: HttpError): Response {
  const error: { code: string; message: string; details?: ErrorDetail[] } = { code: err.code, message: err.message };
  if (err.details?.length) error.details = err.details;
  return Response.json({ success: false, error }, { status: err.status, headers: err.headers });
}
