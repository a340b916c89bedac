import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropUntrustedForwardedHeaders, rejectDuplicateCredentials } from "@/lib/http/node-guards";

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

describe("dropUntrustedForwardedHeaders", () => {
  function fakeRequest(): http.IncomingMessage {
    const req = new http.IncomingMessage(new net.Socket());
    req.headers = { host: "localhost:3000", "x-forwarded-proto": "https", "x-forwarded-host": "evil.example", "x-forwarded-port": "443", "x-forwarded-for": "10.0.0.1" };
    return req;
  }

  it("drops client-sent X-Forwarded-Proto/Host/Port/For unless the proxy is trusted, so Next derives the scheme from the socket", () => {
    const untrusted = fakeRequest();
    dropUntrustedForwardedHeaders(untrusted, false);
    expect(untrusted.headers).toEqual({ host: "localhost:3000" });
    const trusted = fakeRequest();
    dropUntrustedForwardedHeaders(trusted, true);
    expect(trusted.headers["x-forwarded-host"]).toBe("evil.example");
    expect(trusted.headers["x-forwarded-proto"]).toBe("https");
  });
});

describe("the client address behind an untrusted network", () => {
  it("is the socket's peer address, whatever X-Forwarded-For the client sends, so per-address limits cannot be dodged", async () => {
    const server = http.createServer((req, res) => {
      dropUntrustedForwardedHeaders(req, false);
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
