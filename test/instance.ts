/**
 * One Keygate instance as its own process, for the multi-instance tests
 * (test/cluster.test.ts): the real front server and gateway, and the real
 * route handlers of /api/keys/{id} and /api/keys/management/{id} (and their /rotate) in place of
 * Next (called as Next calls them), on the PostgreSQL of DATABASE_URL and the Redis of REDIS_URL.
 * It prints "ready <port>" once listening; SIGTERM drains as server.ts does.
 *
 *   npx tsx test/instance.ts      (on a free port of 127.0.0.1)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as keyRoute from "@/app/api/keys/[id]/route";
import * as managementKeyRoute from "@/app/api/keys/management/[id]/route";
import * as rotateKeyRoute from "@/app/api/keys/[id]/rotate/route";
import * as rotateManagementKeyRoute from "@/app/api/keys/management/[id]/rotate/route";
import { closeDb } from "@/lib/db";
import { drainGateway } from "@/lib/gateway/proxy";
import { limits } from "@/lib/limits";
import { drainUsage } from "@/lib/usage/writer";
import { createKeygateServer } from "@/lib/http/front";

type Method = "GET" | "PUT" | "PATCH" | "DELETE" | "POST";

async function nextStandIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  const routes: Array<[RegExp, Partial<Record<Method, typeof keyRoute.GET>>]> = [
    [/^\/api\/keys\/management\/([^/]+)\/rotate$/, rotateManagementKeyRoute],
    [/^\/api\/keys\/management\/([^/]+)$/, managementKeyRoute],
    [/^\/api\/keys\/([^/]+)\/rotate$/, rotateKeyRoute],
    [/^\/api\/keys\/([^/]+)$/, keyRoute],
  ];
  let m: RegExpExecArray | null = null;
  let handler: typeof keyRoute.GET | undefined;
  for (const [pattern, route] of routes) {
    m = pattern.exec(url.pathname);
    if (m) {
      handler = route[(req.method ?? "GET") as Method];
      break;
    }
  }
  if (!m || !handler) {
    res
      .writeHead(404, { "content-type": "application/json" })
      .end('{"success":false,"error":{"code":"not_found","message":"not served by the test instance"}}');
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const response = await handler(new Request(url, { method: req.method, headers, body }), { params: Promise.resolve({ id: decodeURIComponent(m[1]) }) });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

const server = createKeygateServer(nextStandIn);
server.listen(0, "127.0.0.1", () => {
  console.log(`ready ${(server.address() as AddressInfo).port}`);
});

process.on("SIGTERM", () => {
  server.close();
  void (async () => {
    await drainGateway(5_000);
    await drainUsage();
    await limits().close();
    await closeDb();
    process.exit(0);
  })();
});
