import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "@/lib/auth/actor";
import { operations } from "@/lib/api/operations";
import { authOptions } from "@/lib/auth/options";
import { prisma } from "@/lib/db";
import { pathParamNames, type OperationSpec } from "@/lib/http/operation";
import { sweepSubscriptions } from "@/lib/subscriptions/sweep";
import { write } from "@/lib/writes/unit";
import { ADMIN_TOKEN, call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createCreditKey, createManagementKey, createPool, insertSubscription, sameOriginCookie, type CreatedKey } from "./fixtures";
import { setEnv } from "./gateway";

/**
 * The audit log. Every mutating operation, called with every kind of
 * credential allowed to call it, writes exactly one row naming who acted
 * (and none when it fails); a row's changes are [before, after]; no secret
 * ever reaches a row; sign-ins are logged; and the log pages like the
 * request log, each account seeing only its own rows.
 */

const MISSING_ID = "cl0000000000000000000000";
const WEBHOOK_SECRET = "whsec_keygate_audit_0123456789abcdef";

let alice: TestUser;
let bob: TestUser;
let operator: TestUser;
let aliceMk: CreatedKey;
let receiver: { url: string; close: () => Promise<void> };
let restoreEnv: () => void;

/** Every secret this suite saw or sent: none may appear in any audit row. */
const secrets = new Set<string>();

