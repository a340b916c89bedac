import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { ConfigError, env, resetEnvCache, stripeSettings } from "@/lib/env";
import { responseSchema } from "@/lib/openapi";
import { call, createUser, expectError, type ApiResponse, type TestUser } from "./api";
import { createManagementKey } from "./fixtures";
import { logger } from "@/lib/ops/logger";

/**
 * Card top-ups: Checkout Sessions go to a fake Stripe on loopback, and
 * webhook events are signed locally with the test secret, so nothing here
 * reaches Stripe's servers.
 */

const SECRET_KEY = "sk_test_keygate0123456789";
const WEBHOOK_SECRET = "whsec_keygate_test_0123456789abcdef";

interface StripeCall {
  method: string;
  path: string;
  authorization: string | undefined;
  params: URLSearchParams;
}

/** Answers POST /v1/checkout/sessions like Stripe, and records what it was sent. */
function fakeStripe() {
  const calls: StripeCall[] = [];
  let failNext = false;
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      calls.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, params: new URLSearchParams(body) });
      res.setHeader("content-type", "application/json");
      if (req.method !== "POST" || req.url !== "/v1/checkout/sessions") {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "Unrecognized request URL" } }));
      } else if (failNext) {
        failNext = false;
        // A 400 is not retried, so the test sees exactly one call.
        res.statusCode = 400;
        res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "Invalid API Key provided: sk_test_***" } }));
      } else {
        const id = `cs_test_${crypto.randomBytes(8).toString("hex")}`;
        res.end(JSON.stringify({ id, object: "checkout.session", url: `https://checkout.stripe.com/c/pay/${id}` }));
      }
    });
  });
  return {
    calls,
    failNextCall: () => void (failNext = true),
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const stripe = fakeStripe();
const STRIPE_VARS = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"] as const;
const saved = Object.fromEntries(STRIPE_VARS.map((k) => [k, process.env[k]]));
let apiBase: string;

function configureStripe(on: boolean) {
  process.env.STRIPE_SECRET_KEY = on ? SECRET_KEY : "";
  process.env.STRIPE_WEBHOOK_SECRET = on ? WEBHOOK_SECRET : "";
  process.env.STRIPE_API_BASE = apiBase;
  resetEnvCache();
}

beforeAll(async () => {
  apiBase = `http://127.0.0.1:${await stripe.listen()}`;
});

beforeEach(() => {
  configureStripe(true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const k of STRIPE_VARS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  resetEnvCache();
  await stripe.close();
});

/** Fails unless the status is one the operation documents and the body matches its schema. */
function expectDocumented(method: string, path: string, res: ApiResponse) {
  const schema = responseSchema(method, path, res.status);
  expect(schema, `${method} ${path} answered ${res.status}, which is not documented: ${res.text}`).toBeDefined();
  const parsed = schema!.safeParse(res.json);
  expect(parsed.success, `${method} ${path} ${res.status}: ${parsed.error?.message}`).toBe(true);
}

async function balance(user: TestUser): Promise<number> {
  const res = await call("GET", "/api/billing/status", { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.json.data.balance;
}

async function ledger(userId: string) {
  return (await prisma()).ledgerEntry.findMany({ where: { userId }, orderBy: { createdAt: "asc" } });
}

const randomId = (prefix: string) => `${prefix}_${crypto.randomBytes(10).toString("hex")}`;

/** A checkout.session.completed event as Stripe sends it, trimmed to what matters plus some noise. */
function completedEvent(userId: string, cents: number, session: Record<string, unknown> = {}, event: Record<string, unknown> = {}) {
  return {
    id: randomId("evt"),
    object: "event",
    api_version: "2025-01-01",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "checkout.session.completed",
    data: {
      object: {
        id: randomId("cs_test"),
        object: "checkout.session",
        mode: "payment",
        status: "complete",
        payment_status: "paid",
        currency: "usd",
        amount_subtotal: cents,
        amount_total: cents,
        client_reference_id: userId,
        metadata: { userId },
        customer_details: { email: "payer@example.com", name: "Zoë Ünïcode" },
        ...session,
      },
    },
    ...event,
  };
}

async function deliver(event: unknown, opts: { secret?: string; signature?: string | null; timestamp?: number; payload?: string } = {}) {
  const payload = opts.payload ?? JSON.stringify(event, null, 2);
  const signature =
    opts.signature === undefined
      ? Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET, timestamp: opts.timestamp })
      : opts.signature;
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" };
  if (signature !== null) headers["stripe-signature"] = signature;
  const res = await call("POST", "/api/billing/webhook", { body: payload, headers });
  expectDocumented("POST", "/api/billing/webhook", res);
  return res;
}

describe("Stripe configuration", () => {
  it("is on only with both variables, and refuses a publishable key or a webhook secret that is not one, naming the variable", () => {
    expect(stripeSettings()).toMatchObject({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET });
    process.env.STRIPE_WEBHOOK_SECRET = " ";
    resetEnvCache();
    expect(stripeSettings()).toBeNull();
    for (const [name, value] of [
      ["STRIPE_SECRET_KEY", "pk_live_abc123"],
      ["STRIPE_SECRET_KEY", "whsec_abc"],
      ["STRIPE_WEBHOOK_SECRET", "sk_test_abc"],
      ["STRIPE_API_BASE", "ftp://127.0.0.1:21"],
    ]) {
      configureStripe(true);
      process.env[name] = value;
      resetEnvCache();
      expect(() => env(), `${name}=${value}`).toThrow(ConfigError);
      expect(() => env()).toThrow(name);
    }
    configureStripe(true);
    process.env.STRIPE_SECRET_KEY = "rk_live_restricted123";
    resetEnvCache();
    expect(stripeSettings()?.secretKey).toBe("rk_live_restricted123");
  });
});

describe("card top-ups switched off", () => {
  it("answers checkout and the webhook with 404 stripe_not_configured while either Stripe variable is unset, and calls nobody", async () => {
    const user = await createUser();
    for (const [secretKey, webhookSecret] of [
      ["", ""],
      [SECRET_KEY, ""],
      ["", WEBHOOK_SECRET],
    ]) {
      process.env.STRIPE_SECRET_KEY = secretKey;
      process.env.STRIPE_WEBHOOK_SECRET = webhookSecret;
      resetEnvCache();
      const before = stripe.calls.length;
      const checkout = await call("POST", "/api/billing/checkout", { token: user.token, body: { amountUsd: 25 } });
      expectError(checkout, 404, "stripe_not_configured");
      expectDocumented("POST", "/api/billing/checkout", checkout);
      expect(checkout.json.error.message).toContain("STRIPE_SECRET_KEY");
      const event = completedEvent(user.id, 2500);
      const payload = JSON.stringify(event);
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const hook = await call("POST", "/api/billing/webhook", { body: payload, headers: { "stripe-signature": signature } });
      expectError(hook, 404, "stripe_not_configured");
      expect(stripe.calls.length).toBe(before);
    }
    configureStripe(true);
    expect(await ledger(user.id)).toEqual([]);
  });
});

describe("POST /api/billing/checkout", () => {
  it("opens a Checkout Session for the amount in cents, in USD, naming the caller, and answers 201 with its id and URL", async () => {
    const user = await createUser();
    const before = stripe.calls.length;
    const res = await call("POST", "/api/billing/checkout", { token: user.token, body: { amountUsd: 25.5 } });
    expect(res.status, res.text).toBe(201);
    expectDocumented("POST", "/api/billing/checkout", res);
    expect(res.json.data.id).toMatch(/^cs_test_/);
    expect(res.json.data.url).toBe(`https://checkout.stripe.com/c/pay/${res.json.data.id}`);

    expect(stripe.calls.length).toBe(before + 1);
    const sent = stripe.calls[stripe.calls.length - 1];
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe("/v1/checkout/sessions");
    expect(sent.authorization).toBe(`Bearer ${SECRET_KEY}`);
    const p = sent.params;
    expect(p.get("mode")).toBe("payment");
    expect(p.get("line_items[0][quantity]")).toBe("1");
    expect(p.get("line_items[0][price_data][unit_amount]")).toBe("2550");
    expect(p.get("line_items[0][price_data][currency]")).toBe("usd");
    expect(p.get("line_items[0][price_data][product_data][name]")).toBe("Keygate credit");
    expect(p.get("client_reference_id")).toBe(user.id);
    expect(p.get("metadata[userId]")).toBe(user.id);
    expect(p.get("payment_intent_data[metadata][userId]")).toBe(user.id);
    expect(p.get("customer_email")).toBe(user.email);
    // Back to the Billing page (NEXTAUTH_URL in the tests), with Stripe's placeholder left for Stripe.
    expect(p.get("success_url")).toBe("http://localhost:3000/billing?topup=success&session_id={CHECKOUT_SESSION_ID}");
    expect(p.get("cancel_url")).toBe("http://localhost:3000/billing?topup=cancelled");
    // Opening a session credits nothing: only the paid webhook does.
    expect(await ledger(user.id)).toEqual([]);
  });

  it("accepts a management key, and converts every cent amount exactly (0.29 × 100 is not 29 in floating point)", async () => {
    const user = await createUser();
    const mk = await createManagementKey(user);
    for (const [amountUsd, cents] of [
      [5, "500"],
      [10_000, "1000000"],
      [19.99, "1999"],
      [1234.29, "123429"],
      [5.01, "501"],
    ] as const) {
      const res = await call("POST", "/api/billing/checkout", { token: mk.apiKey, body: { amountUsd } });
      expect(res.status, res.text).toBe(201);
      expect(stripe.calls[stripe.calls.length - 1].params.get("line_items[0][price_data][unit_amount]")).toBe(cents);
    }
  });

  it("refuses amounts under $5, over $10,000, with fractions of a cent, or not numbers, with 400 and without calling Stripe", async () => {
    const user = await createUser();
    const before = stripe.calls.length;
    for (const amountUsd of [4.99, 0, -10, 10_000.01, 12.345, 5.001, "25", null, undefined]) {
      const res = await call("POST", "/api/billing/checkout", { token: user.token, body: { amountUsd } });
      expectError(res, 400, "validation_error");
      expectDocumented("POST", "/api/billing/checkout", res);
      expect(res.text).toContain("amountUsd");
    }
    expectError(await call("POST", "/api/billing/checkout", { token: user.token, body: { amountUsd: 25, userId: "someone-else" } }), 400, "validation_error");
    expect(stripe.calls.length).toBe(before);
  });

  it("needs credentials (401), and answers 502 stripe_error without Stripe's message when Stripe refuses", async () => {
    expectError(await call("POST", "/api/billing/checkout", { body: { amountUsd: 25 } }), 401);
    const user = await createUser();
    const errors = vi.spyOn(logger(), "error").mockImplementation(() => {});
    stripe.failNextCall();
    const res = await call("POST", "/api/billing/checkout", { token: user.token, body: { amountUsd: 25 } });
    expectError(res, 502, "stripe_error");
    expectDocumented("POST", "/api/billing/checkout", res);
    expect(res.text).not.toContain("API Key");
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("Invalid API Key"));
  });
});

describe("POST /api/billing/webhook", () => {
  it("refuses a missing, wrong, foreign-secret or stale signature, and a body changed after signing, with 400 invalid_signature, crediting nothing", async () => {
    const user = await createUser();
    const event = completedEvent(user.id, 5000);
    const payload = JSON.stringify(event);
    const attempts: Array<[string, Parameters<typeof deliver>[1]]> = [
      ["missing", { payload, signature: null }],
      ["garbage", { payload, signature: "not-a-signature" }],
      ["other secret", { payload, secret: "whsec_someone_elses_endpoint" }],
      // Stripe's tolerance is five minutes: an old delivery captured off the wire is refused.
      ["stale", { payload, timestamp: Math.floor(Date.now() / 1000) - 600 }],
      [
        "tampered",
        {
          payload: payload.replace('"amount_total":5000', '"amount_total":500000'),
          signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
        },
      ],
    ];
    for (const [what, opts] of attempts) {
      const res = await deliver(event, opts);
      expect(res.status, `${what}: ${res.text}`).toBe(400);
      expect(res.json.error.code, what).toBe("invalid_signature");
    }
    expect(await ledger(user.id)).toEqual([]);
    expect(await balance(user)).toBe(0);
  });

  it("credits a paid checkout.session.completed to the account it names: the balance goes up by exactly amount_total / 100", async () => {
    const user = await createUser({ creditUsd: 1.5 });
    const event = completedEvent(user.id, 2550);
    const res = await deliver(event);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, data: { received: true, outcome: "credited" } });
    expect(await balance(user)).toBe(27);
    const topups = (await ledger(user.id)).filter((e) => e.kind === "topup");
    expect(topups).toHaveLength(1);
    expect(topups[0]).toMatchObject({ amountMicros: BigInt(25_500_000), idempotencyKey: `stripe:${event.data.object.id}` });
    expect(topups[0].note).toContain(event.data.object.id);
  });

  it("credits a replayed event once: the second delivery answers 200 duplicate, as does another event for the same session", async () => {
    const user = await createUser();
    const event = completedEvent(user.id, 1000);
    const payload = JSON.stringify(event);
    expect((await deliver(event, { payload })).json.data.outcome).toBe("credited");
    // The very same delivery again, then a fresh signature on the same event.
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    expect((await deliver(event, { payload, signature })).json.data.outcome).toBe("duplicate");
    expect((await deliver(event, { payload, signature })).json.data.outcome).toBe("duplicate");
    expect((await deliver(event)).json.data.outcome).toBe("duplicate");
    const later = completedEvent(user.id, 1000, { id: event.data.object.id }, { type: "checkout.session.async_payment_succeeded" });
    expect((await deliver(later)).json.data.outcome).toBe("duplicate");
    expect(await balance(user)).toBe(10);
    expect(await ledger(user.id)).toHaveLength(1);
  });

  it("credits once when the same event arrives twice at the same moment", async () => {
    const user = await createUser();
    const event = completedEvent(user.id, 777);
    const outcomes = await Promise.all([deliver(event), deliver(event), deliver(event)]);
    expect(outcomes.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(outcomes.map((r) => r.json.data.outcome).sort()).toEqual(["credited", "duplicate", "duplicate"]);
    expect(await balance(user)).toBe(7.77);
    expect(await ledger(user.id)).toHaveLength(1);
  });

  it("acknowledges event types it does not act on with 200 ignored, and credits nothing", async () => {
    const user = await createUser();
    for (const type of ["payment_intent.succeeded", "charge.refunded", "checkout.session.expired", "customer.created"]) {
      const res = await deliver(completedEvent(user.id, 5000, {}, { type }));
      expect(res.status, res.text).toBe(200);
      expect(res.json.data).toEqual({ received: true, outcome: "ignored" });
    }
    expect(await ledger(user.id)).toEqual([]);
  });

  it("waits for the money: an unpaid completion is ignored, and its async_payment_succeeded credits it", async () => {
    const user = await createUser();
    const unpaid = completedEvent(user.id, 4200, { payment_status: "unpaid" });
    expect((await deliver(unpaid)).json.data.outcome).toBe("ignored");
    expect(await balance(user)).toBe(0);
    const paid = completedEvent(user.id, 4200, { id: unpaid.data.object.id }, { type: "checkout.session.async_payment_succeeded" });
    expect((await deliver(paid)).json.data.outcome).toBe("credited");
    expect(await balance(user)).toBe(42);
  });

  it("ignores sessions Keygate did not open (no account named, another currency, subscriptions) with 200", async () => {
    const user = await createUser();
    const foreign = [
      completedEvent(user.id, 5000, { client_reference_id: null, metadata: {} }),
      completedEvent(user.id, 5000, { currency: "eur" }),
      completedEvent(user.id, 5000, { mode: "subscription" }),
      completedEvent(user.id, 0, {}),
    ];
    for (const event of foreign) expect((await deliver(event)).json.data.outcome).toBe("ignored");
    expect(await ledger(user.id)).toEqual([]);
  });

  it("falls back to client_reference_id when the metadata was removed", async () => {
    const user = await createUser();
    expect((await deliver(completedEvent(user.id, 600, { metadata: {} }))).json.data.outcome).toBe("credited");
    expect(await balance(user)).toBe(6);
  });

  it("answers 200 unknown_user for an account that no longer exists, logging it for the operator instead of making Stripe retry", async () => {
    const errors = vi.spyOn(logger(), "error").mockImplementation(() => {});
    const event = completedEvent("cm_deleted_account_0001", 9900);
    const res = await deliver(event);
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.outcome).toBe("unknown_user");
    expect(errors).toHaveBeenCalledWith(expect.stringContaining(event.data.object.id));
    expect(await (await prisma()).ledgerEntry.count({ where: { idempotencyKey: `stripe:${event.data.object.id}` } })).toBe(0);
  });

  it("converts cents to micro-dollars exactly, from one cent to the largest top-up, with no float drift across many", async () => {
    const user = await createUser();
    const cents = [1, 10, 20, 29, 1999, 123_429, 1_000_000];
    for (const c of cents) expect((await deliver(completedEvent(user.id, c))).json.data.outcome).toBe("credited");
    const amounts = (await ledger(user.id)).map((e) => e.amountMicros).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(amounts).toEqual(cents.map((c) => BigInt(c) * BigInt(10_000)));
    const total = cents.reduce((a, b) => a + b, 0);
    const row = await (await prisma()).user.findUnique({ where: { id: user.id }, select: { balanceMicros: true } });
    expect(row?.balanceMicros).toBe(BigInt(total) * BigInt(10_000));
    expect(await balance(user)).toBe(total / 100);
  });

  it("refuses a body that is not a Stripe event with 400 before anything else", async () => {
    const res = await deliver(null, { payload: '{"hello":"world"}' });
    expectError(res, 400, "validation_error");
    const notJson = await deliver(null, { payload: "id=evt_1&type=checkout.session.completed" });
    expectError(notJson, 400, "invalid_json");
  });
});
