import { afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { hashKey } from "@/lib/keys/format";
import { redact } from "@/lib/log";
import { call, createUser, type ApiResponse, type TestUser } from "./api";
import { dumpTable, sameOriginCookie } from "./fixtures";
import { resetLogger } from "@/lib/ops/logger";
import { setEnv } from "./gateway";

/**
 * Secrets are shown once and stored hashed: after creation, no row, list,
 * error message or log line holds a key or the random part of one.
 */

interface Issued {
  id: string;
  key: string;
  via: string;
}

let user: TestUser;
const issued: Issued[] = [];
const logged: string[] = [];
let spies: MockInstance[] = [];

/** The part of a key that is never shown again: everything after the stored display prefix. */
function secretPart(key: string): string {
  return key.slice(key.startsWith("mk_") ? 11 : 16);
}

/** The full key, its secret part, and every 12-character window of the secret part. */
function fragments(key: string): string[] {
  const part = secretPart(key);
  const windows = Array.from({ length: part.length - 11 }, (_, i) => part.slice(i, i + 12));
  return [key, part, ...windows];
}

function expectNoSecrets(text: string, where: string) {
  for (const { key, via } of issued) {
    for (const fragment of fragments(key)) {
      expect(text.includes(fragment), `${where} contains (part of) the ${via} key`).toBe(false);
    }
  }
}

function expectCreated(res: ApiResponse) {
  expect(res.status, res.text).toBe(201);
  expect(res.headers.get("cache-control")).toBe("no-store");
}

beforeAll(async () => {
  user = await createUser({ creditUsd: 10 });
  const credit1 = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "credit-1" } });
  const credit2 = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "credit-2", maxBudget: 1 } });
  const proxyKey = await call("POST", "/api/keys", { token: user.token, body: { name: "proxy-1" } });
  const mk1 = await call("POST", "/api/keys/management", { token: user.token, body: { name: "mk-1" } });
  const mk2 = await call("POST", "/api/billing-keys", { token: user.token, body: { name: "billing-1" } });
  for (const res of [credit1, credit2, proxyKey, mk1, mk2]) expectCreated(res);
  issued.push(
    { id: credit1.json.data.id, key: credit1.json.data.apiKey, via: "POST /api/keys/credit" },
    { id: credit2.json.data.id, key: credit2.json.data.apiKey, via: "POST /api/keys/credit" },
    { id: proxyKey.json.id, key: proxyKey.json.key, via: "POST /api/keys" },
    { id: mk1.json.data.id, key: mk1.json.data.apiKey, via: "POST /api/keys/management" },
    { id: mk2.json.id, key: mk2.json.key, via: "POST /api/billing-keys" },
  );
});

let restoreLogLevel: () => void;

beforeEach(() => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    }),
  );
  // Everything the JSON logger writes, at every level, is scanned too.
  restoreLogLevel = setEnv({ LOG_LEVEL: "trace" });
  resetLogger({ write: (line: string) => void logged.push(line) });
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
  restoreLogLevel();
  resetLogger();
});

