import { prisma } from "@/lib/db";
import type { Model } from "@/generated/prisma/client.ts";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/http/errors";
import { REQUIRED_ON_CREATE, RESERVED_MODEL_NAME, type ModelView, type UpsertModelInput } from "@/lib/models/schemas";

/**
 * The model catalogue, the gateway's price book, as operators edit it. The
 * gateway reads it from memory (lib/gateway/catalogue.ts), so every write here
 * is followed by invalidateCatalogue(): a new price applies from the next
 * request on, and a deleted model is not found from the next request on.
 */

export function toModelView(row: Model): ModelView {
  return {
    model: row.model,
    provider: row.provider,
    upstreamModel: row.upstreamModel,
    inputUsdPerMTok: microsToUsd(row.inputMicrosPerMTok),
    outputUsdPerMTok: microsToUsd(row.outputMicrosPerMTok),
    maxOutputTokens: row.maxOutputTokens,
    active: row.active,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Every row, active or not, by name. The built-in demo model is not a row. */
export async function listModels(): Promise<ModelView[]> {
  const db = await prisma();
  const rows = await db.model.findMany({ orderBy: { model: "asc" } });
  return rows.map(toModelView);
}

/**
 * Creates the row, or changes the fields sent on an existing one. A create
 * needs every field of REQUIRED_ON_CREATE; an update keeps what it omits.
 */
export async function upsertModel(input: UpsertModelInput): Promise<ModelView> {
  assertNotReserved(input.model);
  const db = await prisma();
  // Prisma skips undefined fields, so these are exactly the fields sent.
  const changes = {
    provider: input.provider,
    upstreamModel: input.upstreamModel,
    inputMicrosPerMTok: input.inputUsdPerMTok === undefined ? undefined : usdToMicros(input.inputUsdPerMTok),
    outputMicrosPerMTok: input.outputUsdPerMTok === undefined ? undefined : usdToMicros(input.outputUsdPerMTok),
    maxOutputTokens: input.maxOutputTokens,
    active: input.active,
  };
  const missing = REQUIRED_ON_CREATE.filter((field) => input[field] === undefined);

  if (missing.length === 0) {
    // One statement (INSERT … ON CONFLICT), so two operators adding the same model at once both succeed.
    const row = await db.model.upsert({
      where: { model: input.model },
      create: {
        model: input.model,
        provider: input.provider!,
        upstreamModel: input.upstreamModel ?? null,
        inputMicrosPerMTok: changes.inputMicrosPerMTok!,
        outputMicrosPerMTok: changes.outputMicrosPerMTok!,
        maxOutputTokens: input.maxOutputTokens!,
        active: input.active ?? true,
      },
      update: changes,
    });
    await invalidateCatalogue();
    return toModelView(row);
  }

  // Without every required field this can only be an update. updateMany
  // changes nothing when the row is missing (or was deleted meanwhile), so a
  // half-described model is never created. (Prisma skips an updateMany with
  // no fields at all, so the name alone only reads the row.)
  let exists = true;
  if (Object.values(changes).some((v) => v !== undefined)) {
    const { count } = await db.model.updateMany({ where: { model: input.model }, data: changes });
    exists = count > 0;
    if (exists) await invalidateCatalogue();
  }
  const row = exists ? await db.model.findUnique({ where: { model: input.model } }) : null;
  if (!row) throw missingOnCreate(input.model, missing);
  return toModelView(row);
}

/** Removes the row; the gateway answers 404 model_not_found for it from the next request on. */
export async function deleteModel(model: string): Promise<void> {
  assertNotReserved(model);
  const db = await prisma();
  const { count } = await db.model.deleteMany({ where: { model } });
  if (count === 0) throw new NotFoundError(`No model named "${model}" is in the catalogue; GET /api/admin/models lists them.`);
  await invalidateCatalogue();
}

function assertNotReserved(model: string): void {
  if (model === RESERVED_MODEL_NAME) {
    throw new ConflictError(
      `"${RESERVED_MODEL_NAME}" is the built-in demo model, answered by Keygate itself: it cannot be added, changed or deleted here. Choose another name; to turn the demo off, set KEYGATE_DEMO_UPSTREAM=off.`,
      "reserved_model",
    );
  }
}

function missingOnCreate(model: string, missing: readonly string[]): BadRequestError {
  const list = missing.join(", ");
  return new BadRequestError(
    `Invalid request body: "${model}" is not in the catalogue yet, so this creates it, and a new model also needs ${list}.`,
    missing.map((field) => ({ path: field, message: `${field} is required to add a new model` })),
    "validation_error",
  );
}