beforeAll(async () => {
  [alice, bob, operator] = await Promise.all([createUser({ creditUsd: 1000 }), createUser({ creditUsd: 10 }), createUser()]);
  aliceMk = await createManagementKey(alice, { name: "alice-mk" });
  for (const u of [alice, bob, operator]) secrets.add(u.password).add(u.token);
  secrets.add(aliceMk.apiKey).add(WEBHOOK_SECRET).add(ADMIN_TOKEN);
  restoreEnv = setEnv({ KEYGATE_ADMIN_EMAILS: operator.email, KEYGATE_WEBHOOKS_ALLOW_PRIVATE: "1" });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

afterAll(async () => {
  restoreEnv?.();
  await receiver?.close();
});

// ---------------------------------------------------------------------------
// Credentials

type CallAuth = { token?: string; headers?: Record<string, string> };
interface ExpectedActor {
  actorType: string;
  actorId: string | null;
  managementKeyId: string | null;
}
interface Credential {
  name: string;
  auth: () => CallAuth;
  /** null: the case says who acted (an anonymous caller). */
  actor: () => ExpectedActor | null;
}

const asAlice = (managementKeyId: string | null = null): ExpectedActor => ({
  actorType: managementKeyId ? "management_key" : "user",
  actorId: alice.id,
  managementKeyId,
});

const CREDENTIALS: Record<OperationSpec["auth"], Credential[]> = {
  session: [
    { name: "session token", auth: () => ({ token: alice.token }), actor: () => asAlice() },
    { name: "session cookie", auth: () => ({ headers: sameOriginCookie(alice) }), actor: () => asAlice() },
  ],
  "session-or-mk": [
    { name: "session token", auth: () => ({ token: alice.token }), actor: () => asAlice() },
    { name: "session cookie", auth: () => ({ headers: sameOriginCookie(alice) }), actor: () => asAlice() },
    { name: "management key", auth: () => ({ token: aliceMk.apiKey }), actor: () => asAlice(aliceMk.id) },
  ],
  admin: [
    { name: "admin token", auth: () => ({ token: ADMIN_TOKEN }), actor: () => ({ actorType: "admin", actorId: null, managementKeyId: null }) },
    {
      name: "operator session",
      auth: () => ({ token: operator.token }),
      actor: () => ({ actorType: "admin", actorId: operator.id, managementKeyId: null }),
    },
  ],
  none: [{ name: "no credential", auth: () => ({}), actor: () => null }],
  "consumption-key": [],
};

// ---------------------------------------------------------------------------
// One fixture per mutating operation

interface Request {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Expected {
  targetId?: string | null;
  accountId?: string | null;
  /** For an anonymous caller: who the row says acted. */
  actor?: ExpectedActor;
  changes?: Record<string, [unknown, unknown]>;
}

interface Case {
  /** Makes what the call needs (fresh for every call) and answers the request to send. */
  request: () => Promise<Request>;
  /** What the row must hold, once the call succeeded. Default: the path's ID as target, in Alice's log (session or mk) or nobody's (admin). */
  row?: (res: ApiResponse, req: Request) => Expected;
  /** A request that must fail; default: another account's ID (when the path has one), else a body that is not an object. */
  fail?: () => Promise<Request>;
  /** The rows a failure writes (only sign-ins write one). */
  failRows?: string[];
}

type Entry = Case | { unaudited: string };

const rand = () => crypto.randomBytes(4).toString("hex");

async function upstream(): Promise<{ id: string; apiKey: string }> {
  const apiKey = `sk-upstream-${crypto.randomBytes(12).toString("hex")}`;
  secrets.add(apiKey);
  const res = await call("POST", "/api/admin/upstreams", {
    token: ADMIN_TOKEN,
    body: { name: `audit-${rand()}`, protocol: "openai", baseUrl: "https://api.example.com/v1", apiKey },
  });
  expect(res.status, res.text).toBe(201);
  return { id: res.json.data.id, apiKey };
}

async function model(): Promise<string> {
  const name = `audit-model-${rand()}`;
  const res = await call("POST", "/api/admin/models", {
    token: ADMIN_TOKEN,
    body: { model: name, provider: "openai", inputUsdPerMTok: 1, outputUsdPerMTok: 2, maxOutputTokens: 1000 },
  });
  expect(res.status, res.text).toBeLessThan(300);
  return name;
}

async function webhook(): Promise<string> {
  const res = await call("POST", "/api/webhooks", { token: alice.token, body: { url: receiver.url, events: ["account.balance.low"] } });
  expect(res.status, res.text).toBe(201);
  secrets.add(res.json.data.secret);
  return res.json.data.id;
}

function signedStripeEvent(userId: string, signature = true): Request {
  const payload = JSON.stringify({
    id: `evt_${rand()}`,
    object: "event",
    api_version: "2025-01-01",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "checkout.session.completed",
    data: {
      object: {
        id: `cs_test_${rand()}`,
        object: "checkout.session",
        mode: "payment",
        status: "complete",
        payment_status: "paid",
        currency: "usd",
        amount_total: 500,
        client_reference_id: userId,
        metadata: { userId },
      },
    },
  });
  const header = signature ? Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) : "t=1,v1=00";
  return { path: "/api/billing/webhook", body: payload, headers: { "stripe-signature": header } };
}

const CASES: Record<string, Entry> = {
  // Accounts
  signUp: {
    request: async () => {
      const password = `pw-${rand()}${rand()}`;
      secrets.add(password);
      return { path: "/api/auth/signup", body: { email: `audit-${rand()}@example.com`, password } };
    },
    row: (res) => {
      const id = res.json.data.id;
      return { targetId: id, accountId: id, actor: { actorType: "user", actorId: id, managementKeyId: null } };
    },
  },
  createSessionToken: {
    request: async () => ({ path: "/api/auth/token", body: { email: alice.email, password: alice.password } }),
    row: (res) => {
      secrets.add(res.json.data.token);
      return { targetId: alice.id, accountId: alice.id, actor: asAlice() };
    },
    fail: async () => ({ path: "/api/auth/token", body: { email: alice.email, password: "not-the-password" } }),
    failRows: ["auth.sign_in_failed"],
  },
  updateAccount: {
    request: async () => ({ path: "/api/account", body: { lowBalanceUsd: Number((Math.random() * 100).toFixed(2)) } }),
    row: () => ({ targetId: alice.id, accountId: alice.id }),
  },
  // Billing
  createCheckout: { unaudited: "opens a Stripe Checkout page; the payment is audited when Stripe's webhook credits it (credits.purchase)" },
  receiveStripeWebhook: {
    request: async () => signedStripeEvent(alice.id),
    row: () => ({ targetId: alice.id, accountId: alice.id, actor: { actorType: "system", actorId: null, managementKeyId: null } }),
    fail: async () => signedStripeEvent(alice.id, false),
  },
  grantCredits: {
    request: async () => ({ path: "/api/admin/credits", body: { email: alice.email, amountUsd: 1 } }),
    row: () => ({ targetId: alice.id, accountId: alice.id }),
  },
  // Inference and key checks change nothing
  createChatCompletion: { unaudited: "inference: metered in the request log, not the audit log" },
  createMessage: { unaudited: "inference" },
  createResponse: { unaudited: "inference" },
  createEmbeddings: { unaudited: "inference" },
  verifyKey: { unaudited: "a key check changes nothing" },
  testUpstream: { unaudited: "a connection test changes nothing" },
  // Consumption keys
  createProxyKey: {
    request: async () => ({ path: "/api/keys", body: { name: `proxy-${rand()}` } }),
    row: (res) => {
      secrets.add(res.json.key);
      return { targetId: res.json.id };
    },
  },
  createCreditKey: {
    request: async () => ({ path: "/api/keys/credit", body: { name: `credit-${rand()}`, maxBudget: 5 } }),
    row: (res, req) => {
      secrets.add(res.json.data.apiKey);
      const name = (req.body as { name: string }).name;
      return { targetId: res.json.data.id, changes: { name: [null, name], maxBudget: [null, 5] } };
    },
  },
  createSubscriptionKey: {
    request: async () => ({ path: "/api/keys/subscription", body: { subscriptionId: (await insertSubscription(alice)).id } }),
    row: (res) => {
      secrets.add(res.json.data.apiKey);
      return { targetId: res.json.data.id };
    },
  },
  updateKey: {
    request: async () => ({ path: `/api/keys/${(await createCreditKey(alice)).id}`, body: { isActive: false } }),
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), changes: { isActive: [true, false] } }),
  },
  deleteKey: {
    request: async () => ({ path: `/api/keys/${(await createCreditKey(alice)).id}` }),
  },
  rotateKey: {
    request: async () => ({ path: `/api/keys/${(await createCreditKey(alice)).id}/rotate`, body: { gracePeriodSeconds: 60 } }),
    row: (res, req) => {
      secrets.add(res.json.data.apiKey);
      const expiresAt = res.json.data.previousKeyExpiresAt as string;
      return {
        targetId: req.path.split("/")[3],
        changes: { keyPrefix: [expect.any(String), res.json.data.keyPrefix], previousKeyExpiresAt: [null, expiresAt] },
      };
    },
  },
  // Management keys
  rotateManagementKey: {
    request: async () => ({ path: `/api/keys/management/${(await createManagementKey(alice)).id}/rotate` }),
    row: (res, req) => {
      secrets.add(res.json.data.apiKey);
      return {
        targetId: req.path.split("/")[4],
        changes: { keyPrefix: [expect.any(String), res.json.data.keyPrefix], previousKeyExpiresAt: [null, expect.any(String)] },
      };
    },
  },
  createManagementKey: {
    request: async () => ({ path: "/api/keys/management", body: { name: `mk-${rand()}` } }),
    row: (res) => {
      secrets.add(res.json.data.apiKey);
      return { targetId: res.json.data.id };
    },
  },
  updateManagementKey: {
    request: async () => ({ path: `/api/keys/management/${(await createManagementKey(alice)).id}`, body: { name: "renamed" } }),
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), changes: { name: ["test-mk", "renamed"] } }),
  },
  deleteManagementKey: {
    request: async () => ({ path: `/api/keys/management/${(await createManagementKey(alice)).id}` }),
  },
  createBillingKey: {
    request: async () => ({ path: "/api/billing-keys", body: { name: `billing-${rand()}` } }),
    row: (res) => {
      secrets.add(res.json.key);
      return { targetId: res.json.id };
    },
  },
  deleteBillingKey: {
    request: async () => ({ path: `/api/billing-keys/${(await createManagementKey(alice)).id}` }),
  },
  // Models, pools, upstreams (operator-wide: in no account's log)
  upsertModel: {
    request: async () => ({
      path: "/api/admin/models",
      body: { model: `audit-model-${rand()}`, provider: "openai", inputUsdPerMTok: 1, outputUsdPerMTok: 2, maxOutputTokens: 1000 },
    }),
    row: (_res, req) => ({ targetId: (req.body as { model: string }).model, accountId: null }),
  },
  deleteModel: {
    request: async () => ({ path: `/api/admin/models?model=${encodeURIComponent(await model())}` }),
    row: (_res, req) => ({ targetId: decodeURIComponent(req.path.split("=")[1]), accountId: null }),
    fail: async () => ({ path: `/api/admin/models?model=no-such-model-${rand()}` }),
  },
  subscribeToPool: {
    request: async () => ({ path: `/api/pools/${(await createPool()).id}/subscribe`, body: { blocks: [0] } }),
    row: (res) => ({ targetId: res.json.data.id }),
  },
  createPool: {
    request: async () => ({
      path: "/api/admin/pools",
      body: { name: `pool-${rand()}`, models: ["keygate/echo"], blockHours: 6, capacity: 3, pricePerBlockUsd: 1 },
    }),
    row: (res) => ({ targetId: res.json.data.id, accountId: null }),
  },
  updatePool: {
    request: async () => ({ path: `/api/admin/pools/${(await createPool()).id}`, body: { capacity: 9 } }),
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), accountId: null, changes: { capacity: [5, 9] } }),
  },
  updateSubscription: {
    request: async () => ({ path: `/api/subscriptions/${(await insertSubscription(alice)).id}`, body: { autoRenew: true } }),
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), changes: { autoRenew: [false, true] } }),
  },
  renewSubscription: {
    request: async () => ({ path: `/api/subscriptions/${(await insertSubscription(alice)).id}/renew` }),
    row: (_res, req) => ({ targetId: req.path.split("/")[3] }),
  },
  createUpstream: {
    request: async () => {
      const apiKey = `sk-upstream-${crypto.randomBytes(12).toString("hex")}`;
      secrets.add(apiKey).add("header-secret-value-1");
      return {
        path: "/api/admin/upstreams",
        body: { name: `audit-${rand()}`, protocol: "openai", baseUrl: "https://api.example.com/v1", apiKey, headers: { "X-Org": "header-secret-value-1" } },
      };
    },
    row: (res) => ({ targetId: res.json.data.id, accountId: null }),
  },
  updateUpstream: {
    request: async () => {
      const apiKey = `sk-upstream-${crypto.randomBytes(12).toString("hex")}`;
      secrets.add(apiKey);
      return { path: `/api/admin/upstreams/${(await upstream()).id}`, body: { apiKey, timeoutMs: 5000 } };
    },
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), accountId: null }),
  },
  deleteUpstream: {
    request: async () => ({ path: `/api/admin/upstreams/${(await upstream()).id}` }),
    row: (_res, req) => ({ targetId: req.path.split("/").pop(), accountId: null }),
  },
  // Webhooks
  createWebhook: {
    request: async () => ({ path: "/api/webhooks", body: { url: receiver.url, events: ["account.balance.low"] } }),
    row: (res) => {
      secrets.add(res.json.data.secret);
      return { targetId: res.json.data.id };
    },
  },
  deleteWebhook: {
    request: async () => ({ path: `/api/webhooks/${await webhook()}` }),
  },
  sendWebhookTest: {
    request: async () => ({ path: `/api/webhooks/${await webhook()}/test` }),
    row: (_res, req) => ({ targetId: req.path.split("/")[3] }),
  },
};

