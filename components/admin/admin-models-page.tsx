"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Cell, QueryTable, Row } from "@/components/ui/data-table";
import { PageHeader } from "@/components/ui/headings";
import { ModelDialog } from "@/components/admin/model-dialog";
import { RoutesDialog } from "@/components/admin/routes-dialog";
import { Badge } from "@/components/admin/upstreams-page";
import { useAdminModels, useUpsertModel, useUpstreams } from "@/components/admin/use-admin";
import { formatUsdShort } from "@/lib/client/money";
import type { ModelView } from "@/lib/models/schemas";

const COLUMNS = [
  { label: "Model" },
  { label: "Provider" },
  { label: "Kind" },
  { label: "Input, per 1M", className: "text-right" },
  { label: "Output, per 1M", className: "text-right" },
  { label: "Max output", className: "text-right" },
  { label: "Routes" },
  { label: "", className: "w-12" },
];

const PROVIDER_NAMES: Record<ModelView["provider"], string> = { openai: "OpenAI", anthropic: "Anthropic" };
const KIND_NAMES: Record<ModelView["kind"], string> = { chat: "Chat", embedding: "Embedding" };

/**
 * Admin → Models and prices: every model of the catalogue (inactive ones
 * too), its prices, and the upstreams that serve it. Each save sends only
 * what its dialog changes: prices keep the routes, routes keep the prices.
 */
export function AdminModelsPage() {
  const models = useAdminModels();
  const upstreams = useUpstreams();
  const save = useUpsertModel();
  // null: closed; "new": the add form; a model: its edit form.
  const [editing, setEditing] = useState<ModelView | "new" | null>(null);
  const [routing, setRouting] = useState<ModelView | null>(null);
  const close = () => {
    setEditing(null);
    setRouting(null);
    save.reset();
  };

  return (
    <div className="space-y-6">
      <PageHeader title="Models and prices" action={<Button onClick={() => setEditing("new")}>Add model</Button>}>
        The catalogue is the price book: a model is served only once it is here. Its routes say which upstreams serve it (see Upstreams); without routes it goes
        to its provider&apos;s environment upstream.
      </PageHeader>
      <section
        aria-label="Models and their routes"
        className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        <QueryTable
          query={models}
          columns={COLUMNS}
          label="Catalogue"
          loadingLabel="Loading models"
          empty={{ title: "No models yet", body: "Add a model with its prices, then route it to an upstream." }}
        >
          {(rows) =>
            rows.map((m) => (
              <Row key={m.model} data-testid="admin-model-row" data-model-name={m.model}>
                <Cell>
                  <div className="flex items-center gap-2">
                    <code className="font-mono text-sm font-medium">{m.model}</code>
                    {!m.active && <Badge tone="amber">inactive</Badge>}
                  </div>
                  {m.upstreamModel && <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">sent as {m.upstreamModel}</span>}
                </Cell>
                <Cell>{PROVIDER_NAMES[m.provider]}</Cell>
                <Cell data-testid="model-kind">{KIND_NAMES[m.kind]}</Cell>
                <Cell className="text-right tabular-nums">{formatUsdShort(m.inputUsdPerMTok)}</Cell>
                <Cell className="text-right tabular-nums">{formatUsdShort(m.outputUsdPerMTok)}</Cell>
                <Cell className="text-right tabular-nums">{m.maxOutputTokens.toLocaleString("en-US")}</Cell>
                <Cell className="whitespace-normal" data-testid="model-routes">
                  {m.routes.length === 0 ? (
                    <span className="text-zinc-500 dark:text-zinc-400">environment upstream ({m.provider})</span>
                  ) : (
                    <ul className="space-y-0.5 text-xs">
                      {m.routes.map((r) => (
                        <li key={`${r.upstream}/${r.upstreamModel ?? ""}`}>
                          <code className="font-mono">{r.upstream}</code>
                          {r.upstreamModel && (
                            <>
                              {" "}
                              as <code className="font-mono">{r.upstreamModel}</code>
                            </>
                          )}
                          <span className="text-zinc-500 dark:text-zinc-400">
                            {" "}
                            · priority {r.priority} · weight {r.weight}
                          </span>
                        </li>
                      ))}
                    </ul>
                  )}
                </Cell>
                <Cell className="text-right">
                  <div className="flex justify-end gap-2">
                    <Button variant="secondary" size="sm" onClick={() => setEditing(m)} aria-label={`Edit ${m.model}`}>
                      Edit
                    </Button>
                    <Button variant="secondary" size="sm" onClick={() => setRouting(m)} aria-label={`Edit routes of ${m.model}`}>
                      Routes
                    </Button>
                  </div>
                </Cell>
              </Row>
            ))
          }
        </QueryTable>
      </section>
      <ModelDialog
        open={editing !== null}
        model={editing === "new" ? null : editing}
        pending={save.isPending}
        error={save.error?.message}
        onClose={close}
        onSave={(body) => save.mutate(body, { onSuccess: close })}
      />
      <RoutesDialog
        model={routing}
        upstreams={upstreams.data ?? []}
        pending={save.isPending}
        error={save.error?.message ?? (upstreams.isError ? `Could not load the upstreams: ${upstreams.error.message}` : undefined)}
        onClose={close}
        onSave={(body) => save.mutate(body, { onSuccess: close })}
      />
    </div>
  );
}
