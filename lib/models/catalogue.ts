import { announce, onInvalidation } from "@/lib/cluster/coherence";
import { sharedCache } from "@/lib/cache/epoch-cache";
import { prisma } from "@/lib/db";
import { demoUpstreamEnabled } from "@/lib/env";
import type { Model, ModelRoute } from "@/generated/prisma/client.ts";

/**
 * The model catalogue is the price book. The gateway reads it from memory:
 * it is loaded once and reloaded after every admin write (the unit of work
 * calls invalidateCatalogue after commit),
 * so no request reads the database for it (lib/cache/epoch-cache.ts).
 */

export type Protocol = "openai" | "anthropic";

/** What a model does: `chat` answers on the chat endpoints, `embedding` on /v1/embeddings (OpenAI-protocol upstreams only). */
export type ModelKind = "chat" | "embedding";

/** One upstream a model can be served by (lib/upstreams/registry.ts resolves the name). */
export interface CatalogueRoute {
  /** The upstream's name: a row of Upstream, or `env-openai` / `env-anthropic`. */
  upstream: string;
  /** The name sent to that upstream (the model's upstreamModel unless the route says otherwise). */
  upstreamModel: string;
  /** Lower is tried first. */
  priority: number;
  /** Share of traffic among routes of equal priority. */
  weight: number;
}

export interface CatalogueModel {
  /** The public name clients send. */
  model: string;
  /** Which upstream serves it; "keygate" is the built-in demo model answered in process. */
  provider: Protocol | "keygate";
  kind: ModelKind;
  /** The name sent upstream. */
  upstreamModel: string;
  inputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
  maxOutputTokens: number;
  active: boolean;
  /** By priority, then as written. Empty: the provider's environment upstream, as before routes existed. */
  routes: CatalogueRoute[];
}

/** The built-in demo model: answers in process, over either protocol, so `npm start` shows the whole loop. */
export const DEMO_MODEL: CatalogueModel = {
  model: "keygate/echo",
  provider: "keygate",
  kind: "chat",
  upstreamModel: "keygate/echo",
  // $1 and $2 per million tokens: a demo credit of $5 lasts millions of tokens.
  inputMicrosPerMTok: 1_000_000,
  outputMicrosPerMTok: 2_000_000,
  maxOutputTokens: 256,
  active: true,
  routes: [],
};

/** The built-in demo embedding model: deterministic vectors computed in process, on /v1/embeddings, priced like the demo chat model's input. */
export const DEMO_EMBEDDING_MODEL: CatalogueModel = {
  model: "keygate/echo-embedding",
  provider: "keygate",
  kind: "embedding",
  upstreamModel: "keygate/echo-embedding",
  inputMicrosPerMTok: 1_000_000,
  outputMicrosPerMTok: 0,
  maxOutputTokens: 1,
  active: true,
  routes: [],
};

/** The models Keygate answers itself when the demo upstream is on; the catalogue cannot hold rows by these names. */
export const DEMO_MODELS: readonly CatalogueModel[] = [DEMO_MODEL, DEMO_EMBEDDING_MODEL];

const cache = () => sharedCache<"all", Map<string, CatalogueModel>>("catalogue");

/** A row as the gateway sees it; without `routes` loaded, the model has none. */
export function toCatalogueModel(row: Model & { routes?: ModelRoute[] }): CatalogueModel {
  const upstreamModel = row.upstreamModel ?? row.model;
  return {
    model: row.model,
    provider: row.provider,
    kind: row.kind,
    upstreamModel,
    inputMicrosPerMTok: Number(row.inputMicrosPerMTok),
    outputMicrosPerMTok: Number(row.outputMicrosPerMTok),
    maxOutputTokens: row.maxOutputTokens,
    active: row.active,
    routes: [...(row.routes ?? [])]
      .sort((a, b) => a.priority - b.priority || a.position - b.position)
      .map((r) => ({ upstream: r.upstream, upstreamModel: r.upstreamModel ?? upstreamModel, priority: r.priority, weight: r.weight })),
  };
}

function load(): Promise<Map<string, CatalogueModel>> {
  const cached = cache().peek("all");
  if (cached) return Promise.resolve(cached);
  return cache().get("all", async () => {
    const db = await prisma();
    const rows = await db.model.findMany({ include: { routes: true } });
    const map = new Map<string, CatalogueModel>();
    if (demoUpstreamEnabled()) for (const demo of DEMO_MODELS) map.set(demo.model, demo);
    for (const row of rows) map.set(row.model, toCatalogueModel(row));
    return map;
  });
}

/** The catalogue entry for a public model name (active or not), or undefined. */
export async function findModel(name: string): Promise<CatalogueModel | undefined> {
  return (cache().peek("all") ?? (await load())).get(name);
}

/** Every active model, for GET /v1/models. */
export async function activeModels(): Promise<CatalogueModel[]> {
  return [...(cache().peek("all") ?? (await load())).values()].filter((m) => m.active);
}

/** Whether a request in `protocol` may use this model: its provider speaks it, or it is an in-process demo model (both). */
export function servedOn(model: CatalogueModel, protocol: Protocol): boolean {
  return model.provider === protocol || model.provider === "keygate";
}

/** The protocols whose upstreams have an embeddings endpoint (Anthropic has none): where a model of kind `embedding` can be served. */
const EMBEDDING_PROTOCOLS: ReadonlySet<Protocol> = new Set<Protocol>(["openai"]);

export function hasEmbeddings(protocol: Protocol): boolean {
  return EMBEDDING_PROTOCOLS.has(protocol);
}

/** Call after every write to the Model or ModelRoute table, and await it before answering: the next request, on any instance, reloads. */
export async function invalidateCatalogue(): Promise<void> {
  forgetCatalogue();
  await announce("catalogue", "*");
}

function forgetCatalogue(): void {
  cache().clear();
}

onInvalidation("catalogue", forgetCatalogue, forgetCatalogue);