const MUTATING = operations.filter((op) => op.method !== "GET");

async function rowsOf(requestId: string) {
  return (await prisma()).auditLog.findMany({ where: { requestId }, orderBy: { at: "asc" } });
}

async function send(op: OperationSpec, req: Request, auth: CallAuth) {
  const requestId = `audit-${crypto.randomUUID()}`;
  const headers = { ...auth.headers, ...req.headers, "x-request-id": requestId, "x-forwarded-for": "203.0.113.9", "user-agent": "audit-test/1.0" };
  const res = await call(op.method, req.path, { token: auth.token, body: req.body, headers });
  return { res, rows: await rowsOf(requestId) };
}

/** The ID segments of a path replaced by another account's (here: nobody's) ID. */
function withForeignIds(op: OperationSpec, path: string): string {
  const template = op.path.split("/");
  return path
    .split("/")
    .map((seg, i) => (template[i]?.startsWith("{") ? MISSING_ID : seg))
    .join("/");
}

describe("every mutating operation writes one audit row", () => {
  it("declares what each mutating operation records, and has a fixture for each (a new operation cannot go untested)", () => {
    for (const op of MUTATING) {
      expect(op.audit, `${op.id} must declare audit`).toBeDefined();
      const entry = CASES[op.id];
      expect(entry, `test/audit.test.ts has no fixture for ${op.id}: add one to CASES`).toBeDefined();
      if ("unaudited" in entry) expect(op.audit, `${op.id} is in CASES as unaudited`).toBe(false);
      else expect(op.audit, `${op.id} has a fixture but declares audit: false`).not.toBe(false);
      if (op.audit) expect(op.audit.action).toMatch(/^[a-z_]+\.[a-z_]+$/);
    }
    for (const op of operations.filter((o) => o.method === "GET")) expect(op.audit, op.id).toBeUndefined();
    expect(Object.keys(CASES).sort()).toEqual(MUTATING.map((o) => o.id).sort());
  });

  for (const op of MUTATING) {
    const entry = CASES[op.id];
    if (!entry || "unaudited" in entry || !op.audit) continue;
    const declared = op.audit;
    for (const cred of CREDENTIALS[op.auth]) {
      it(`${op.method} ${op.path} (${op.id}) with ${cred.name}: one ${declared.action} row on success, none on failure`, async () => {
        const restore =
          op.id === "receiveStripeWebhook" ? setEnv({ STRIPE_SECRET_KEY: "sk_test_keygate0123456789", STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET }) : () => {};
        try {
          const req = await entry.request();
          const { res, rows } = await send(op, req, cred.auth());
          expect(res.status, res.text).toBeLessThan(300);
          expect(
            rows.map((r) => r.action),
            res.text,
          ).toEqual([declared.action]);
          const [row] = rows;
          const want = entry.row?.(res, req) ?? {};
          const params = pathParamNames(op.path);
          const defaultTarget = params.length ? req.path.split("?")[0].split("/")[op.path.split("/").findIndex((s) => s.startsWith("{"))] : undefined;
          const ownLog = op.auth === "session" || op.auth === "session-or-mk" ? alice.id : null;
          expect(row).toMatchObject({
            targetType: declared.targetType,
            targetId: want.targetId !== undefined ? want.targetId : (defaultTarget ?? expect.anything()),
            accountId: want.accountId !== undefined ? want.accountId : ownLog,
            ...(want.actor ?? cred.actor()),
            ip: "203.0.113.9",
            userAgent: "audit-test/1.0",
          });
          if (want.changes) expect(row.changes).toMatchObject(want.changes);

          // A refused call writes nothing (but a failed sign-in's own row).
          const failing = entry.fail ? await entry.fail() : params.length ? { ...req, path: withForeignIds(op, req.path) } : { ...req, body: [] };
          const failed = await send(op, failing, cred.auth());
          expect(failed.res.status, failed.res.text).toBeGreaterThanOrEqual(400);
          expect(failed.rows.map((r) => r.action)).toEqual(entry.failRows ?? []);
        } finally {
          restore();
        }
      });
    }
  }

  it("writes nothing when another account's ID is used, whichever of Bob's credentials", async () => {
    const key = await createCreditKey(alice);
    const mk = await createManagementKey(alice);
    const hook = await webhook();
    const bobMk = await createManagementKey(bob);
    const attempts: Array<[string, string, unknown]> = [
      ["PUT", `/api/keys/${key.id}`, { isActive: false }],
      ["DELETE", `/api/keys/${key.id}`, undefined],
      ["DELETE", `/api/webhooks/${hook}`, undefined],
      ["POST", `/api/webhooks/${hook}/test`, undefined],
    ];
    for (const auth of [{ token: bob.token }, { token: bobMk.apiKey }]) {
      for (const [method, path, body] of attempts) {
        const requestId = `audit-${crypto.randomUUID()}`;
        const res = await call(method, path, { ...auth, body, headers: { "x-request-id": requestId } });
        expectError(res, 404);
        expect(await rowsOf(requestId)).toEqual([]);
      }
    }
    const requestId = `audit-${crypto.randomUUID()}`;
    expectError(await call("DELETE", `/api/keys/management/${mk.id}`, { token: bob.token, headers: { "x-request-id": requestId } }), 404);
    expect(await rowsOf(requestId)).toEqual([]);
  });

  it("writes the row in the same transaction as the change: a write that rolls back after declaring its row leaves none", async () => {
    const actor: Actor = {
      userId: alice.id,
      via: "session",
      clientAddress: null,
      userAgent: null,
      requestId: `audit-${crypto.randomUUID()}`,
      audit: { action: "key.update", targetType: "key" },
    };
    const key = await createCreditKey(alice);
    await expect(
      write(actor, async (tx, after) => {
        await tx.apiKey.update({ where: { id: key.id }, data: { name: "rolled back" } });
        after.audit({ targetId: key.id, changes: { name: ["test-key", "rolled back"] } });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await rowsOf(actor.requestId!)).toEqual([]);
    expect((await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: key.id } })).name).toBe("test-key");
  });
});

