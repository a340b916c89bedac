import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import pino, { type DestinationStream, type Logger } from "pino";
import { env } from "@/lib/env";
import { redact } from "@/lib/log";

/**
 * The process's one logger: JSON lines on stdout (pino), at LOG_LEVEL (info
 * by default, silent under NODE_ENV=test unless LOG_LEVEL says otherwise).
 * It lives on globalThis because Next bundles its own copy of lib/.
 */

const globalForLogger = globalThis as unknown as { __keygateLogger?: Logger };

function createLogger(destination?: DestinationStream): { logger: Logger; configured: boolean } {
  let level = "info";
  let configured = true;
  try {
    const e = env();
    level = e.LOG_LEVEL ?? (e.NODE_ENV === "test" ? "silent" : "info");
  } catch {
    // The configuration is invalid, and the logger must still say so.
    configured = false;
  }
  const logger = pino(
    {
      name: "keygate",
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Headers are not logged; should someone log a request or its headers
      // anyway, the credentials in them are not.
      redact: {
        paths: [
          "req.headers.authorization",
          'req.headers["x-api-key"]',
          "req.headers.cookie",
          "headers.authorization",
          'headers["x-api-key"]',
          "headers.cookie",
        ],
        censor: "[redacted]",
      },
      // Every message string goes through redact(): a key pasted into an
      // error message must not reach the log.
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            if (typeof args[i] === "string") args[i] = redact(args[i] as string);
          }
          return method.apply(this, args);
        },
      },
    },
    // Asynchronous writes: the hot path does not wait for stdout (pino flushes what is left at exit).
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return { logger, configured };
}

export function logger(): Logger {
  if (globalForLogger.__keygateLogger) return globalForLogger.__keygateLogger;
  const { logger, configured } = createLogger();
  // Under an invalid configuration, an info-level logger for this one message; kept once LOG_LEVEL can be read.
  if (configured) globalForLogger.__keygateLogger = logger;
  return logger;
}

/** Makes the logger again from the current environment, writing to `destination` (tests capture it) or stdout. */
export function resetLogger(destination?: DestinationStream): Logger {
  return (globalForLogger.__keygateLogger = createLogger(destination).logger);
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives the request its id: the caller's X-Request-Id when it is a sane
 * token (≤ 64 of A-Z a-z 0-9 . _ -), else a new UUID. The id is written back
 * into the request's headers, so code behind the front server (Next's route
 * handlers included) reads it as `x-request-id`, and set on the response.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers["x-request-id"];
  const id = typeof given === "string" && SANE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
  req.headers["x-request-id"] = id;
  res.setHeader("X-Request-Id", id);
  return id;
}
