import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * What the front server (lib/http/front.ts) answers itself, before Next:
 * health and readiness, malformed paths, and requests that never finish
 * arriving.
 */

let gw: TestGateway;
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = setEnv({ KEYGATE_REQUEST_TIMEOUT_MS: "600" });
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  restoreEnv();
});

/** Sends raw bytes and returns whatever comes back before the server closes (or `ms` passes). */
function raw(text: string, ms = 3000): Promise<string> {
  const { port } = new URL(gw.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(text));
    let got = "";
    socket.on("data", (d) => (got += d.toString()));
    const done = () => resolve(got);
    socket.on("close", done);
    socket.on("error", done);
    setTimeout(() => {
      socket.destroy();
      done();
    }, ms);
  });
}

describe("operations endpoints", () => {
  it("GET /healthz answers 200 while the process is up", async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when the database answers and every migration is applied", async () => {
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: "ok", migrations: "ok" } });
  });

  it("GET /readyz answers 503 when the database cannot be reached, without saying why to the caller", async () => {
    const g = globalThis as unknown as { __keygateDb?: unknown };
    const real = g.__keygateDb;
    g.__keygateDb = Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432 password=hunter2"));
    (g.__keygateDb as Promise<unknown>).catch(() => {});
    try {
      const res = await fetch(`${gw.url}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: "not_ready", checks: { database: "unreachable" } });
      expect(text).not.toContain("hunter2");
    } finally {
      g.__keygateDb = real;
    }
    await getDb();
  });
});

describe("requests the front refuses itself", () => {
  it("answers a malformed percent-encoding with 400 in the native envelope, not a 500", async () => {
    for (const path of ["/api/keys/%", "/api/%zz", "/v1/%E0%A4%A"]) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ success: false, error: { code: "invalid_path" } });
    }
  });

  it("cuts off a request whose body never arrives with 408", async () => {
    const started = Date.now();
    const answer = await raw('POST /api/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ke');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it("refuses headers over 16 KB with 431", async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
  });
});
