import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics (prom-client), served by the front server at GET /metrics.
 * One registry per process, on globalThis because Next bundles its own copy
 * of lib/; made on first use, so importing this starts nothing.
 * Labels come from small fixed sets, never from a URL or a caller's input:
 * every distinct label value is a time series kept for the process's life.
 */

/** What `keygate_http_requests_total` and the access log call a request's route. */
export type RouteLabel =
  | "/v1/chat/completions"
  | "/v1/messages"
  | "/v1/embeddings"
  | "/v1/models"
  | "/v1/*"
  | "/api/keys/verify"
  | "/healthz"
  | "/readyz"
  | "/metrics"
  | "api"
  | "static"
  | "page";

const EXACT_ROUTES: ReadonlyMap<string, RouteLabel> = new Map<string, RouteLabel>(
  (["/v1/chat/completions", "/v1/messages", "/v1/embeddings", "/v1/models", "/api/keys/verify", "/healthz", "/readyz", "/metrics"] as const).map((r) => [r, r]),
);

/** The route label for a request path (the URL without its query). */
export function routeLabel(path: string): RouteLabel {
  const exact = EXACT_ROUTES.get(path);
  if (exact) return exact;
  if (path.startsWith("/api/")) return "api";
  if (path.startsWith("/v1/")) return "/v1/*";
  if (path.startsWith("/_next/")) return "static";
  return "page";
}

export type LimitRejectionReason =
  | "rpm"
  | "tpm"
  | "budget"
  | "balance"
  | "concurrency"
  | "store_unavailable"
  | "revoked"
  | "invalid_key"
  | "inactive_key"
  | "expired_key"
  | "rotated_key"
  | "model_not_allowed"
  | "outside_reserved_block"
  | "upstream_unavailable";

interface Metrics {
  registry: Registry;
  /**
   * Request counts by route and status, kept in plain Maps and copied into
   * the counter at scrape time: the per-request cost is two Map operations,
   * where prom-client's inc() would hash and validate the labels each time.
   */
  requestCounts: Map<RouteLabel, Map<number, number>>;
  gatewayOverhead: Histogram<"route">;
  upstreamLatency: Histogram<"provider" | "status" | "upstream">;
  limitRejections: Counter<"reason">;
  reservationsInFlight: Gauge;
  /** Reads the usage outbox at scrape time (the writer registers it): a writer that stopped cannot leave a stale figure. */
  usageBacklog: (() => Promise<{ waiting: number; oldestAt: number | null }>) | null;
}

const globalForMetrics = globalThis as unknown as { __keygateMetrics?: Metrics };

function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestCounts = new Map<RouteLabel, Map<number, number>>();
  new Counter({
    name: "keygate_http_requests_total",
    help: "HTTP requests answered, by route and status (499: the client went away before the answer was complete).",
    labelNames: ["route", "status"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, byStatus] of requestCounts) {
        for (const [status, count] of byStatus) this.inc({ route, status: String(status) }, count);
      }
    },
  });
  const result: Metrics = {
    registry,
    requestCounts,
    gatewayOverhead: new Histogram({
      name: "keygate_gateway_overhead_seconds",
      help: "Time spent in Keygate on a gateway request before the upstream is called (parsing, key check, admission).",
      labelNames: ["route"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    upstreamLatency: new Histogram({
      name: "keygate_upstream_latency_seconds",
      help: "Time from calling an upstream to its response headers (each attempt), by provider, status and upstream.",
      labelNames: ["provider", "status", "upstream"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    limitRejections: new Counter({
      name: "keygate_limit_rejections_total",
      help: "Gateway requests refused before reaching an upstream, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    reservationsInFlight: new Gauge({
      name: "keygate_reservations_in_flight",
      help: "Admission reservations held by requests in flight, not yet settled or released.",
      registers: [registry],
    }),
    usageBacklog: null,
  };
  const m = result;
  // Null (the gauge keeps its last figure) before the writer starts, or when the store does not answer.
  const backlog = () => (m.usageBacklog ? m.usageBacklog().catch(() => null) : Promise.resolve(null));
  new Gauge({
    name: "keygate_usage_records_pending",
    help: "Usage records settled and not yet written to the database (with Redis: in the kg:usage stream, every instance's; else this process's).",
    registers: [registry],
    async collect() {
      const b = await backlog();
      if (b) this.set(b.waiting);
    },
  });
  new Gauge({
    name: "keygate_usage_oldest_pending_age_seconds",
    help: "Age of the oldest usage record not yet written to the database (0 when none is waiting).",
    registers: [registry],
    async collect() {
      const b = await backlog();
      if (b) this.set(b.oldestAt === null ? 0 : Math.max(0, (Date.now() - b.oldestAt) / 1000));
    },
  });
  return m;
}

function metrics(): Metrics {
  return (globalForMetrics.__keygateMetrics ??= createMetrics());
}

/** The registry GET /metrics serves. */
export function metricsRegistry(): Registry {
  return metrics().registry;
}

/** Counts one answered request. Hot path: called once per request. */
export function countHttpRequest(route: RouteLabel, status: number): void {
  const counts = metrics().requestCounts;
  let byStatus = counts.get(route);
  if (!byStatus) counts.set(route, (byStatus = new Map()));
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
}

/** Time spent in Keygate before the upstream is called, in seconds. */
export function observeGatewayOverhead(route: RouteLabel, seconds: number): void {
  metrics().gatewayOverhead.observe({ route }, seconds);
}

/**
 * Upstream response time, in seconds. `provider`: "openai", "anthropic",
 * "echo"…; `status`: the upstream's HTTP status, or "error"/"timeout" when
 * there was none. Both must come from fixed sets, never from a response body.
 */
export function observeUpstreamLatency(provider: string, status: number | "error" | "timeout", seconds: number, upstream: string): void {
  metrics().upstreamLatency.observe({ provider, status: String(status), upstream }, seconds);
}

export function countLimitRejection(reason: LimitRejectionReason): void {
  metrics().limitRejections.inc({ reason });
}

export function setReservationsInFlight(n: number): void {
  metrics().reservationsInFlight.set(n);
}

export function incReservationsInFlight(): void {
  metrics().reservationsInFlight.inc();
}

export function decReservationsInFlight(): void {
  metrics().reservationsInFlight.dec();
}

/** Where /metrics reads the usage outbox's size and the time its oldest record was added (ms). */
export function setUsageBacklogSource(read: () => Promise<{ waiting: number; oldestAt: number | null }>): void {
  metrics().usageBacklog = read;
}
