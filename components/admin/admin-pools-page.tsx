"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Cell, QueryTable, Row } from "@/components/ui/data-table";
import { PageHeader } from "@/components/ui/headings";
import { PoolDialog } from "@/components/admin/pool-dialog";
import { Badge } from "@/components/admin/upstreams-page";
import { useAdminPools, useSavePool } from "@/components/admin/use-admin";
import { formatUsdShort } from "@/lib/client/money";
import type { PoolView } from "@/lib/pools/schemas";

const COLUMNS = [
  { label: "Pool" },
  { label: "Models" },
  { label: "Blocks" },
  { label: "Seats sold", className: "text-right" },
  { label: "Price per block", className: "text-right" },
  { label: "", className: "w-12" },
];

/** The seats taken in the fullest block, of the capacity. */
function seatsSold(p: PoolView): string {
  const taken = Math.max(0, ...p.blocks.map((b) => b.capacity - b.remaining));
  return `${taken} of ${p.capacity}`;
}

/**
 * Admin → Pools: every pool, on sale or not, and the forms to create one and
 * change it. There is no delete: a pool with subscriptions keeps its
 * history; taking it off sale is the way to retire it.
 */
export function AdminPoolsPage() {
  const pools = useAdminPools();
  const save = useSavePool();
  const [editing, setEditing] = useState<PoolView | "new" | null>(null);
  const close = () => {
    setEditing(null);
    save.reset();
  };
  const target = editing === "new" ? null : editing;

  return (
    <div className="space-y-6">
      <PageHeader title="Pools (admin)" action={<Button onClick={() => setEditing("new")}>Create pool</Button>}>
        Pools sell seats in blocks of the UTC day. Take a pool off sale to retire it; its history stays.
      </PageHeader>
      <section aria-label="All pools" className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={pools}
          columns={COLUMNS}
          label="All pools"
          loadingLabel="Loading pools"
          empty={{ title: "No pools yet", body: "Create one to sell reserved hours of the day for a flat price." }}
        >
          {(rows) =>
            rows.map((p) => (
              <Row key={p.id} data-testid="admin-pool-row" data-pool-name={p.name}>
                <Cell>
                  <div className="flex items-center gap-2">
                    <span className="font-medium">{p.name}</span>
                    {!p.active && <Badge tone="amber">off sale</Badge>}
                  </div>
                </Cell>
                <Cell className="max-w-[16rem]">
                  <span className="block truncate font-mono text-xs" title={p.models.join(", ")}>
                    {p.models.join(", ")}
                  </span>
                </Cell>
                <Cell>
                  {p.blocks.length} × {p.blockHours} h
                </Cell>
                <Cell className="text-right tabular-nums">{seatsSold(p)}</Cell>
                <Cell className="text-right tabular-nums">{formatUsdShort(p.pricePerBlockUsd)}</Cell>
                <Cell className="text-right">
                  <Button variant="secondary" size="sm" onClick={() => setEditing(p)} aria-label={`Edit pool ${p.name}`}>
                    Edit
                  </Button>
                </Cell>
              </Row>
            ))
          }
        </QueryTable>
      </section>
      <PoolDialog
        open={editing !== null}
        pool={target}
        pending={save.isPending}
        error={save.error?.message}
        onClose={close}
        onCreate={(body) => save.mutate({ id: null, body }, { onSuccess: close })}
        onUpdate={(body) => target && save.mutate({ id: target.id, body }, { onSuccess: close })}
      />
    </div>
  );
}
