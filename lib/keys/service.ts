import { prisma } from "@/lib/db";
import type { ApiKey, Subscription } from "@/generated/prisma/client.ts";
import type { UserActor } from "@/lib/auth/actor";
import { balanceMicros } from "@/lib/billing/ledger";
import { formatUsd, microsToUsd, usdToMicros } from "@/lib/billing/money";
import { BadRequestError, ConflictError, NotFoundError, PaymentRequiredError, UnprocessableError } from "@/lib/http/errors";
import { newKey } from "@/lib/keys/format";
import { budgetPeriodEnd, keyPeriodStart } from "@/lib/limits/periods";
import { findModel } from "@/lib/models/catalogue";
import { keysetPage, NEWEST_FIRST, type PageRequest } from "@/lib/paging";
import type { ApiKeyView, CreateCreditKeyInput, CreateSubscriptionKeyInput, UpdateKeyInput } from "@/lib/keys/schemas";
import { effectiveStatus } from "@/lib/subscriptions/service";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";

/**
 * Consumption keys (sk_live_… credit, sk_pool_… subscription). Every query is
 * scoped by owner: another user's key ID is indistinguishable from a missing
 * one (404).
 */

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A key row, with its subscription's status and period end for subscription keys. */
export type ApiKeyRow = ApiKey & { subscription?: Pick<Subscription, "status" | "periodEnd"> | null };

/** What to read with a key row so toApiKeyView can show its subscription. */
const withSubscription = { subscription: { select: { status: true, periodEnd: true } } } as const;

export function toApiKeyView(k: ApiKeyRow, now = Date.now()): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    keyPlan: k.keyType === "subscription" ? "pool" : "credits",
    keyType: k.keyType,
    keyPrefix: k.keyPrefix,
    prefix: k.keyPrefix,
    isActive: k.isActive,
    maxBudget: k.maxBudgetMicros === null ? null : microsToUsd(k.maxBudgetMicros),
    spend: microsToUsd(spendShown(k, now)),
    budgetPeriod: k.budgetPeriod,
    budgetResetsAt: iso(resetsAt(k, now)),
    rpmLimit: k.rpmLimit,
    tpmLimit: k.tpmLimit,
    allowedModels: k.allowedModels.length ? k.allowedModels : null,
    expiresAt: iso(k.expiresAt),
    subscriptionId: k.subscriptionId,
    subscriptionStatus: k.subscription ? effectiveStatus(k.subscription.status, k.subscription.periodEnd, now) : null,
    subscriptionExpiresAt: k.subscription ? k.subscription.periodEnd.toISOString() : null,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: iso(k.lastUsedAt),
  };
}

/** What the audit log shows of a key: its settings as the API shows them (never its hash). */
const AUDITED_FIELDS = [
  "name",
  "keyType",
  "keyPrefix",
  "isActive",
  "maxBudget",
  "budgetPeriod",
  "rpmLimit",
  "tpmLimit",
  "allowedModels",
  "expiresAt",
  "subscriptionId",
] as const satisfies ReadonlyArray<keyof ApiKeyView>;

const audited = (k: ApiKeyRow) => pick(toApiKeyView(k), AUDITED_FIELDS);

/** The spend maxBudget is checked against: the current period's (written by the usage writer), or the lifetime's. */
function spendShown(k: ApiKey, now: number): bigint {
  if (k.budgetPeriod === null) return k.spendMicros;
  const start = keyPeriodStart({ budgetPeriod: k.budgetPeriod, budgetPeriodSetAt: k.budgetPeriodSetAt?.getTime() ?? null }, now);
  // Nothing written for this period yet (a new one began): zero, with nothing to reset.
  return (k.periodStart?.getTime() ?? 0) >= start ? k.periodSpendMicros : BigInt(0);
}

/**
 * An allowlist as stored: every name a model in the catalogue (active or
 * not: an inactive one is simply not served until it is active again), or a
 * 400 naming the unknown ones. null (every model) is stored as [].
 */
