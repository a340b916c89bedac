"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Cell, QueryTable, Row } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { ActionMenu } from "@/components/ui/dropdown-menu";
import { formatExact } from "@/components/ui/format";
import { FormError } from "@/components/ui/form-footer";
import { PageHeader } from "@/components/ui/headings";
import { UpstreamDialog } from "@/components/admin/upstream-dialog";
import { useCreateUpstream, useDeleteUpstream, useTestUpstream, useUpdateUpstream, useUpstreams } from "@/components/admin/use-admin";
import type { UpstreamTestResult, UpstreamView } from "@/lib/upstreams/schemas";

const COLUMNS = [
  { label: "Name" },
  { label: "Health" },
  { label: "Last 5 min", className: "text-right" },
  { label: "Protocol" },
  { label: "Base URL" },
  { label: "API key" },
  { label: "Headers" },
  { label: "Timeout", className: "text-right" },
  { label: "", className: "w-12" },
];

const PROTOCOL_NAMES: Record<UpstreamView["protocol"], string> = { openai: "OpenAI", anthropic: "Anthropic" };

/**
 * Admin → Upstreams: the providers the gateway routes models to, with their
 * health at a glance, and the forms to add, change and delete them. Secrets go
 * one way: typed into a form, sent once, never read back (the list shows
 * `…last4` and header names).
 */