describe("secrets are shown once and stored hashed", () => {
  it("stores only the SHA-256 digest and the display prefix: no row of ApiKey, ManagementKey, User or LedgerEntry holds a key", async () => {
    const apiKeys = await dumpTable("ApiKey");
    const managementKeys = await dumpTable("ManagementKey");
    const users = await dumpTable("User");
    const ledger = await dumpTable("LedgerEntry");
    for (const [name, dump] of [
      ["ApiKey", apiKeys],
      ["ManagementKey", managementKeys],
      ["User", users],
      ["LedgerEntry", ledger],
    ]) {
      expectNoSecrets(dump, `table ${name}`);
    }
    // The dumps do hold these keys' rows: digest and display prefix are there.
    for (const { key } of issued) {
      const table = key.startsWith("mk_") ? managementKeys : apiKeys;
      expect(table).toContain(hashKey(key));
      expect(table).toContain(key.slice(0, key.startsWith("mk_") ? 11 : 16));
    }
    expect(users).toContain(user.email);
    expect(users).not.toContain(user.password);
  });

  it("never returns a key in any list or status response, by session, management key or cookie", async () => {
    const mk = issued.find((k) => k.via === "POST /api/keys/management")!.key;
    const responses: Array<[string, ApiResponse]> = [
      ["GET /api/keys", await call("GET", "/api/keys", { token: user.token })],
      ["GET /api/keys (mk)", await call("GET", "/api/keys", { token: mk })],
      ["GET /api/keys (cookie)", await call("GET", "/api/keys", { headers: sameOriginCookie(user) })],
      ["GET /api/keys?limit=1", await call("GET", "/api/keys?limit=1", { token: user.token })],
      ["GET /api/keys/management", await call("GET", "/api/keys/management", { token: user.token })],
      ["GET /api/billing-keys", await call("GET", "/api/billing-keys", { token: user.token })],
      ["GET /api/billing/status", await call("GET", "/api/billing/status", { token: mk })],
      ["PUT /api/keys/:id", await call("PUT", `/api/keys/${issued[0].id}`, { token: user.token, body: { name: "renamed" } })],
    ];
    for (const [where, res] of responses) {
      expect(res.status, `${where}: ${res.text}`).toBe(200);
      expectNoSecrets(res.text, where);
    }
    const list = responses[0][1].json.data as Array<{ keyPrefix: string }>;
    expect(list).toHaveLength(3);
    for (const item of list) expect(item.keyPrefix).toMatch(/^sk_live_[0-9A-Za-z]{8}$/);
  });

  it("never echoes a key in an error message, whether it was sent as a credential or as a field", async () => {
    const [credit, , , mk] = issued;
    const typo = mk.key.slice(0, -1) + (mk.key.at(-1) === "A" ? "B" : "A");
    const errors: ApiResponse[] = [
      await call("GET", "/api/keys", { token: credit.key }),
      await call("GET", "/api/keys/management", { token: mk.key }),
      await call("GET", "/api/keys", { token: typo }),
      await call("POST", "/api/admin/credits", { token: mk.key, body: { email: user.email, amountUsd: 1 } }),
      await call("POST", "/api/keys/credit", { token: user.token, body: { name: "x", apiKey: credit.key } }),
      await call("POST", "/api/keys/credit", { token: user.token, body: { name: "x", expiresAt: credit.key } }),
      await call("PUT", `/api/keys/${credit.id}`, { token: user.token, body: { isActive: mk.key } }),
      await call("POST", "/api/auth/token", { body: { email: user.email, password: mk.key } }),
      await call("POST", "/api/keys/credit", { token: user.token, body: `{"name": "${credit.key}"` }),
    ];
    for (const res of errors) {
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.status, res.text).toBeLessThan(500);
      expectNoSecrets(res.text, `error ${res.status} ${res.json?.error?.code}`);
    }
  });

  it("makes a deleted key's error carry nothing of the key", async () => {
    const throwaway = await call("POST", "/api/keys/management", { token: user.token, body: { name: "throwaway" } });
    const key: string = throwaway.json.data.apiKey;
    await call("DELETE", `/api/keys/management/${throwaway.json.data.id}`, { token: user.token });
    const res = await call("GET", "/api/keys", { token: key });
    expect(res.status).toBe(401);
    for (const fragment of fragments(key)) expect(res.text).not.toContain(fragment);
  });

  it("writes no key to the server log while keys are used and refused", async () => {
    for (const { key } of issued) {
      await call("GET", "/api/billing/status", { token: key });
      await call("POST", "/api/keys/management", { token: key, body: { name: "x" } });
    }
    await call("POST", "/api/admin/credits", { token: issued[3].key, body: { email: user.email, amountUsd: 1 } });
    await call("PUT", `/api/keys/${issued[0].id}`, { token: issued[3].key, body: { name: "\u0000", note: issued[0].key } });
    for (const line of logged) expectNoSecrets(line, "log line");
  });

  it("redacts anything shaped like a key before it reaches a log line", () => {
    const line = redact(`request failed for ${issued.map((k) => k.key).join(", ")}`);
    expectNoSecrets(line, "redacted line");
    expect(line).toContain("sk_live_[redacted]");
    expect(line).toContain("mk_[redacted]");
  });
});