describe("changes", () => {
  it("records [before, after] for each changed field of an update, and only those", async () => {
    const key = await createCreditKey(alice, { name: "before", maxBudget: 5, rpm: 60 });
    const requestId = `audit-${crypto.randomUUID()}`;
    const res = await call("PUT", `/api/keys/${key.id}`, {
      token: alice.token,
      body: { name: "after", maxBudget: 7, rpm: 60 },
      headers: { "x-request-id": requestId },
    });
    expect(res.status, res.text).toBe(200);
    const [row] = await rowsOf(requestId);
    expect(row.changes).toEqual({ name: ["before", "after"], maxBudget: [5, 7] });
  });

  it("records a create as [null, value] and a delete as [value, null]", async () => {
    const created = `audit-${crypto.randomUUID()}`;
    const res = await call("POST", "/api/keys/management", { token: alice.token, body: { name: "audited" }, headers: { "x-request-id": created } });
    secrets.add(res.json.data.apiKey);
    const [createRow] = await rowsOf(created);
    expect(createRow.changes).toMatchObject({ name: [null, "audited"], isActive: [null, true], keyPrefix: [null, res.json.data.keyPrefix] });
    const deleted = `audit-${crypto.randomUUID()}`;
    await call("DELETE", `/api/keys/management/${res.json.data.id}`, { token: alice.token, headers: { "x-request-id": deleted } });
    const [deleteRow] = await rowsOf(deleted);
    expect(deleteRow.changes).toMatchObject({ name: ["audited", null], isActive: [true, null] });
  });

  it("says that an upstream's API key or a webhook's secret changed, never what it is", async () => {
    const { id } = await upstream();
    const requestId = `audit-${crypto.randomUUID()}`;
    const apiKey = `sk-upstream-${crypto.randomBytes(12).toString("hex")}`;
    secrets.add(apiKey);
    await call("PUT", `/api/admin/upstreams/${id}`, { token: ADMIN_TOKEN, body: { apiKey }, headers: { "x-request-id": requestId } });
    const [row] = await rowsOf(requestId);
    expect(row.changes).toMatchObject({ apiKey: ["[secret]", "[secret]"], apiKeyLast4: [expect.any(String), apiKey.slice(-4)] });
  });

  it("writes the sweep's auto-renewal as a system row in the subscriber's log", async () => {
    const sub = await insertSubscription(alice, { periodEnd: new Date(Date.now() + 10_000) });
    const db = await prisma();
    await db.subscription.update({ where: { id: sub.id }, data: { autoRenew: true } });
    const { renewed } = await sweepSubscriptions();
    expect(renewed).toContain(sub.id);
    const rows = await db.auditLog.findMany({ where: { targetId: sub.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "subscription.renew", actorType: "system", actorId: null, accountId: alice.id, ip: null });
    expect(rows[0].changes).toHaveProperty("periodEnd");
  });
});

describe("sign-ins", () => {
  it("logs a session token's sign-in, and a failed one in the attempted account's log without the password", async () => {
    const ok = `audit-${crypto.randomUUID()}`;
    const headers = { "x-forwarded-for": "198.51.100.4", "user-agent": "curl/8.5.0" };
    expect(
      (await call("POST", "/api/auth/token", { body: { email: bob.email, password: bob.password }, headers: { ...headers, "x-request-id": ok } })).status,
    ).toBe(200);
    expect(await rowsOf(ok)).toMatchObject([
      { action: "auth.sign_in", actorType: "user", actorId: bob.id, accountId: bob.id, targetId: bob.id, ip: "198.51.100.4", userAgent: "curl/8.5.0" },
    ]);

    const bad = `audit-${crypto.randomUUID()}`;
    const wrong = `wrong-${rand()}`;
    secrets.add(wrong);
    expectError(await call("POST", "/api/auth/token", { body: { email: bob.email, password: wrong }, headers: { ...headers, "x-request-id": bad } }), 401);
    const [failed] = await rowsOf(bad);
    expect(failed).toMatchObject({ action: "auth.sign_in_failed", actorType: "user", actorId: null, accountId: bob.id, ip: "198.51.100.4" });
    expect(JSON.stringify(failed)).not.toContain(wrong);

    const unknown = `audit-${crypto.randomUUID()}`;
    await call("POST", "/api/auth/token", { body: { email: `nobody-${rand()}@example.com`, password: wrong }, headers: { "x-request-id": unknown } });
    expect(await rowsOf(unknown)).toMatchObject([{ action: "auth.sign_in_failed", accountId: null, targetId: null }]);
  });

  it("logs the dashboard's sign-in form (NextAuth credentials) the same way", async () => {
    const provider = authOptions().providers[0] as unknown as {
      options: { authorize: (credentials: Record<string, string>, req: { headers: Record<string, string> }) => Promise<{ id: string } | null> };
    };
    const requestId = `audit-${crypto.randomUUID()}`;
    const req = { headers: { "x-forwarded-for": "198.51.100.7", "user-agent": "Mozilla/5.0 audit", "x-request-id": requestId } };
    expect(await provider.options.authorize({ email: bob.email, password: bob.password }, req)).toMatchObject({ id: bob.id });
    expect(await provider.options.authorize({ email: bob.email, password: "not-it" }, req)).toBeNull();
    expect(await rowsOf(requestId)).toMatchObject([
      { action: "auth.sign_in", actorType: "user", actorId: bob.id, accountId: bob.id, ip: "198.51.100.7", userAgent: "Mozilla/5.0 audit" },
      { action: "auth.sign_in_failed", actorId: null, accountId: bob.id, ip: "198.51.100.7" },
    ]);
  });
});

describe("reading the log", () => {
  let carol: TestUser;
  let carolKeys: string[];

  beforeAll(async () => {
    carol = await createUser({ creditUsd: 5 });
    carolKeys = [];
    for (let i = 0; i < 4; i++) {
      const key = await createCreditKey(carol, { name: `k${i}` });
      secrets.add(key.apiKey);
      carolKeys.push(key.id);
      await call("PUT", `/api/keys/${key.id}`, { token: carol.token, body: { isActive: false } });
    }
  });

  async function all(path: string, auth: CallAuth, limit: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const res: ApiResponse = await call("GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, auth);
      expect(res.status, res.text).toBe(200);
      ids.push(...res.json.data.map((r: { id: string }) => r.id));
      cursor = res.json.nextCursor;
    } while (cursor);
    return ids;
  }

  it("pages the caller's own rows newest first, each exactly once", async () => {
    const whole = await call("GET", "/api/audit?limit=200", { token: carol.token });
    expect(whole.json.success).toBe(true);
    // Sign-up, sign-in, the grant, 4 creates and 4 updates.
    expect(whole.json.data.map((r: { action: string }) => r.action)).toEqual([
      ...Array.from({ length: 4 }, () => ["key.update", "key.create"]).flat(),
      "credits.grant",
      "auth.sign_in",
      "account.create",
    ]);
    const ats = whole.json.data.map((r: { at: string }) => r.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    const paged = await all("/api/audit", { token: carol.token }, 3);
    expect(paged).toEqual(whole.json.data.map((r: { id: string }) => r.id));
    expect(new Set(paged).size).toBe(paged.length);
    // The grant was the admin's, in Carol's log.
    expect(whole.json.data.find((r: { action: string }) => r.action === "credits.grant")).toMatchObject({ actorType: "admin", actorId: null });
  });

  it("filters by action, resource, target and time", async () => {
    const auth = { token: carol.token };
    const updates = await call("GET", "/api/audit?action=key.update", auth);
    expect(updates.json.data).toHaveLength(4);
    const keyRows = await call("GET", "/api/audit?action=key", auth);
    expect(keyRows.json.data).toHaveLength(8);
    const one = await call("GET", `/api/audit?targetId=${carolKeys[0]}`, auth);
    expect(one.json.data.map((r: { action: string }) => r.action)).toEqual(["key.update", "key.create"]);
    const newest = updates.json.data[0].at;
    const since = await call("GET", `/api/audit?from=${encodeURIComponent(newest)}`, auth);
    expect(since.json.data.map((r: { id: string }) => r.id)).toEqual([updates.json.data[0].id]);
    const before = await call("GET", `/api/audit?to=2000-01-01`, auth);
    expect(before.json.data).toEqual([]);
    expectError(await call("GET", "/api/audit?from=2026-12-02&to=2026-12-01", auth), 400);
    expectError(await call("GET", "/api/audit?cursor=bm9wZQ", auth), 400, "invalid_cursor");
  });

  it("never shows another account's rows, through any credential or cursor, and shows operators every row", async () => {
    const carolMk = await createManagementKey(carol);
    secrets.add(carolMk.apiKey);
    for (const auth of [{ token: bob.token }, { token: (await createManagementKey(bob)).apiKey }, { headers: sameOriginCookie(bob) }]) {
      const res = await call("GET", "/api/audit?limit=200", auth);
      expect(res.status, res.text).toBe(200);
      for (const row of res.json.data) expect(row.targetId === null || !carolKeys.includes(row.targetId)).toBe(true);
      expect(res.text).not.toContain(carol.id);
      const target = await call("GET", `/api/audit?targetId=${carolKeys[0]}`, auth);
      expect(target.json.data).toEqual([]);
    }
    const viaMk = await call("GET", "/api/audit?limit=200", { token: carolMk.apiKey });
    expect(viaMk.json.data.length).toBeGreaterThan(8);

    // The admin list: every account's rows, narrowed by accountId.
    const admin = await all(`/api/admin/audit?accountId=${carol.id}`, { token: ADMIN_TOKEN }, 4);
    const own = await all("/api/audit", { token: carol.token }, 200);
    expect(admin).toEqual(own);
    const everything = await call("GET", "/api/admin/audit?limit=200&action=model", { token: operator.token });
    expect(everything.status, everything.text).toBe(200);
    expect(everything.json.data.every((r: { accountId?: string; action: string }) => r.action.startsWith("model."))).toBe(true);
    expect((await call("GET", "/api/admin/audit", { token: carol.token })).status).toBe(404);
    expect((await call("GET", "/api/admin/audit", { token: carolMk.apiKey })).status).toBeGreaterThanOrEqual(401);
  });
});

describe("secrets", () => {
  it("never writes a secret into any audit row of this suite: no key, hash, password, upstream key or webhook secret", async () => {
    const rows = await (await prisma()).auditLog.findMany();
    expect(rows.length).toBeGreaterThan(50);
    const text = JSON.stringify(rows);
    for (const secret of secrets) expect(text.includes(secret), `a secret (${secret.slice(0, 6)}…) is in the audit log`).toBe(false);
    expect(text).not.toMatch(/\b(sk_live|sk_pool|mk)_[A-Za-z0-9]{20,}/);
    expect(text).not.toMatch(/whsec_/);
    expect(text).not.toMatch(/\$argon2/);
    expect(text).not.toMatch(/\b[0-9a-f]{64}\b/);
    expect(text).not.toMatch(/"(keyHash|passwordHash|apiKeyCiphertext|headersCiphertext|secretCiphertext)"/);
  });
});
