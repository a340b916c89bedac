import { prisma } from "@/lib/db";
import type { ManagementKey } from "@/generated/prisma/client.ts";
import { NotFoundError } from "@/lib/http/errors";
import { newKey } from "@/lib/keys/format";
import { invalidateKey, keyCreated } from "@/lib/keys/verify";
import type { BillingKeyView, CreateManagementKeyInput, ManagementKeyView, UpdateManagementKeyInput } from "@/lib/keys/schemas";

/** Management keys (mk_…). Only a signed-in session reaches these functions. */

export function toManagementKeyView(k: ManagementKey): ManagementKeyView {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    isActive: k.isActive,
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
  };
}

export async function listManagementKeys(userId: string): Promise<ManagementKey[]> {
  const db = await prisma();
  return db.managementKey.findMany({ where: { userId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
}

export async function createManagementKey(userId: string, input: CreateManagementKeyInput) {
  const db = await prisma();
  const material = newKey("management");
  const record = await db.managementKey.create({
    data: {
      userId,
      name: input.name,
      keyHash: material.hash,
      keyPrefix: material.prefix,
      expiresAt: input.expiresAt ?? null,
    },
  });
  await keyCreated(material.hash);
  return { record, apiKey: material.key };
}

/** Renames or pauses a key. A paused key is refused from its next request on: the key cache is invalidated before this returns. */
export async function updateManagementKey(userId: string, id: string, patch: UpdateManagementKeyInput): Promise<ManagementKeyView> {
  const db = await prisma();
  // The owner is in the filter: the ownership check and the write are one statement.
  const { count } = await db.managementKey.updateMany({ where: { id, userId }, data: { name: patch.name, isActive: patch.isActive } });
  await invalidateKey(id);
  if (count === 0) throw managementKeyNotFound();
  const updated = await db.managementKey.findFirst({ where: { id, userId } });
  if (!updated) throw managementKeyNotFound();
  return toManagementKeyView(updated);
}

export async function deleteManagementKey(userId: string, id: string): Promise<void> {
  const db = await prisma();
  const { count } = await db.managementKey.deleteMany({ where: { id, userId } });
  await invalidateKey(id);
  if (count === 0) throw managementKeyNotFound();
}

function managementKeyNotFound() {
  return new NotFoundError("No management key with that ID exists in your account.");
}
