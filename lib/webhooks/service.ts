import crypto from "node:crypto";
import type { Actor, UserActor } from "@/lib/auth/actor";
import { decryptSecret, encryptSecret, isCurrentSecret, SecretDecryptionError } from "@/lib/crypto/secrets";
import { prisma } from "@/lib/db";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/http/errors";
import { keysetPage, NEWEST_FIRST, type PageRequest } from "@/lib/paging";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";
import { refusedTarget } from "@/lib/webhooks/address";
import { newDeliveryId, SECRET_CONTEXT } from "@/lib/webhooks/events";
import {
  DELIVERY_PAGE_SIZE,
  MAX_WEBHOOKS,
  WEBHOOK_EVENTS,
  type CreatedWebhook,
  type CreateWebhookInput,
  type DeliveryList,
  type WebhookDeliveryView,
  type WebhookView,
} from "@/lib/webhooks/schemas";
import { CLAIM_MS, deliverClaimed } from "@/lib/webhooks/worker";

/**
 * Webhooks as their owner manages them. Every query is scoped by the owner,
 * so another account's webhook is as unknown as a made-up ID (404). The
 * signing secret is generated here, returned once, and stored only
 * encrypted (context "webhook.secret").
 */

/** A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}

type Row = { id: string; url: string; events: string[]; createdAt: Date };

function view(row: Row): WebhookView {
  const known = new Set<string>(WEBHOOK_EVENTS);
  return {
    id: row.id,
    url: row.url,
    events: row.events.filter((e): e is WebhookView["events"][number] => known.has(e)),
    createdAt: row.createdAt.toISOString(),
  };
}

const VIEW_FIELDS = { id: true, url: true, events: true, createdAt: true } as const;

export async function listWebhooks(actor: UserActor): Promise<WebhookView[]> {
  const db = await prisma();
  const rows = await db.webhook.findMany({ where: { userId: actor.userId }, select: VIEW_FIELDS, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map(view);
}

export async function createWebhook(actor: UserActor, input: CreateWebhookInput, outer?: Tx): Promise<CreatedWebhook> {
  const refused = await refusedTarget(input.url);
  if (refused) throw new BadRequestError(`${refused}. Use a public https:// URL.`, [{ path: "url", message: refused }], "validation_error");
  const secret = newWebhookSecret();
  const row = await write(
    actor,
    async (tx, after) => {
      if ((await tx.webhook.count({ where: { userId: actor.userId } })) >= MAX_WEBHOOKS) {
        throw new ConflictError(`An account can have at most ${MAX_WEBHOOKS} webhooks. Delete one first.`, "webhook_limit");
      }
      const created = await tx.webhook.create({
        data: { userId: actor.userId, url: input.url, events: input.events, secretCiphertext: encryptSecret(secret, SECRET_CONTEXT) },
        select: VIEW_FIELDS,
      });
      // The signing secret passes through the audit filter, which keeps only that one was set.
      after.audit({ targetId: created.id, changes: { ...diff(null, pick(created, ["url", "events"])), secret: [null, secret] } });
      return created;
    },
    outer,
  );
  return { ...view(row), secret };
}

const NOT_FOUND = "No webhook with that ID exists in your account: check the ID (GET /api/webhooks lists them).";

export async function deleteWebhook(actor: UserActor, id: string, outer?: Tx): Promise<void> {
  await write(
    actor,
    async (tx, after) => {
      const before = await tx.webhook.findFirst({ where: { id, userId: actor.userId }, select: { url: true, events: true } });
      // Its pending deliveries go with it (ON DELETE CASCADE): nothing is sent to a deleted webhook.
      const { count } = await tx.webhook.deleteMany({ where: { id, userId: actor.userId } });
      if (!count || !before) throw new NotFoundError(NOT_FOUND);
      after.audit({ targetId: id, changes: diff(before, null) });
    },
    outer,
  );
}

type DeliveryRow = {
  id: string;
  webhookId: string;
  type: string;
  status: WebhookDeliveryView["status"];
  attempts: number;
  lastStatusCode: number | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
};

function deliveryView(d: DeliveryRow): WebhookDeliveryView {
  return {
    id: d.id,
    webhookId: d.webhookId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    nextAttemptAt: d.status === "pending" && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
  };
}

const DELIVERY_FIELDS = {
  id: true,
  webhookId: true,
  type: true,
  status: true,
  attempts: true,
  lastStatusCode: true,
  nextAttemptAt: true,
  createdAt: true,
} as const;

async function ownWebhook(actor: UserActor, id: string) {
  const db = await prisma();
  const hook = await db.webhook.findFirst({ where: { id, userId: actor.userId }, select: { id: true } });
  if (!hook) throw new NotFoundError(NOT_FOUND);
  return hook;
}

/** A webhook's delivery log, newest first, a page at a time. */
export async function listDeliveries(actor: UserActor, webhookId: string, page: PageRequest): Promise<DeliveryList> {
  await ownWebhook(actor, webhookId);
  const db = await prisma();
  const { items, nextCursor } = await keysetPage(
    { limit: page.limit ?? DELIVERY_PAGE_SIZE, cursor: page.cursor },
    {
      anchor: (id) => db.webhookDelivery.findFirst({ where: { id, webhookId }, select: { id: true, createdAt: true } }),
      rows: (after, take) => db.webhookDelivery.findMany({ where: { webhookId, ...after }, select: DELIVERY_FIELDS, orderBy: [...NEWEST_FIRST], take }),
    },
    "The cursor does not match a delivery of this webhook. Start again without it.",
  );
  return { deliveries: items.map(deliveryView), nextCursor };
}

