"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Cell, QueryTable, Row } from "@/components/ui/data-table";
import { PageHeader } from "@/components/ui/headings";
import { RoutesDialog } from "@/components/admin/routes-dialog";
import { Badge } from "@/components/admin/upstreams-page";
import { useAdminModels, useSaveModelRoutes, useUpstreams } from "@/components/admin/use-upstreams";
import type { ModelView } from "@/lib/models/schemas";

const COLUMNS = [{ label: "Model" }, { label: "Provider" }, { label: "Routes" }, { label: "", className: "w-12" }];

const PROVIDER_NAMES: Record<ModelView["provider"], string> = { openai: "OpenAI", anthropic: "Anthropic" };

/**
 * Admin → Model routes: every model of the catalogue (inactive ones too) and
 * the upstreams that serve it. Saving sends only the model's name and its
 * routes, so prices and the rest are kept as they are.
 */
export function ModelRoutesPage() {
  const models = useAdminModels();
  const upstreams = useUpstreams();
  const save = useSaveModelRoutes();
  const [editing, setEditing] = useState<ModelView | null>(null);
  const close = () => {
    setEditing(null);
    save.reset();
  };

  return (
    <div className="space-y-6">
      <PageHeader title="Model routes">
        Which upstreams serve each model. Models and their prices are added with <code className="font-mono text-xs">POST /api/admin/models</code>; upstreams on
        the Upstreams page.
      </PageHeader>
      <section
        aria-label="Models and their routes"
        className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        <QueryTable
          query={models}
          columns={COLUMNS}
          label="Model routes"
          loadingLabel="Loading models"
          empty={{ title: "No models yet", body: "Add models and their prices with POST /api/admin/models, then route them here." }}
        >
          {(rows) =>
            rows.map((m) => (
              <Row key={m.model} data-testid="model-routes-row" data-model-name={m.model}>
                <Cell>
                  <div className="flex items-center gap-2">
                    <code className="font-mono text-sm font-medium">{m.model}</code>
                    {!m.active && <Badge tone="amber">inactive</Badge>}
                  </div>
                </Cell>
                <Cell>{PROVIDER_NAMES[m.provider]}</Cell>
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
                  <Button variant="secondary" size="sm" onClick={() => setEditing(m)} aria-label={`Edit routes of ${m.model}`}>
                    Edit routes
                  </Button>
                </Cell>
              </Row>
            ))
          }
        </QueryTable>
      </section>
      <RoutesDialog
        model={editing}
        upstreams={upstreams.data ?? []}
        pending={save.isPending}
        error={save.error?.message ?? (upstreams.isError ? `Could not load the upstreams: ${upstreams.error.message}` : undefined)}
        onClose={close}
        onSave={(body) => save.mutate(body, { onSuccess: close })}
      />
    </div>
  );
}