async function storedAllowlist(names: string[] | null): Promise<string[]> {
  if (names === null) return [];
  const unknown: string[] = [];
  for (const name of names) if (!(await findModel(name))) unknown.push(name);
  if (unknown.length) {
    const list = unknown.map((n) => `'${n}'`).join(", ");
    throw new BadRequestError(
      `allowedModels names ${unknown.length === 1 ? "a model" : "models"} not in the catalogue: ${list}. The Models page lists the models you can use.`,
      unknown.map((n) => ({ path: "allowedModels", message: `'${n}' is not a model in the catalogue` })),
      "validation_error",
    );
  }
  return names;
}

function resetsAt(k: ApiKey, now: number): Date | null {
  const end = budgetPeriodEnd(k.budgetPeriod, now);
  return end === null ? null : new Date(end);
}

export async function listKeys(actor: UserActor, page: PageRequest) {
  const { userId } = actor;
  const db = await prisma();
  const { items, nextCursor } = await keysetPage(
    page,
    {
      anchor: (id) => db.apiKey.findFirst({ where: { id, userId }, select: { id: true, createdAt: true } }),
      rows: (after, take) => db.apiKey.findMany({ where: { userId, ...after }, orderBy: [...NEWEST_FIRST], take, include: withSubscription }),
    },
    "The cursor does not match any of your keys; start again without it.",
  );
  const now = Date.now();
  return { items: items.map((k) => toApiKeyView(k, now)), nextCursor };
}

export async function createCreditKey(actor: UserActor, input: CreateCreditKeyInput, outer?: Tx) {
  const { userId } = actor;
  // Read before the transaction: the catalogue's own read must not wait on it (PGlite has one connection).
  const allowedModels = await storedAllowlist(input.allowedModels);
  return write(
    actor,
    async (tx, after) => {
      const balance = await balanceMicros(userId, tx);
      if (balance <= BigInt(0)) {
        throw new PaymentRequiredError(`Your credit balance is ${formatUsd(balance)}. Top up your credits before creating a credit key.`);
      }
      const material = newKey("credit");
      const record = await tx.apiKey.create({
        data: {
          userId,
          name: input.name,
          keyType: "credit",
          keyHash: material.hash,
          keyPrefix: material.prefix,
          maxBudgetMicros: input.maxBudget === undefined ? null : usdToMicros(input.maxBudget),
          budgetPeriod: input.budgetPeriod,
          budgetPeriodSetAt: input.budgetPeriod === null ? null : new Date(),
          rpmLimit: input.rpm,
          tpmLimit: input.tpm ?? null,
          allowedModels,
          expiresAt: input.expiresAt ?? null,
        },
      });
      after.keyCreated(record.id, material.hash);
      after.audit({ targetId: record.id, changes: diff(null, audited(record)) });
      return { record, apiKey: material.key };
    },
    outer,
  );
}

/**
 * A key for the named subscription, or without a name for the caller's most
 * recent active one. It has no budget, rate limit or expiry of its own: it
 * works while its subscription does, inside its reserved blocks, and stops at
 * the period end with it.
 */
