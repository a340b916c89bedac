import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serverOrigin } from "@/lib/auth/caller";
import { createKeygateServer } from "@/lib/http/front";
import { resetLogger } from "@/lib/ops/logger";
import { countLimitRejection, observeGatewayOverhead, observeUpstreamLatency, setReservationsInFlight, setUsageBacklogSource } from "@/lib/ops/metrics";
import { setEnv } from "./gateway";

/**
 * What operators get from the front server (lib/http/front.ts): Prometheus
 * metrics at /metrics, a request id and one JSON access-log line per
 * request, and client addresses that only a trusted proxy can vouch for.
 */

interface Front {
  url: string;
  close(): Promise<void>;
}

/** The front server on a real socket, with `next` standing in for Next (by default: echo what reached it). */
async function startFront(next: (req: IncomingMessage, res: ServerResponse) => Promise<void> = echoHeaders): Promise<Front> {
  const server = createKeygateServer(next);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function echoHeaders(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const seen = {
    forwardedFor: req.headers["x-forwarded-for"] ?? null,
    forwardedHost: req.headers["x-forwarded-host"] ?? null,
    forwardedProto: req.headers["x-forwarded-proto"] ?? null,
    realIp: req.headers["x-real-ip"] ?? null,
    requestId: req.headers["x-request-id"] ?? null,
  };
  res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify(seen));
}

