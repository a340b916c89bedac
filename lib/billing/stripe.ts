import Stripe from "stripe";
import type { Actor, UserActor } from "@/lib/auth/actor";
import { serverOrigin } from "@/lib/auth/caller";
import { appendEntry, balanceChange } from "@/lib/billing/ledger";
import { isUniqueViolation, prisma } from "@/lib/db";
import { env, publicOrigin, stripeSettings } from "@/lib/env";
import { write } from "@/lib/writes/unit";
import { BadRequestError, HttpError, NotFoundError } from "@/lib/http/errors";
import { logger } from "@/lib/ops/logger";

/**
 * Card top-ups through Stripe Checkout. Keygate never sees a card: it opens
 * a Checkout Session for the signed-in account, and credits the account when
 * Stripe's signed webhook says the session was paid.
 */

const MICROS_PER_CENT = BigInt(10_000);

function requireStripe() {
  const settings = stripeSettings();
  if (!settings) {
    throw new NotFoundError(
      "Card top-ups are not available on this server: the operator has not configured Stripe (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET).",
      "stripe_not_configured",
    );
  }
  return settings;
}

let cachedClient: { config: string; client: Stripe } | undefined;

function stripeClient(settings: NonNullable<ReturnType<typeof stripeSettings>>): Stripe {
  const config = `${settings.secretKey} ${settings.apiBase?.href ?? ""}`;
  if (cachedClient?.config !== config) {
    const base = settings.apiBase;
    const client = new Stripe(settings.secretKey, {
      timeout: 20_000,
      maxNetworkRetries: 2,
      appInfo: { name: "Keygate" },
      ...(base
        ? { host: base.hostname, port: base.port || (base.protocol === "http:" ? 80 : 443), protocol: base.protocol === "http:" ? "http" : "https" }
        : {}),
    });
    cachedClient = { config, client };
  }
  return cachedClient.client;
}

/**
 * Where Stripe sends the browser back: the Billing page at NEXTAUTH_URL when
 * the operator set one, else at the origin this request reached.
 */
function billingPageUrl(req: Request): string {
  const configured = env().NEXTAUTH_URL;
  const origin = configured ? new URL(configured).origin : (serverOrigin(req) ?? publicOrigin());
  return `${origin}/billing`;
}

export async function createTopUpCheckout(actor: UserActor, req: Request, amountUsd: number): Promise<{ id: string; url: string }> {
  const { userId } = actor;
  const settings = requireStripe();
  const db = await prisma();
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true } });
  const billing = billingPageUrl(req);
  const unitAmount = Math.round(amountUsd * 100);
  let session: Stripe.Checkout.Session;
  try {
    session = await stripeClient(settings).checkout.sessions.create({
      mode: "payment",
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "usd", unit_amount: unitAmount, product_data: { name: "Keygate credit" } },
        },
      ],
      // The webhook credits the account named here; both carry it so either
      // survives someone editing the session's metadata in Stripe's dashboard.
      client_reference_id: userId,
      metadata: { userId },
      payment_intent_data: { metadata: { userId } },
      customer_email: user?.email,
      // Stripe fills in {CHECKOUT_SESSION_ID} itself, so it must stay unencoded.
      success_url: `${billing}?topup=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${billing}?topup=cancelled`,
    });
  } catch (err) {
    logger().error(`stripe: creating a Checkout Session failed: ${err instanceof Error ? err.message : String(err)}`);
    throw new HttpError(502, "stripe_error", "Stripe did not open a payment page. Nothing was charged; please try again in a moment.");
  }
  if (!session.url) {
    logger().error(`stripe: Checkout Session ${session.id} came back without a URL`);
    throw new HttpError(502, "stripe_error", "Stripe did not open a payment page. Nothing was charged; please try again in a moment.");
  }
  return { id: session.id, url: session.url };
}

/** The event, if Stripe signed exactly these bytes with our webhook secret (and recently: replay protection). */
export function verifyStripeEvent(rawBody: string, signature: string | null): Stripe.Event {
  const { webhookSecret } = requireStripe();
  if (!signature) {
    throw new BadRequestError("The Stripe-Signature header is missing; only Stripe can call this endpoint.", undefined, "invalid_signature");
  }
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch {
    throw new BadRequestError(
      "The Stripe-Signature header does not match this body, or is too old. Check that STRIPE_WEBHOOK_SECRET is this endpoint's signing secret.",
      undefined,
      "invalid_signature",
    );
  }
}

export type WebhookOutcome = "credited" | "duplicate" | "ignored" | "unknown_user";

/**
 * Acts on a verified event. Whatever cannot be acted on still answers 200:
 * a non-2xx makes Stripe retry for days, which helps only when retrying can
 * succeed (a database outage, answered 500).
 */
export async function handleStripeEvent(actor: Actor, event: Stripe.Event): Promise<WebhookOutcome> {
  // Delayed payment methods (bank debits) complete unpaid and succeed later.
  if (event.type !== "checkout.session.completed" && event.type !== "checkout.session.async_payment_succeeded") return "ignored";
  const session = event.data.object;
  if (session.payment_status !== "paid" || session.mode !== "payment") return "ignored";
  const userId = session.metadata?.userId ?? session.client_reference_id;
  if (!userId || session.currency !== "usd" || !session.amount_total || session.amount_total <= 0) {
    // A session Keygate did not open (the Stripe account may serve other things too).
    logger().warn(`stripe: ${event.type} ${event.id} for ${session.id} ignored: not a Keygate top-up`);
    return "ignored";
  }
  return creditTopUp(actor, { userId, sessionId: session.id, cents: session.amount_total, eventId: event.id });
}

async function creditTopUp(actor: Actor, input: { userId: string; sessionId: string; cents: number; eventId: string }): Promise<WebhookOutcome> {
  const amountMicros = BigInt(input.cents) * MICROS_PER_CENT;
  // Keyed by Checkout Session rather than by event: a redelivered event
  // carries the same session, and so would the second of the two event types
  // above if Stripe ever sent both; either way the session was paid once.
  const idempotencyKey = `stripe:${input.sessionId}`;
  const db = await prisma();
  if (await db.ledgerEntry.findUnique({ where: { idempotencyKey }, select: { id: true } })) return "duplicate";
  try {
    const credited = await write(actor, async (tx, after) => {
      const user = await tx.user.findUnique({ where: { id: input.userId }, select: { id: true, balanceMicros: true } });
      if (!user) return false;
      const entry = await appendEntry(tx, after, {
        userId: user.id,
        kind: "topup",
        amountMicros,
        note: `Card top-up (Stripe ${input.sessionId})`,
        idempotencyKey,
      });
      after.audit({ targetId: user.id, accountId: user.id, changes: balanceChange(user.balanceMicros, user.balanceMicros + amountMicros, entry.note) });
      return true;
    });
    if (!credited) {
      logger().error(
        `[stripe] paid Checkout Session ${input.sessionId} (event ${input.eventId}, ${input.cents} cents) names account ${input.userId}, which does not exist; nothing was credited. Refund it in Stripe or grant the credit by hand.`,
      );
      return "unknown_user";
    }
  } catch (err) {
    // Two deliveries of the same event racing: the other one credited it.
    if (isUniqueViolation(err)) return "duplicate";
    throw err;
  }
  logger().info(`stripe: credited ${input.cents} cents to account ${input.userId} for Checkout Session ${input.sessionId}`);
  return "credited";
}