export function UpstreamsPage() {
  const upstreams = useUpstreams({ poll: true });
  const create = useCreateUpstream();
  const update = useUpdateUpstream();
  const remove = useDeleteUpstream();
  // null: closed; "new": the add form; an upstream: its edit form.
  const [editing, setEditing] = useState<UpstreamView | "new" | null>(null);
  const [deleting, setDeleting] = useState<UpstreamView | null>(null);
  const [testing, setTesting] = useState<UpstreamView | null>(null);
  const probe = useTestUpstream();
  const startTest = (u: UpstreamView) => {
    setTesting(u);
    probe.reset();
    probe.mutate(u);
  };
  const closeTest = () => {
    setTesting(null);
    probe.reset();
  };

  const closeForm = () => {
    setEditing(null);
    create.reset();
    update.reset();
  };
  const closeDelete = () => {
    setDeleting(null);
    remove.reset();
  };
  const target = editing === "new" ? null : editing;

  return (
    <div className="space-y-6">
      <PageHeader title="Upstreams" action={<Button onClick={() => setEditing("new")}>Add upstream</Button>}>
        The provider endpoints the gateway sends requests to. Route models to them under Models & prices. The environment&apos;s{" "}
        <code className="font-mono text-xs">OPENAI_*</code> and <code className="font-mono text-xs">ANTHROPIC_*</code> upstreams are read-only here.
      </PageHeader>

      <section aria-label="Upstreams" className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={upstreams}
          columns={COLUMNS}
          label="Upstreams"
          loadingLabel="Loading upstreams"
          empty={{ title: "No upstreams yet", body: "Add one to route models to a provider. Until then, models use the environment's upstreams." }}
        >
          {(rows) =>
            rows.map((u) => (
              <Row key={u.id} data-testid="upstream-row" data-upstream-name={u.name}>
                <Cell>
                  <div className="flex items-center gap-2">
                    <code className="font-mono text-sm font-medium">{u.name}</code>
                    {u.readOnly && <Badge tone="zinc">from environment</Badge>}
                    {!u.active && <Badge tone="amber">inactive</Badge>}
                  </div>
                </Cell>
                <Cell data-testid="upstream-health">
                  <Health u={u} />
                </Cell>
                <Cell className="text-right tabular-nums" data-testid="upstream-traffic">
                  <span className="block leading-5">{count(u.health.requests5m, "request")}</span>
                  <span
                    className={cn("block text-xs leading-5", u.health.errors5m > 0 ? "text-red-700 dark:text-red-400" : "text-zinc-500 dark:text-zinc-400")}
                  >
                    {count(u.health.errors5m, "error")}
                  </span>
                </Cell>
                <Cell>{PROTOCOL_NAMES[u.protocol]}</Cell>
                <Cell className="max-w-[16rem]">
                  <code className="block truncate font-mono text-xs" title={u.baseUrl}>
                    {u.baseUrl}
                  </code>
                </Cell>
                <Cell data-testid="upstream-key">
                  {u.apiKeyLast4 ? <code className="font-mono text-xs">…{u.apiKeyLast4}</code> : <span className="text-zinc-500 dark:text-zinc-400">—</span>}
                </Cell>
                <Cell className="max-w-[12rem] text-xs">
                  {u.headerNames.length ? (
                    <span className="block truncate" title={u.headerNames.join(", ")}>
                      {u.headerNames.join(", ")}
                    </span>
                  ) : (
                    <span className="text-zinc-500 dark:text-zinc-400">—</span>
                  )}
                </Cell>
                <Cell className="text-right tabular-nums">
                  {u.timeoutMs === null ? (
                    <span className="text-zinc-500 dark:text-zinc-400">default</span>
                  ) : (
                    `${(u.timeoutMs / 1000).toLocaleString("en-US")} s`
                  )}
                </Cell>
                <Cell className="py-0 text-right">
                  <ActionMenu
                    label={`Actions for ${u.name}`}
                    items={[
                      { label: "Test connection", onSelect: () => startTest(u) },
                      // The environment's upstreams change with the environment (and a restart), not here.
                      ...(u.readOnly
                        ? []
                        : [
                            { label: "Edit", onSelect: () => setEditing(u) },
                            { label: "Delete", onSelect: () => setDeleting(u), destructive: true },
                          ]),
                    ]}
                  />
                </Cell>
              </Row>
            ))
          }
        </QueryTable>
      </section>

      <UpstreamDialog
        open={editing !== null}
        upstream={target}
        pending={create.isPending || update.isPending}
        error={(target ? update.error : create.error)?.message}
        onClose={closeForm}
        onCreate={(body) => create.mutate(body, { onSuccess: closeForm })}
        onUpdate={(patch) => target && update.mutate({ id: target.id, patch }, { onSuccess: closeForm })}
      />
      <Dialog
        open={testing !== null}
        onClose={closeTest}
        title={testing ? `Test “${testing.name}”` : "Test upstream"}
        description="One read-only request with the stored key: the upstream's model list. No tokens are spent, and the upstream's health is not affected."
        testId="upstream-test-dialog"
      >
        <div className="space-y-4">
          {probe.isPending && (
            <p role="status" className="text-sm text-zinc-600 dark:text-zinc-400">
              Testing…
            </p>
          )}
          {probe.error && <FormError message={probe.error.message} />}
          {probe.data && <TestResult result={probe.data} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" disabled={probe.isPending || !testing} onClick={() => testing && startTest(testing)}>
              Test again
            </Button>
            <Button onClick={closeTest} autoFocus>
              Done
            </Button>
          </div>
        </div>
      </Dialog>
      <Dialog
        open={deleting !== null}
        onClose={closeDelete}
        title={deleting ? `Delete upstream “${deleting.name}”?` : "Delete upstream"}
        description="Its stored API key and headers are erased. An upstream that model routes still use cannot be deleted: change those routes first, or make it inactive."
        testId="confirm-dialog"
      >
        <div className="space-y-4">
          {remove.error && <FormError message={remove.error.message} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={closeDelete} autoFocus>
              Cancel
            </Button>
            <Button variant="danger" disabled={remove.isPending} onClick={() => deleting && remove.mutate(deleting, { onSuccess: closeDelete })}>
              {remove.isPending ? "Deleting…" : "Delete upstream"}
            </Button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}

function TestResult({ result }: { result: UpstreamTestResult }) {
  return (
    <div role="status" data-testid="upstream-test-result" className="space-y-2 text-sm">
      <div className="flex flex-wrap items-center gap-2">
        {result.ok ? <Badge tone="emerald">Connected</Badge> : <Badge tone="red">Failed</Badge>}
        <span className="tabular-nums text-zinc-600 dark:text-zinc-400">
          {result.status === null ? "no answer" : `HTTP ${result.status}`} · {result.latencyMs.toLocaleString("en-US")} ms
        </span>
      </div>
      <p>{result.message}</p>
      <code className="block break-all font-mono text-xs text-zinc-500 dark:text-zinc-400">GET {result.url}</code>
    </div>
  );
}

const count = (n: number, what: string) => `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;

function Health({ u }: { u: UpstreamView }) {
  if (u.health.state === "ok") return <Badge tone="emerald">OK</Badge>;
  const until = u.health.coolingDownUntil;
  return (
    <>
      <Badge tone="red">Cooling down</Badge>
      {until && (
        <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">
          until{" "}
          <time dateTime={until} title={formatExact(until)}>
            {new Date(until).toLocaleTimeString("en-US")}
          </time>
        </span>
      )}
    </>
  );
}

const TONES = {
  emerald: "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-950/50 dark:text-emerald-300 dark:ring-emerald-400/20",
  amber: "bg-amber-50 text-amber-900 ring-amber-600/20 dark:bg-amber-950/50 dark:text-amber-300 dark:ring-amber-400/20",
  red: "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-950/50 dark:text-red-300 dark:ring-red-400/20",
  zinc: "bg-zinc-100 text-zinc-700 ring-zinc-500/20 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-400/20",
} as const;

export function Badge({ tone, children }: { tone: keyof typeof TONES; children: React.ReactNode }) {
  return (
    <span className={cn("inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium leading-4 ring-1 ring-inset", TONES[tone])}>
      {children}
    </span>
  );
}
