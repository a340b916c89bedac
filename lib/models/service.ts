import type { Actor } from "@/lib/auth/actor";
import { prisma } from "@/lib/db";
import { Prisma, type Model, type ModelRoute } from "@/generated/prisma/client.ts";
import { microsToUsd, usdToMicros } from "@/lib/billing/money";
import { BadRequestError, ConflictError, NotFoundError } from "@/lib/http/errors";
import { REQUIRED_ON_CREATE, RESERVED_MODEL_NAME, RESERVED_MODEL_NAMES, type ModelView, type RouteInput, type UpsertModelInput } from "@/lib/models/schemas";
import { hasEmbeddings } from "@/lib/models/catalogue";
import { environmentUpstreams } from "@/lib/upstreams/registry";
import { write, type Tx } from "@/lib/writes/unit";
import { diff } from "@/lib/audit/changes";

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
    kind: row.kind,
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
    kind: input.kind,
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
      const existing = await tx.model.findUnique({ where: { model: input.model }, include: withRoutes });
      const before = existing ? toModelView(existing) : null;
      // A model is operator-wide: in no account's log. Timestamps are left out: they change with everything.
      const audited = (view: ModelView) => {
        after.audit({ targetId: view.model, accountId: null, changes: diff(withoutTimes(before), withoutTimes(view)) });
        return view;
      };
      if (missing.length === 0) {
        // One statement (INSERT … ON CONFLICT), so two operators adding the same model at once both succeed.
        const row = await tx.model.upsert({
          where: { model: input.model },
          create: {
            model: input.model,
            provider: input.provider!,
            kind: input.kind ?? "chat",
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
        return audited(await checkedView(tx, row.model));
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
      return audited(await checkedView(tx, row.model));
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
      const existing = await tx.model.findUnique({ where: { model }, include: withRoutes });
      const { count } = await tx.model.deleteMany({ where: { model } });
      if (count === 0 || !existing) throw new NotFoundError(`No model named "${model}" is in the catalogue; GET /api/admin/models lists them.`);
      after.modelChanged(model);
      after.audit({ targetId: model, accountId: null, changes: diff(withoutTimes(toModelView(existing)), null) });
    },
    outer,
  );
}

function withoutTimes(view: ModelView | null): Omit<ModelView, "createdAt" | "updatedAt"> | null {
  if (!view) return null;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { createdAt, updatedAt, ...rest } = view;
  return rest;
}

/**
 * The row as written, once it is known to be servable: an embedding model
 * must reach an OpenAI-protocol upstream (embeddings exist only there), so a
 * write that leaves one served by Anthropic (its provider's environment
 * upstream without routes, or a route to an Anthropic upstream) throws, and
 * the transaction rolls back. Whatever the fields sent, the check is on the
 * result: changing only `kind`, only `routes` or only `provider` is checked
 * the same. (An upstream whose protocol is changed later is not re-checked
 * here: the gateway then finds no OpenAI route and answers 404.)
 */
async function checkedView(tx: Tx, model: string): Promise<ModelView> {
  const row = await tx.model.findUniqueOrThrow({ where: { model }, include: withRoutes });
  if (row.kind !== "embedding") return toModelView(row);
  const anthropic = "embeddings exist only on OpenAI-protocol upstreams, so an embedding model must be served by one";
  if (row.routes.length === 0 && !hasEmbeddings(row.provider)) {
    throw new BadRequestError(
      `Invalid request body: "${model}" would be an embedding model served by its provider's Anthropic upstream; ${anthropic}. Use provider "openai", route it to an OpenAI upstream, or make it kind "chat".`,
      [{ path: "kind", message: `an embedding model cannot have provider "anthropic" without routes to an OpenAI upstream` }],
      "validation_error",
    );
  }
  const names = [...new Set(row.routes.map((r) => r.upstream))];
  const fromEnv = new Map(environmentUpstreams().map((u) => [u.name, u.protocol]));
  const stored = names.filter((n) => !fromEnv.has(n));
  const protocols = new Map(fromEnv);
  if (stored.length) {
    for (const u of await tx.upstream.findMany({ where: { name: { in: stored } }, select: { name: true, protocol: true } })) protocols.set(u.name, u.protocol);
  }
  const wrong = row.routes.flatMap((r, i) => {
    const protocol = protocols.get(r.upstream);
    return protocol && !hasEmbeddings(protocol) ? [{ i, name: r.upstream }] : [];
  });
  if (wrong.length) {
    const list = [...new Set(wrong.map((w) => `"${w.name}"`))].join(", ");
    throw new BadRequestError(
      `Invalid request body: "${model}" would be an embedding model routed to the Anthropic upstream${wrong.length === 1 ? "" : "s"} ${list}; ${anthropic}. Route it to OpenAI upstreams only, or make it kind "chat".`,
      wrong.map(({ i, name }) => ({ path: `routes.${i}.upstream`, message: `"${name}" speaks the Anthropic protocol, which has no embeddings` })),
      "validation_error",
    );
  }
  return toModelView(row);
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
  if (RESERVED_MODEL_NAMES.includes(model)) {
    const which = model === RESERVED_MODEL_NAME ? "the built-in demo model" : "the built-in demo embedding model";
    throw new ConflictError(
      `"${model}" is ${which}, answered by Keygate itself: it cannot be added, changed or deleted here. Choose another name; to turn the demo off, set KEYGATE_DEMO_UPSTREAM=off.`,
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
