"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { formatDate, formatUsd } from "@/components/ui/format";
import { QueryTable } from "@/components/ui/data-table";
import { CreateCreditKeyDialog } from "@/components/keys/create-credit-key-dialog";
import { RenameDialog } from "@/components/keys/rename-dialog";
import { SecretModal } from "@/components/keys/secret-modal";
import { useCreateCreditKey, useDeleteKey, useKeys, useUpdateKey } from "@/components/keys/use-keys";
import type { ApiKeyView } from "@/lib/keys/schemas";

export function KeysPage() {
  const keys = useKeys();
  const create = useCreateCreditKey();
  const update = useUpdateKey();
  const remove = useDeleteKey();

  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<ApiKeyView | null>(null);
  const [deleting, setDeleting] = useState<ApiKeyView | null>(null);

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">API keys</h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Consumption keys call the inference endpoints. Credit keys share your balance; subscription keys come from pool subscriptions.
          </p>
        </div>
        <Button onClick={() => setCreating(true)}>Create credit key</Button>
      </div>

      <section aria-label="Your API keys" className="overflow-hidden rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={keys}
          columns={["Name", "Type", "Key", "Status", "Limits", "Spend", "Expires", "Created", "Last used", ""]}
          minWidth="min-w-[56rem]"
          loadingLabel="Loading keys"
          empty={{ title: "No API keys yet", body: "Create a credit key to call the inference API. You will see its secret once." }}
        >
          {(rows) =>
            rows.map((k) => (
              <tr key={k.id} data-testid="key-row" data-key-name={k.name}>
                <td className="px-4 py-3 font-medium">{k.name}</td>
                <td className="px-4 py-3">{k.keyType === "credit" ? "Credit" : "Subscription"}</td>
                <td className="px-4 py-3 font-mono text-xs">{k.keyPrefix}…</td>
                <td className="px-4 py-3">
                  <StatusBadge k={k} />
                </td>
                <td className="px-4 py-3 text-xs">
                  {k.keyType === "subscription" ? (
                    "1 concurrent"
                  ) : (
                    <>
                      {k.rpmLimit ?? "∞"} rpm · {k.tpmLimit ?? "∞"} tpm
                      <br />
                      budget {formatUsd(k.maxBudget, "none")}
                    </>
                  )}
                </td>
                <td className="px-4 py-3">{formatUsd(k.spend)}</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.expiresAt, "Never")}</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.createdAt)}</td>
                <td className="px-4 py-3 text-xs">{formatDate(k.lastUsedAt, "Never")}</td>
                <td className="px-4 py-3">
                  <div className="flex justify-end gap-1">
                    <Button size="sm" variant="ghost" onClick={() => setRenaming(k)} aria-label={`Rename ${k.name}`}>
                      Rename
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => update.mutate({ id: k.id, patch: { isActive: !k.isActive } })}
                      aria-label={`${k.isActive ? "Pause" : "Resume"} ${k.name}`}
                    >
                      {k.isActive ? "Pause" : "Resume"}
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(k)} aria-label={`Delete ${k.name}`} className="text-red-700 dark:text-red-400">
                      Delete
                    </Button>
                  </div>
                </td>
              </tr>
            ))
          }
        </QueryTable>
      </section>

      <CreateCreditKeyDialog
        open={creating}
        pending={create.isPending}
        error={create.error?.message}
        onClose={() => {
          setCreating(false);
          create.reset();
        }}
        onCreate={(body) =>
          create.mutate(body, {
            onSuccess: (key) => {
              setCreating(false);
              setSecret(key.apiKey);
              create.reset();
            },
          })
        }
      />
      <SecretModal secret={secret} title="Your new credit key" onClose={() => setSecret(null)} />
      <RenameDialog
        keyName={renaming?.name ?? null}
        onClose={() => setRenaming(null)}
        onRename={(name) => {
          if (renaming) update.mutate({ id: renaming.id, patch: { name } });
          setRenaming(null);
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.name ?? ""}”?`}
        description="Requests with this key will be refused from the next one on. This cannot be undone; to suspend a key instead, pause it."
        confirmLabel="Delete key"
        pending={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting, { onSettled: () => setDeleting(null) });
        }}
      />
    </div>
  );
}

function StatusBadge({ k }: { k: ApiKeyView }) {
  // Captured once per mount: a badge that flips while you look at it helps nobody.
  const [now] = useState(() => Date.now());
  const expired = k.expiresAt !== null && new Date(k.expiresAt).getTime() <= now;
  const [label, tone] = expired
    ? ["Expired", "bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200"]
    : k.isActive
      ? ["Active", "bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300"]
      : ["Paused", "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-300"];
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${tone}`}>{label}</span>;
}
