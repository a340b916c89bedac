import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTrustProxy } from "@/lib/env";
import { normalizeAddress, rejectDuplicateCredentials, resolveForwardedHeaders, TrustedProxies } from "@/lib/http/node-guards";

/**
 * The raw-request guards server.ts runs before Next, tested on a real
 * node:http server with hand-written HTTP, since Node's own parser (and
 * every HTTP client) would hide exactly what they look for.
 */

interface Seen {
  authorization?: string;
  apiKey?: string | string[];
}

let guarded: http.Server;
let unguarded: http.Server;
const reachedHandler: Seen[] = [];

function echo(req: http.IncomingMessage, res: http.ServerResponse) {
  const seen: Seen = { authorization: req.headers.authorization, apiKey: req.headers["x-api-key"] };
  reachedHandler.push(seen);
  const body = JSON.stringify(seen);
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

let guardedPort: number;
let unguardedPort: number;

beforeAll(async () => {
  guarded = http.createServer((req, res) => rejectDuplicateCredentials(req, res) || echo(req, res));
  unguarded = http.createServer(echo);
  guardedPort = await listen(guarded);
  unguardedPort = await listen(unguarded);
});

afterAll(async () => {
  await Promise.all([guarded, unguarded].map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Sends exactly these header lines over a raw socket and returns the status and JSON body. */
async function rawRequest(port: number, headerLines: string[], body = "", method = body ? "POST" : "GET") {
  const lines = [`${method} /v1/chat/completions HTTP/1.1`, "Host: 127.0.0.1", ...headerLines, "Connection: close"];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`, "Content-Type: application/json");
  const response = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
  const [head, ...rest] = response.split("\r\n\r\n");
  const text = rest.join("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), head, json: JSON.parse(text) };
}

describe("rejectDuplicateCredentials on a real node:http server", () => {
  it("Node alone keeps only the first of two Authorization headers (why the guard must read rawHeaders)", async () => {
    const res = await rawRequest(unguardedPort, ["Authorization: Bearer first", "Authorization: Bearer second"]);
    expect(res.status).toBe(200);
    expect(res.json.authorization).toBe("Bearer first");
  });

  it("two Authorization headers are answered 400 duplicate_credentials in the envelope, and the handler never runs", async () => {
    const before = reachedHandler.length;
    for (const headers of [
      ["Authorization: Bearer a", "Authorization: Bearer b"],
      ["Authorization: Bearer same", "authorization: Bearer same"],
      ["AUTHORIZATION: Bearer a", "X-Other: 1", "Authorization: Bearer a"],
    ]) {
      const res = await rawRequest(guardedPort, headers);
      expect(res.status, res.head).toBe(400);
      expect(res.head).toMatch(/content-type: application\/json/i);
      expect(res.head).toMatch(/cache-control: no-store/i);
      expect(res.json).toEqual({
        success: false,
        error: { code: "duplicate_credentials", message: expect.stringMatching(/more than one Authorization header.*exactly one credential/) },
      });
      expect(JSON.stringify(res.json)).not.toMatch(/Bearer/);
    }
    // With a body that is never read, too: the answer still arrives and the connection closes.
    const withBody = await rawRequest(guardedPort, ["Authorization: Bearer a", "Authorization: Bearer b"], '{"model":"x"}');
    expect(withBody.status).toBe(400);
    expect(reachedHandler.length).toBe(before);
  });

  it("two x-api-key headers are answered 400 duplicate_credentials", async () => {
    const res = await rawRequest(guardedPort, ["x-api-key: sk_a", "X-Api-Key: sk_b"]);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("duplicate_credentials");
    expect(res.json.error.message).toContain("x-api-key");
  });

  it("one Authorization header, alone or beside one x-api-key, passes through to the handler unchanged", async () => {
    const one = await rawRequest(guardedPort, ["Authorization: Bearer only"]);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ authorization: "Bearer only" });
    const both = await rawRequest(guardedPort, ["Authorization: Bearer a", "x-api-key: sk_b"], '{"model":"x"}');
    expect(both.status).toBe(200);
    expect(both.json).toEqual({ authorization: "Bearer a", apiKey: "sk_b" });
    const none = await rawRequest(guardedPort, []);
    expect(none.status).toBe(200);
  });
});

const trust = (list: string) => new TrustedProxies(parseTrustProxy(list).networks);
const noProxy = trust("");

describe("resolveForwardedHeaders", () => {
  function fakeRequest(peer: string | undefined, forwardedFor = "10.0.0.1"): http.IncomingMessage {
    const socket = new net.Socket();
    Object.defineProperty(socket, "remoteAddress", { value: peer });
    const req = new http.IncomingMessage(socket);
    req.headers = {
      host: "localhost:3000",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
      "x-forwarded-port": "443",
      "x-forwarded-for": forwardedFor,
      "x-real-ip": "198.51.100.9",
    };
    return req;
  }

  it("from a peer that is not a trusted proxy, drops X-Forwarded-Proto/Host/Port and X-Real-IP and sets X-Forwarded-For to the peer", () => {
    for (const proxies of [noProxy, trust("10.0.0.0/8,::1")]) {
      const req = fakeRequest("127.0.0.1");
      resolveForwardedHeaders(req, proxies);
      expect(req.headers).toEqual({ host: "localhost:3000", "x-forwarded-for": "127.0.0.1" });
    }
    const socketGone = fakeRequest(undefined);
    resolveForwardedHeaders(socketGone, noProxy);
    expect(socketGone.headers).toEqual({ host: "localhost:3000" });
  });

  it("from a trusted proxy, keeps X-Forwarded-Proto/Host and reduces X-Forwarded-For to the right-most address that is not a trusted proxy", () => {
    const req = fakeRequest("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3");
    resolveForwardedHeaders(req, trust("loopback,10.0.0.0/8"));
    expect(req.headers["x-forwarded-proto"]).toBe("https");
    expect(req.headers["x-forwarded-host"]).toBe("evil.example");
    expect(req.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(req.headers["x-real-ip"]).toBeUndefined();
  });

  it("treats a dual-stack socket's IPv4-mapped peer (::ffff:127.0.0.1) as the IPv4 address it is", () => {
    const trusted = fakeRequest("::ffff:127.0.0.1", "203.0.113.7");
    resolveForwardedHeaders(trusted, trust("127.0.0.1"));
    expect(trusted.headers["x-forwarded-for"]).toBe("203.0.113.7");
    const untrusted = fakeRequest("::ffff:192.0.2.1", "203.0.113.7");
    resolveForwardedHeaders(untrusted, trust("127.0.0.1"));
    expect(untrusted.headers["x-forwarded-for"]).toBe("192.0.2.1");
  });

  it("behind a trusted proxy, a request with no X-Forwarded-For, or only trusted hops, is from the left-most address known", () => {
    const none = fakeRequest("10.0.0.5", "");
    resolveForwardedHeaders(none, trust("private"));
    expect(none.headers["x-forwarded-for"]).toBe("10.0.0.5");
    const allTrusted = fakeRequest("10.0.0.5", "192.168.1.20, 10.0.0.9");
    resolveForwardedHeaders(allTrusted, trust("private"));
    expect(allTrusted.headers["x-forwarded-for"]).toBe("192.168.1.20");
  });

  it("a hop that is not an address stops the walk at the nearest address a trusted proxy vouched for, never a client-chosen string", () => {
    const req = fakeRequest("127.0.0.1", "203.0.113.7, unknown, ::1");
    resolveForwardedHeaders(req, trust("loopback"));
    expect(req.headers["x-forwarded-for"]).toBe("::1");
  });

  it("matches IPv6 networks and reads the [v6]:port and v4:port forms some proxies write", () => {
    const req = fakeRequest("fd00::7", "[2001:db8::1]:51234, fd00::8");
    resolveForwardedHeaders(req, trust("fc00::/7"));
    expect(req.headers["x-forwarded-for"]).toBe("2001:db8::1");
    expect(normalizeAddress("203.0.113.7:8080")).toBe("203.0.113.7");
    expect(normalizeAddress("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(normalizeAddress("not-an-ip")).toBeNull();
  });
});

describe("the client address behind an untrusted network", () => {
  it("is the socket's peer address, whatever X-Forwarded-For the client sends, so per-address limits cannot be dodged", async () => {
    const server = http.createServer((req, res) => {
      resolveForwardedHeaders(req, noProxy);
      res.end(JSON.stringify({ forwardedFor: req.headers["x-forwarded-for"] ?? null, realIp: req.headers["x-real-ip"] ?? null }));
    });
    const port = await listen(server);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" } });
      expect(await res.json()).toEqual({ forwardedFor: "127.0.0.1", realIp: null });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