/** The value of one sample in Prometheus text, or 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const SK = "sk_live_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6";
const MK = "mk_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4";

describe("GET /metrics", () => {
  let front: Front;
  beforeAll(async () => {
    front = await startFront();
  });
  afterAll(() => front.close());

  it("answers in Prometheus text format with every keygate_ metric named", async () => {
    observeGatewayOverhead("/v1/chat/completions", 0.0004);
    observeUpstreamLatency("openai", 200, 0.8, "env-openai");
    countLimitRejection("rpm");
    setReservationsInFlight(2);
    // The outbox as the writer reports it: three records waiting, the oldest added 1.5 s ago.
    setUsageBacklogSource(async () => ({ waiting: 3, oldestAt: Date.now() - 1_500 }));
    const res = await fetch(`${front.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      "keygate_http_requests_total",
      "keygate_gateway_overhead_seconds",
      "keygate_upstream_latency_seconds",
      "keygate_limit_rejections_total",
      "keygate_reservations_in_flight",
      "keygate_usage_records_pending",
      "keygate_usage_oldest_pending_age_seconds",
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'keygate_limit_rejections_total{reason="rpm"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'keygate_gateway_overhead_seconds_bucket{le="0.0005",route="/v1/chat/completions"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, "keygate_reservations_in_flight")).toBe(2);
    expect(sample(text, "keygate_usage_records_pending")).toBe(3);
    expect(sample(text, "keygate_usage_oldest_pending_age_seconds")).toBeGreaterThanOrEqual(1.5);
    expect(sample(text, "keygate_usage_oldest_pending_age_seconds")).toBeLessThan(5);
    // Default process metrics come along.
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("counts each answered request by route and status", async () => {
    const series = 'keygate_http_requests_total{route="/healthz",status="200"}';
    const before = sample(await (await fetch(`${front.url}/metrics`)).text(), series);
    await fetch(`${front.url}/healthz`);
    await fetch(`${front.url}/healthz?probe=1`);
    await fetch(`${front.url}/healthz`, { method: "POST" });
    await vi.waitFor(async () => {
      const text = await (await fetch(`${front.url}/metrics`)).text();
      expect(sample(text, series)).toBe(before + 2);
      expect(sample(text, 'keygate_http_requests_total{route="/healthz",status="405"}')).toBeGreaterThanOrEqual(1);
    });
  });

  it("labels a request by a fixed route name, never by its raw URL, so IDs never become label values", async () => {
    await fetch(`${front.url}/api/keys/key_7f3a9c2e1d?expand=owner`);
    await fetch(`${front.url}/v1/models/model_7f3a9c2e1d`);
    await fetch(`${front.url}/dashboard/keys/key_7f3a9c2e1d`);
    await vi.waitFor(async () => {
      const text = await (await fetch(`${front.url}/metrics`)).text();
      expect(sample(text, 'keygate_http_requests_total{route="api",status="404"}')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'keygate_http_requests_total{route="/v1/*",status="404"}')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'keygate_http_requests_total{route="page",status="404"}')).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain("7f3a9c2e1d");
      expect(text).not.toContain("expand");
    });
  });

  it("counts a request whose client went away before the answer as 499", async () => {
    const hanging = await startFront(() => new Promise<void>(() => {}));
    try {
      const series = 'keygate_http_requests_total{route="page",status="499"}';
      const before = sample(await (await fetch(`${hanging.url}/metrics`)).text(), series);
      const abort = new AbortController();
      const pending = fetch(`${hanging.url}/slow-page`, { signal: abort.signal }).catch(() => null);
      await new Promise((resolve) => setTimeout(resolve, 100));
      abort.abort();
      await pending;
      await vi.waitFor(async () => expect(sample(await (await fetch(`${hanging.url}/metrics`)).text(), series)).toBe(before + 1));
    } finally {
      await hanging.close();
    }
  });
});

describe("GET /metrics with METRICS_TOKEN set", () => {
  const token = "metrics-token-0123456789abcdef";
  let front: Front;
  let restoreEnv: () => void;
  beforeAll(async () => {
    restoreEnv = setEnv({ METRICS_TOKEN: token });
    front = await startFront();
  });
  afterAll(async () => {
    await front.close();
    restoreEnv();
  });

  it("refuses a scrape without the token with 401 in the native envelope", async () => {
    const res = await fetch(`${front.url}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const body = await res.json();
    expect(body).toEqual({ success: false, error: { code: "unauthorized", message: expect.stringContaining("METRICS_TOKEN") } });
    expect(JSON.stringify(body)).not.toContain(token);
  });

  it("refuses a wrong token, of the same length or not, with 401", async () => {
    for (const wrong of [token.replace(/f$/, "e"), "x", `${token}x`, token.toUpperCase()]) {
      const res = await fetch(`${front.url}/metrics`, { headers: { authorization: `Bearer ${wrong}` } });
      expect(res.status, wrong).toBe(401);
    }
    expect((await fetch(`${front.url}/metrics`, { headers: { authorization: token } })).status).toBe(401);
  });

  it("serves the metrics for the right token", async () => {
    const res = await fetch(`${front.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("keygate_http_requests_total");
  });
});

describe("request ids", () => {
  let front: Front;
  beforeAll(async () => {
    front = await startFront();
  });
  afterAll(() => front.close());

  it("echoes a sane X-Request-Id on the response and passes it on to Next", async () => {
    const id = "req_01J.abc-DEF";
    const res = await fetch(`${front.url}/some-page`, { headers: { "x-request-id": id } });
    expect(res.headers.get("x-request-id")).toBe(id);
    expect((await res.json()).requestId).toBe(id);
    const longest = "a".repeat(64);
    expect((await fetch(`${front.url}/healthz`, { headers: { "x-request-id": longest } })).headers.get("x-request-id")).toBe(longest);
  });

  it("replaces an X-Request-Id that is too long or not a plain token with a new UUID, and makes one when none is sent", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of ["a".repeat(65), "a".repeat(200), "two words", "id;drop", "<script>"]) {
      const res = await fetch(`${front.url}/some-page`, { headers: { "x-request-id": bad } });
      const given = res.headers.get("x-request-id");
      expect(given, bad).toMatch(uuid);
      expect((await res.json()).requestId).toBe(given);
    }
    const none = await fetch(`${front.url}/healthz`);
    expect(none.headers.get("x-request-id")).toMatch(uuid);
  });

  it("puts the id on answers the front server gives itself, errors included", async () => {
    const res = await fetch(`${front.url}/api/%zz`, { headers: { "x-request-id": "bad-path-1" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-request-id")).toBe("bad-path-1");
  });
});

describe("the access log", () => {
  const lines: string[] = [];
  let front: Front;
  let restoreEnv: () => void;
  beforeAll(async () => {
    restoreEnv = setEnv({ LOG_LEVEL: "info" });
    resetLogger({ write: (line: string) => void lines.push(line) });
    front = await startFront(async (req, res) => {
      if (req.url === "/boom") throw new Error(`upstream said no to ${SK}`);
      res.writeHead(200).end("ok");
    });
  });
  afterEach(() => void (lines.length = 0));
  afterAll(async () => {
    await front.close();
    restoreEnv();
    resetLogger();
  });

  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it("writes one JSON line per request with its id, method, route label, status and duration", async () => {
    await fetch(`${front.url}/v1/models`, { headers: { "x-request-id": "access-1" } });
    await vi.waitFor(() => expect(parsed().find((l) => l.requestId === "access-1")).toBeDefined());
    const line = parsed().find((l) => l.requestId === "access-1")!;
    expect(line).toMatchObject({ level: "info", name: "keygate", msg: "request", method: "GET", route: "/v1/models", status: 401 });
    expect(typeof line.durationMs).toBe("number");
    expect(typeof line.time).toBe("string");
  });

  it("never contains an sk_ or mk_ key the client sent, nor one in an error message", async () => {
    await fetch(`${front.url}/v1/chat/completions?key=${SK}`, {
      method: "POST",
      headers: { authorization: `Bearer ${SK}`, "x-request-id": "secret-1", "content-type": "application/json" },
      body: JSON.stringify({ model: "x", messages: [] }),
    });
    await fetch(`${front.url}/api/keys`, { headers: { authorization: `Bearer ${MK}`, cookie: `k=${MK}`, "x-request-id": "secret-2" } });
    const boom = await fetch(`${front.url}/boom`, { headers: { "x-api-key": SK, "x-request-id": "secret-3" } });
    expect(boom.status).toBe(500);
    await vi.waitFor(() => expect(parsed().filter((l) => String(l.requestId).startsWith("secret-") && l.msg === "request")).toHaveLength(3));
    const failure = parsed().find((l) => l.requestId === "secret-3" && l.level === "error");
    expect(failure?.msg).toMatch(/^request failed: upstream said no to sk_live_\[redacted\]/);
    const all = lines.join("\n");
    expect(all).not.toContain(SK.slice(8));
    expect(all).not.toContain(MK.slice(3));
  });
});

describe("TRUST_PROXY at the front server", () => {
  let restoreEnv: (() => void) | undefined;
  afterEach(() => {
    restoreEnv?.();
    restoreEnv = undefined;
  });

  async function through(trustProxy: string | undefined, headers: Record<string, string>) {
    restoreEnv = setEnv({ TRUST_PROXY: trustProxy });
    const front = await startFront();
    try {
      return await (await fetch(`${front.url}/page`, { headers })).json();
    } finally {
      await front.close();
    }
  }

  const forged = { "x-forwarded-for": "203.0.113.7", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https", "x-real-ip": "203.0.113.8" };

  it("an untrusted peer cannot choose its address or origin through X-Forwarded-*", async () => {
    // Unset, or a list that does not include the peer (127.0.0.1 here).
    for (const setting of [undefined, "10.0.0.0/8,fd00::/8"]) {
      expect(await through(setting, forged), String(setting)).toMatchObject({
        forwardedFor: "127.0.0.1",
        forwardedHost: null,
        forwardedProto: null,
        realIp: null,
      });
    }
  });

  it("behind a trusted loopback proxy, the client is the right-most X-Forwarded-For address that is not a trusted proxy", async () => {
    const seen = await through("loopback", { ...forged, "x-forwarded-for": "6.6.6.6, 198.51.100.4, 127.0.0.1" });
    expect(seen).toMatchObject({ forwardedFor: "198.51.100.4", forwardedHost: "evil.example", forwardedProto: "https", realIp: null });
  });

  it("serverOrigin believes X-Forwarded-Host/-Proto only when TRUST_PROXY names some proxy", () => {
    const req = new Request("http://localhost:3000/api/keys", {
      headers: { host: "localhost:3000", "x-forwarded-host": "keys.example.com", "x-forwarded-proto": "https" },
    });
    restoreEnv = setEnv({ TRUST_PROXY: undefined });
    expect(serverOrigin(req)).toBe("http://localhost:3000");
    restoreEnv();
    restoreEnv = setEnv({ TRUST_PROXY: "loopback" });
    expect(serverOrigin(req)).toBe("https://keys.example.com");
  });
});