export async function createSubscriptionKey(actor: UserActor, input: CreateSubscriptionKeyInput, now = Date.now(), outer?: Tx) {
  const { userId } = actor;
  return write(
    actor,
    async (tx, after) => {
      const subscription = await tx.subscription.findFirst({
        where: { userId, status: "active", periodEnd: { gt: new Date(now) }, ...(input.subscriptionId ? { id: input.subscriptionId } : {}) },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        select: { id: true, pool: { select: { name: true } } },
      });
      if (!subscription) {
        throw new ConflictError(
          input.subscriptionId
            ? "That subscription is not an active subscription of yours. GET /api/subscriptions lists yours; renew an expired one with POST /api/subscriptions/:id/renew, or subscribe to a pool with POST /api/pools/:id/subscribe."
            : "You have no active subscription. Reserve time blocks with POST /api/pools/:id/subscribe, then create a key.",
          "no_active_subscription",
        );
      }
      const material = newKey("subscription");
      const record = await tx.apiKey.create({
        data: {
          userId,
          name: input.name ?? `${subscription.pool.name} key`.slice(0, 100),
          keyType: "subscription",
          keyHash: material.hash,
          keyPrefix: material.prefix,
          rpmLimit: null,
          expiresAt: null,
          subscriptionId: subscription.id,
        },
      });
      after.keyCreated(record.id, material.hash);
      after.audit({ targetId: record.id, changes: diff(null, audited(record)) });
      return { id: record.id, apiKey: material.key, isActive: record.isActive };
    },
    outer,
  );
}

/** Changes the fields sent. A paused key is refused from its next request on: the key cache follows before this returns. */
export async function updateKey(actor: UserActor, id: string, patch: UpdateKeyInput, outer?: Tx) {
  const { userId } = actor;
  const allowedModels = patch.allowedModels === undefined ? undefined : await storedAllowlist(patch.allowedModels);
  return write(
    actor,
    async (tx, after) => {
      const existing = await tx.apiKey.findFirst({ where: { id, userId }, include: withSubscription });
      if (!existing) throw keyNotFound();
      if (existing.keyType === "subscription") {
        const notForPool = (["maxBudget", "budgetPeriod", "rpm", "tpm", "allowedModels", "expiresAt"] as const).filter((f) => patch[f] !== undefined);
        if (notForPool.length) {
          throw new UnprocessableError(
            `Subscription keys have no ${notForPool.join(", ")}: they are unlimited during reserved blocks, serve their pool's models and expire with their subscription. Only name and isActive can change.`,
            "not_applicable",
          );
        }
      }
      // A changed budgetPeriod starts a period now (docs/gateway.md): spend before the change never counts against it.
      // The same period sent again changes nothing.
      const periodChanged = patch.budgetPeriod !== undefined && patch.budgetPeriod !== existing.budgetPeriod;
      // updateMany with the owner in the filter: the ownership check and the write
      // are one statement, so nothing can slip between them.
      const { count } = await tx.apiKey.updateMany({
        where: { id, userId },
        data: {
          name: patch.name,
          isActive: patch.isActive,
          budgetPeriod: patch.budgetPeriod,
          ...(periodChanged ? { budgetPeriodSetAt: patch.budgetPeriod === null ? null : new Date() } : {}),
          maxBudgetMicros: patch.maxBudget === undefined ? undefined : patch.maxBudget === null ? null : usdToMicros(patch.maxBudget),
          rpmLimit: patch.rpm,
          tpmLimit: patch.tpm,
          allowedModels,
          expiresAt: patch.expiresAt,
        },
      });
      if (count === 0) throw keyNotFound();
      after.keyChanged(id);
      const updated = await tx.apiKey.findFirst({ where: { id, userId }, include: withSubscription });
      if (!updated) throw keyNotFound();
      after.audit({ targetId: id, changes: diff(audited(existing), audited(updated)) });
      return toApiKeyView(updated);
    },
    outer,
  );
}

export async function deleteKey(actor: UserActor, id: string, outer?: Tx): Promise<void> {
  await write(
    actor,
    async (tx, after) => {
      const existing = await tx.apiKey.findFirst({ where: { id, userId: actor.userId }, include: withSubscription });
      const { count } = await tx.apiKey.deleteMany({ where: { id, userId: actor.userId } });
      if (count === 0 || !existing) throw keyNotFound();
      after.keyDeleted(id);
      after.audit({ targetId: id, changes: diff(audited(existing), null) });
    },
    outer,
  );
}

function keyNotFound() {
  return new NotFoundError("No key with that ID exists in your account.");
}
