import { announce, onInvalidation } from "@/lib/cluster/coherence";
import { prisma } from "@/lib/db";
import { demoUpstreamEnabled } from "@/lib/env";
import type { Model } from "@/generated/prisma/client.ts";

/**
 * The model catalogue is the price book. The gateway reads it from memory:
 * it is loaded once and reloaded after every admin write (invalidateCatalogue),
 * so no request reads the database for it. The state lives on globalThis
 * because Next bundles its own copy of lib/ for the admin route handlers.
 */

export type Protocol = "openai" | "anthropic";

export interface CatalogueModel {
  /** The public name clients send. */
  model: string;
  /** Which upstream serves it; "keygate" is the built-in demo model answered in process. */
  provider: Protocol | "keygate";
  /** The name sent upstream. */
  upstreamModel: string;
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  maxOutputTokens: number;
  active: boolean;
}

/** The built-in demo model: answers in process, over either protocol, so `npm start` shows the whole loop. */
export const DEMO_MODEL: CatalogueModel = {
  model: "keygate/echo",
  provider: "keygate",
  upstreamModel: "keygate/echo",
  // $1 and $2 per million tokens: a demo credit of $5 lasts millions of tokens.
  inputMicrosPerMTok: 1_000_000,
  outputMicrosPerMTok: 2_000_000,
  maxOutputTokens: 256,
  active: true,
};

interface CatalogueState {
  models: Map<string, CatalogueModel> | null;
  loading: Promise<Map<string, CatalogueModel>> | null;
  /** Bumped by every invalidation, so a load that raced a write is not kept. */
  generation: number;
}

const globalForCatalogue = globalThis as unknown as { __keygateCatalogue?: CatalogueState };

function state(): CatalogueState {
  return (globalForCatalogue.__keygateCatalogue ??= { models: null, loading: null, generation: 0 });
}

export function toCatalogueModel(row: Model): CatalogueModel {
  return {
    model: row.model,
    provider: row.provider,
    upstreamModel: row.upstreamModel ?? row.model,
    inputMicrosPerMTok: Number(row.inputMicrosPerMTok),
    outputMicrosPerMTok: Number(row.outputMicrosPerMTok),
    maxOutputTokens: row.maxOutputTokens,
    active: row.active,
  };
}

async function load(): Promise<Map<string, CatalogueModel>> {
  const s = state();
  if (s.models) return s.models;
  if (s.loading) return s.loading;
  const generation = s.generation;
  const loading = (async () => {
    const db = await prisma();
    const rows = await db.model.findMany();
    const map = new Map<string, CatalogueModel>();
    if (demoUpstreamEnabled()) map.set(DEMO_MODEL.model, DEMO_MODEL);
    for (const row of rows) map.set(row.model, toCatalogueModel(row));
    if (s.generation === generation) s.models = map;
    return map;
  })();
  s.loading = loading;
  loading.finally(() => {
    if (s.loading === loading) s.loading = null;
  }).catch(() => {});
  return loading;
}

/** The catalogue entry for a public model name (active or not), or undefined. */
export async function findModel(name: string): Promise<CatalogueModel | undefined> {
  const cached = state().models;
  return (cached ?? (await load())).get(name);
}

/** Every active model, for GET /v1/models. */
export async function activeModels(): Promise<CatalogueModel[]> {
  const cached = state().models;
  return [...(cached ?? (await load())).values()].filter((m) => m.active);
}

/** Call after every write to the Model table, and await it before answering: the next request, on any instance, reloads. */
export async function invalidateCatalogue(): Promise<void> {
  forgetCatalogue();
  await announce("catalogue", "*");
}

function forgetCatalogue(): void {
  const s = state();
  s.generation++;
  s.models = null;
  s.loading = null;
}

onInvalidation("catalogue", forgetCatalogue, forgetCatalogue);
