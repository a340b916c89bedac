import { z } from "zod";

/**
 * Upstreams' request and response schemas. The API key and the header
 * values are write-only: they are accepted here and never described in a
 * response (the view carries the key's last four characters and the header
 * names).
 */

export const UPSTREAM_PROTOCOLS = ["openai", "anthropic"] as const;

/** Names the environment's upstreams use; no stored upstream may start with it. */
export const RESERVED_UPSTREAM_PREFIX = "env-";

export const MAX_UPSTREAM_HEADERS = 32;
export const MIN_UPSTREAM_TIMEOUT_MS = 1_000;
export const MAX_UPSTREAM_TIMEOUT_MS = 3_600_000;

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export const upstreamNameSchema = z
  .string({ error: "name must be a string" })
  .min(1, "name must not be empty")
  .max(64, "name must be at most 64 characters")
  .regex(SLUG, "name must be a slug: lowercase letters, digits and hyphens, starting and ending with a letter or digit (e.g. openai-eu)")
  .meta({ description: "A unique slug: lowercase letters, digits and hyphens, 1 to 64 characters, e.g. `openai-eu`. Routes name upstreams by it." });

/** Headers Keygate sets itself, or that frame the request: an upstream may not override them. */
const FORBIDDEN_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-authorization",
  "proxy-connection",
  "authorization",
  "x-api-key",
]);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
// Visible ASCII, space and tab: no CR or LF, so a value cannot start another header.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

const baseUrlSchema = z
  .string({ error: "baseUrl must be a string" })
  .max(2048, "baseUrl must be at most 2048 characters")
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "baseUrl must be an absolute http:// or https:// URL, e.g. https://api.openai.com/v1" });
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      ctx.addIssue({ code: "custom", message: "baseUrl must start with http:// or https://" });
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: "custom", message: "baseUrl must not contain credentials (user:password@); send the key as apiKey" });
    }
    if (url.search || value.includes("?")) ctx.addIssue({ code: "custom", message: "baseUrl must not have a query string (?…)" });
    if (url.hash || value.includes("#")) ctx.addIssue({ code: "custom", message: "baseUrl must not have a fragment (#…)" });
  })
  // The gateway appends the protocol's path (/chat/completions, /v1/messages).
  .transform((value) => value.replace(/\/+$/, ""))
  .meta({
    description:
      "Where the protocol's API lives, by the official SDKs' convention: OpenAI with `/v1` (`https://api.openai.com/v1`), Anthropic without (`https://api.anthropic.com`). http or https, no credentials, query or fragment; trailing slashes are dropped.",
  });

const apiKeySchema = z
  .string({ error: "apiKey must be a string" })
  .min(1, "apiKey must not be empty")
  .max(4096, "apiKey must be at most 4096 characters")
  .regex(/^[\x21-\x7e]+$/, "apiKey must be printable ASCII without spaces")
  .meta({ description: "The upstream's API key. Write-only: stored encrypted, never returned (responses show `apiKeyLast4`)." });

const headersSchema = z
  .record(
    z.string().regex(HEADER_NAME, "header names must be HTTP tokens (letters, digits and !#$%&'*+.^_`|~-), at most 128 characters"),
    z
      .string({ error: "header values must be strings" })
      .max(8192, "header values must be at most 8192 characters")
      .regex(HEADER_VALUE, "header values must be printable ASCII, without line breaks"),
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "header names must be HTTP tokens (letters, digits and !#$%&'*+.^_`|~-), at most 128 characters"
          : 'headers must be an object of {"name": "value"} strings',
    },
  )
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > MAX_UPSTREAM_HEADERS) ctx.addIssue({ code: "custom", message: `headers can have at most ${MAX_UPSTREAM_HEADERS} entries` });
    const seen = new Set<string>();
    for (const name of names) {
      const lower = name.toLowerCase();
      if (FORBIDDEN_HEADERS.has(lower) || lower.startsWith("proxy-")) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `header "${name}" is set by Keygate itself and cannot be overridden${lower === "authorization" || lower === "x-api-key" ? "; send the key as apiKey" : ""}`,
        });
      }
      if (seen.has(lower)) ctx.addIssue({ code: "custom", path: [name], message: `header "${name}" is given twice (names are case-insensitive)` });
      seen.add(lower);
    }
  })
  .meta({
    description: `Extra headers sent with every request to this upstream, as \`{"name": "value"}\` (at most ${MAX_UPSTREAM_HEADERS}). Values are write-only: stored encrypted, never returned (responses show \`headerNames\`).`,
  });

