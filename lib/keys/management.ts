import type { UserActor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import type { ManagementKey } from "@/generated/prisma/client.ts";
import { NotFoundError } from "@/lib/http/errors";
import { newKey } from "@/lib/keys/format";
import { knownScopes } from "@/lib/keys/scopes";
import { write, type Tx } from "@/lib/writes/unit";
import { diff, pick } from "@/lib/audit/changes";
import type { BillingKeyView, CreateManagementKeyInput, ManagementKeyView, UpdateManagementKeyInput } from "@/lib/keys/schemas";

/** Management keys (mk_…). Only a signed-in session reaches these functions. */

export function toManagementKeyView(k: ManagementKey): ManagementKeyView {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    isActive: k.isActive,
    scopes: knownScopes(k.scopes),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
  };
}

/** The same key in the ModelSwitch billing-key shape. */
export function toBillingKeyView(k: ManagementKey): BillingKeyView {
  return {
    id: k.id,
    name: k.name,
    prefix: k.keyPrefix,
    active: k.isActive,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    scopes: knownScopes(k.scopes),
  };
}

/** What the audit log shows of a management key (never its hash). */
const audited = (k: ManagementKey) => pick(toManagementKeyView(k), ["name", "keyPrefix", "isActive", "expiresAt"]);

export async function listManagementKeys(actor: UserActor): Promise<ManagementKey[]> {
  const db = await prisma();
  return db.managementKey.findMany({ where: { userId: actor.userId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
}

export async function createManagementKey(actor: UserActor, input: CreateManagementKeyInput, outer?: Tx) {
  return write(
    actor,
    async (tx, after) => {
      const material = newKey("management");
      const record = await tx.managementKey.create({
        data: {
          userId: actor.userId,
          name: input.name,
          keyHash: material.hash,
          keyPrefix: material.prefix,
          scopes: input.scopes,
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

/** Renames or pauses a key. A paused key is refused from its next request on: the key cache follows before this returns. */
export async function updateManagementKey(actor: UserActor, id: string, patch: UpdateManagementKeyInput, outer?: Tx): Promise<ManagementKeyView> {
  const where = { id, userId: actor.userId };
  return write(
    actor,
    async (tx, after) => {
      const before = await tx.managementKey.findFirst({ where });
      // The owner is in the filter: the ownership check and the write are one statement.
      const { count } = await tx.managementKey.updateMany({ where, data: { name: patch.name, isActive: patch.isActive } });
      if (count === 0 || !before) throw managementKeyNotFound();
      after.keyChanged(id);
      const updated = await tx.managementKey.findFirst({ where });
      if (!updated) throw managementKeyNotFound();
      after.audit({ targetId: id, changes: diff(audited(before), audited(updated)) });
      return toManagementKeyView(updated);
    },
    outer,
  );
}

export async function deleteManagementKey(actor: UserActor, id: string, outer?: Tx): Promise<void> {
  await write(
    actor,
    async (tx, after) => {
      const before = await tx.managementKey.findFirst({ where: { id, userId: actor.userId } });
      const { count } = await tx.managementKey.deleteMany({ where: { id, userId: actor.userId } });
      if (count === 0 || !before) throw managementKeyNotFound();
      after.keyDeleted(id);
      after.audit({ targetId: id, changes: diff(audited(before), null) });
    },
    outer,
  );
}

function managementKeyNotFound() {
  return new NotFoundError("No management key with that ID exists in your account.");
}