/**
 * Sends a `webhook.test` event to this webhook now, whatever events it
 * subscribes to: it joins the outbox like any event and its first attempt is
 * made before this answers, so the result shows its outcome (a failure is
 * retried on the usual schedule).
 */
export async function sendTestEvent(actor: UserActor, webhookId: string): Promise<WebhookDeliveryView> {
  const db = await prisma();
  const hook = await db.webhook.findFirst({ where: { id: webhookId, userId: actor.userId }, select: { id: true, url: true, secretCiphertext: true } });
  if (!hook) throw new NotFoundError(NOT_FOUND);
  const now = new Date();
  const data = { webhookId: hook.id, message: "A test event from Keygate." };
  // Written already claimed by this request, so no worker takes it before the first attempt below.
  const claim = { id: newDeliveryId(), token: crypto.randomUUID(), lockedUntil: new Date(now.getTime() + CLAIM_MS) };
  await write(actor, async (tx, after) => {
    after.audit({ targetId: hook.id, changes: { deliveryId: [null, claim.id] } });
    return tx.webhookDelivery.create({
      data: {
        id: claim.id,
        webhookId: hook.id,
        type: "webhook.test",
        payload: data,
        nextAttemptAt: now,
        createdAt: now,
        lockedUntil: claim.lockedUntil,
        lockToken: claim.token,
      },
    });
  });
  await deliverClaimed({
    id: claim.id,
    webhookId: hook.id,
    type: "webhook.test",
    payload: data,
    attempts: 0,
    createdAt: now,
    url: hook.url,
    secretCiphertext: hook.secretCiphertext,
    token: claim.token,
  });
  return deliveryView(await db.webhookDelivery.findUniqueOrThrow({ where: { id: claim.id }, select: DELIVERY_FIELDS }));
}

/**
 * `npm run secrets:reencrypt`: seals every webhook's signing secret with the
 * current key. Secrets that no key opens are listed (by webhook id): their
 * owners must delete the webhook and add it again.
 */
export async function reencryptWebhookSecrets(actor: Actor): Promise<{ reencrypted: number; failed: string[] }> {
  return write(actor, async (tx) => {
    const result = { reencrypted: 0, failed: [] as string[] };
    for (const row of await tx.webhook.findMany({ select: { id: true, secretCiphertext: true }, orderBy: { id: "asc" } })) {
      if (isCurrentSecret(row.secretCiphertext)) continue;
      let plain: string;
      try {
        plain = decryptSecret(row.secretCiphertext, SECRET_CONTEXT);
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        result.failed.push(row.id);
        continue;
      }
      await tx.webhook.update({ where: { id: row.id }, data: { secretCiphertext: encryptSecret(plain, SECRET_CONTEXT) } });
      result.reencrypted++;
    }
    return result;
  });
}
