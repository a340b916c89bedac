import type { Actor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { Prisma, type Model, type ModelRoute } from "@/generated/prisma/client.ts";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/http/errors";
import { REQUIRED_ON_CREATE, RESERVED_MODEL_NAME, type ModelView, type RouteInput, type UpsertModelInput } from "@/lib/models/schemas";
import { environmentUpstreams } from "@/lib/upstreams/registry";
import { write, type Tx } from "@/lib/writes/unit";

/**
 * The model catalogue, the gateway's price book, as operators edit it. The
 * gateway reads it from memory (lib/models/catalogue.ts), so every write here
 * declares the model changed (lib/writes/unit.ts): once it commits, a new
 * price applies from the next request on, and a deleted model is not found.
 */

type ModelRow = Model & { routes: ModelRoute[] };
const withRoutes = { routes: { orderBy: [{ priority: "asc" }, { position: "asc" }] } } satisfies Prisma.ModelInclude;

export function toModelView(row: ModelRow): ModelView {
  return {
    model: row.model,
    provider: row.provider,
    upstreamModel: row.upstreamModel,
    inputUsdPerMTok: microsToUsd(row.inputMicrosPerMTok),
    outputUsdPerMTok: microsToUsd(row.outputMicrosPerMTok),
    maxOutputTokens: row.maxOutputTokens,
    active: row.active,
    routes: row.routes.map((r) => ({ upstream: r.upstream, upstreamModel: r.upstreamModel, priority: r.priority, weight: r.weight })),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Every row, active or not, by name. The built-in demo model is not a row. */
export async function listModels(): Promise<ModelView[]> {
  const db = await prisma();
  const rows = await db.model.findMany({ orderBy: { model: "asc" }, include: withRoutes });
  return rows.map(toModelView);
}

/**
 * Creates the row, or changes the fields sent on an existing one. A create
 * needs every field of REQUIRED_ON_CREATE; an update keeps what it omits.
 * `routes`, when sent, replaces the model's routes (`[]` removes them);
 * omitted, they are kept.
 */
export async function upsertModel(actor: Actor, input: UpsertModelInput, outer?: Tx): Promise<ModelView> {
  assertNotReserved(input.model);
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

  return write(
    actor,
    async (tx, after) => {
      if (missing.length === 0) {
        // One statement (INSERT … ON CONFLICT), so two operators adding the same model at once both succeed.
        const row = await tx.model.upsert({
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
        if (input.routes !== undefined) await replaceRoutes(tx, row, input.routes);
        after.modelChanged(row.model);
        return view(tx, row.model);
      }

      // Without every required field this can only be an update. updateMany
      // changes nothing when the row is missing (or was deleted meanwhile), so a
      // half-described model is never created. (Prisma skips an updateMany with
      // no fields at all, so the name alone only reads the row.)
      if (Object.values(changes).some((v) => v !== undefined)) {
        const { count } = await tx.model.updateMany({ where: { model: input.model }, data: changes });
        if (count === 0) throw missingOnCreate(input.model, missing);
        after.modelChanged(input.model);
      }
      const row = await tx.model.findUnique({ where: { model: input.model } });
      if (!row) throw missingOnCreate(input.model, missing);
      if (input.routes !== undefined) {
        await replaceRoutes(tx, row, input.routes);
        after.modelChanged(input.model);
      }
      return view(tx, row.model);
    },
    outer,
  );
}

/** Removes the row; the gateway answers 404 model_not_found for it from the next request on. */
export async function deleteModel(actor: Actor, model: string, outer?: Tx): Promise<void> {
  assertNotReserved(model);
  await write(
    actor,
    async (tx, after) => {
      const { count } = await tx.model.deleteMany({ where: { model } });
      if (count === 0) throw new NotFoundError(`No model named "${model}" is in the catalogue; GET /api/admin/models lists them.`);
      after.modelChanged(model);
    },
    outer,
  );
}

async function view(tx: Tx, model: string): Promise<ModelView> {
  return toModelView(await tx.model.findUniqueOrThrow({ where: { model }, include: withRoutes }));
}

/**
 * Replaces the model's routes. Every upstream named must exist: a configured
 * environment upstream, or a row, which is locked (FOR SHARE) until commit so
 * that it cannot be deleted or renamed under the new route
 * (lib/upstreams/service.ts deletes first, then looks for routes).
 */
async function replaceRoutes(tx: Tx, model: Model, routes: RouteInput[]): Promise<void> {
  const fromEnv = new Set(environmentUpstreams().map((u) => u.name));
  const stored = [...new Set(routes.map((r) => r.upstream).filter((name) => !fromEnv.has(name)))];
  const found = stored.length
    ? new Set(
        (await tx.$queryRaw<Array<{ name: string }>>`SELECT "name" FROM "Upstream" WHERE "name" IN (${Prisma.join(stored)}) FOR SHARE`).map((r) => r.name),
      )
    : new Set<string>();
  const unknown = routes.flatMap((r, i) => (fromEnv.has(r.upstream) || found.has(r.upstream) ? [] : [{ i, name: r.upstream }]));
  if (unknown.length) {
    const names = [...new Set(unknown.map((u) => `"${u.name}"`))].join(", ");
    throw new BadRequestError(
      `Invalid request body: routes name ${unknown.length === 1 ? "an upstream that does" : "upstreams that do"} not exist: ${names}. GET /api/admin/upstreams lists them (env-openai and env-anthropic exist only when their environment variables are set).`,
      unknown.map(({ i, name }) => ({ path: `routes.${i}.upstream`, message: `there is no upstream named "${name}"` })),
      "validation_error",
    );
  }
  // Two routes to the same upstream and the same name sent, once defaults are applied, are one route.
  const own = model.upstreamModel ?? model.model;
  const seen = new Map<string, number>();
  routes.forEach((r, i) => {
    const pair = JSON.stringify([r.upstream, r.upstreamModel ?? own]);
    const first = seen.get(pair);
    if (first !== undefined) {
      throw new BadRequestError(
        `Invalid request body: routes ${first} and ${i} both send "${r.upstreamModel ?? own}" to "${r.upstream}"; each (upstream, upstreamModel) pair may appear once.`,
        [{ path: `routes.${i}.upstreamModel`, message: "this route repeats an earlier one" }],
        "validation_error",
      );
    }
    seen.set(pair, i);
  });
  await tx.modelRoute.deleteMany({ where: { model: model.model } });
  if (routes.length) {
    await tx.modelRoute.createMany({
      data: routes.map((r, position) => ({
        model: model.model,
        upstream: r.upstream,
        upstreamModel: r.upstreamModel ?? null,
        priority: r.priority ?? 0,
        weight: r.weight ?? 1,
        position,
      })),
    });
  }
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