const timeoutSchema = z
  .number({ error: "timeoutMs must be a whole number of milliseconds" })
  .int("timeoutMs must be a whole number of milliseconds")
  .min(MIN_UPSTREAM_TIMEOUT_MS, `timeoutMs must be at least ${MIN_UPSTREAM_TIMEOUT_MS}`)
  .max(MAX_UPSTREAM_TIMEOUT_MS, `timeoutMs must be at most ${MAX_UPSTREAM_TIMEOUT_MS}`)
  .nullable()
  .meta({
    description: `How long to wait for response headers, and then between two chunks, in milliseconds (${MIN_UPSTREAM_TIMEOUT_MS} to ${MAX_UPSTREAM_TIMEOUT_MS}); \`null\` means KEYGATE_UPSTREAM_TIMEOUT_MS.`,
  });

const protocolSchema = z
  .enum(UPSTREAM_PROTOCOLS, { error: 'protocol must be "openai" or "anthropic"' })
  .meta({ description: "The API the upstream speaks: `openai` (`/chat/completions`) or `anthropic` (`/v1/messages`)." });

const activeSchema = z.boolean({ error: "active must be true or false" }).meta({ description: "Whether the gateway sends requests to it." });

export const createUpstreamSchema = z.strictObject({
  name: upstreamNameSchema,
  protocol: protocolSchema,
  baseUrl: baseUrlSchema,
  apiKey: apiKeySchema,
  headers: headersSchema.optional(),
  timeoutMs: timeoutSchema.optional(),
  active: activeSchema.optional().meta({ description: "Whether the gateway sends requests to it; defaults to true." }),
});

const KEEPS = "Omit it to keep the current value.";

export const updateUpstreamSchema = z.strictObject({
  name: upstreamNameSchema.optional().meta({ description: `A new unique slug; the routes that name the upstream follow the rename. ${KEEPS}` }),
  protocol: protocolSchema.optional(),
  baseUrl: baseUrlSchema.optional(),
  apiKey: apiKeySchema.optional().meta({ description: `A new API key (write-only). ${KEEPS}` }),
  headers: headersSchema.optional().meta({ description: `Replaces all the extra headers (\`{}\` removes them; values are write-only). ${KEEPS}` }),
  timeoutMs: timeoutSchema.optional(),
  active: activeSchema.optional(),
});

export const upstreamHealthSchema = z
  .strictObject({
    state: z.enum(["ok", "cooling_down"]).meta({ description: "`cooling_down`: the gateway skips it until `coolingDownUntil`." }),
    coolingDownUntil: z.iso.datetime().nullable(),
    requests5m: z.number().int().meta({ description: "Requests sent to it in the last five minutes." }),
    errors5m: z.number().int().meta({ description: "Of those, the ones that failed (connection errors, timeouts, retryable statuses)." }),
  })
  .meta({ id: "UpstreamHealth" });

export const upstreamViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "Opaque ID; for the environment's upstreams, their name." }),
    name: z.string(),
    protocol: z.enum(UPSTREAM_PROTOCOLS),
    baseUrl: z.string(),
    apiKeyLast4: z.string().nullable().meta({ description: "The API key's last four characters; `null` when there is no key, or it is under 12 characters." }),
    headerNames: z.array(z.string()).meta({ description: "The names of the extra headers (their values are never shown)." }),
    timeoutMs: z.number().int().nullable(),
    active: z.boolean(),
    readOnly: z.boolean().meta({ description: "`true` for `env-openai` / `env-anthropic`, which come from the environment and cannot be changed here." }),
    health: upstreamHealthSchema,
  })
  .meta({ id: "Upstream", description: "An upstream the gateway can route models to. Its secrets are never returned." });

export const upstreamTestResultSchema = z
  .strictObject({
    ok: z.boolean().meta({ description: "Whether the upstream answered 2xx with the stored key." }),
    status: z
      .number()
      .int()
      .nullable()
      .meta({ description: "The upstream's HTTP status; `null` when no answer came (connection refused, DNS, TLS, timeout)." }),
    latencyMs: z.number().int().meta({ description: "From sending the request to reading the answer." }),
    url: z.string().meta({ description: "The URL tested: the protocol's model list under the base URL." }),
    modelCount: z.number().int().nullable().meta({ description: "How many models the upstream lists, when it answered a list." }),
    message: z.string().meta({ description: "What happened and what to check, for people. Never contains the key or a header value." }),
  })
  .meta({ id: "UpstreamTestResult" });

export type UpstreamTestResult = z.infer<typeof upstreamTestResultSchema>;
export type CreateUpstreamInput = z.infer<typeof createUpstreamSchema>;
export type UpdateUpstreamInput = z.infer<typeof updateUpstreamSchema>;
export type UpstreamView = z.infer<typeof upstreamViewSchema>;
