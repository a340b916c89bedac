"use client";

import { useId, useState } from "react";
import { inputClassName } from "@/components/ui/field";
import { formatDate, formatExact } from "@/components/ui/format";
import { EmptyState, ErrorState, LoadingRows } from "@/components/ui/states";
import { LoadMoreFooter } from "@/components/ui/load-more";
import { Panel } from "@/components/usage/panel";
import { useAccount } from "@/components/webhooks/use-webhooks";
import { useAuditLog, type AuditFilters, type AuditScope } from "@/components/audit/use-audit";
import type { AuditEntryView } from "@/lib/audit/schemas";

/** The actions a user's log can hold (docs/api.md), for the filter; operators also see the operator-wide ones. */
const OWN_ACTIONS = [
  "account.create",
  "account.update",
  "auth.sign_in",
  "auth.sign_in_failed",
  "key.create",
  "key.update",
  "key.delete",
  "management_key.create",
  "management_key.update",
  "management_key.delete",
  "subscription.create",
  "subscription.update",
  "subscription.renew",
  "subscription.expire",
  "credits.grant",
  "credits.purchase",
  "webhook.create",
  "webhook.delete",
  "webhook.test",
];
const OPERATOR_ACTIONS = ["model.upsert", "model.delete", "pool.create", "pool.update", "upstream.create", "upstream.update", "upstream.delete"];

interface AuditLogProps {
  scope: AuditScope;
  /** The heading's id and text. */
  id: string;
  title: string;
  /** A filter the viewer cannot change: a key's own history. */
  fixed?: Pick<AuditFilters, "targetId">;
}

/**
 * One audit log panel: filters (action, target, UTC days, and the account
 * for operators), the rows newest first, and "Load more". A key's page
 * shows its own history with the target fixed and no filters.
 */
export function AuditLog({ scope, id, title, fixed }: AuditLogProps) {
  const [filters, setFilters] = useState<AuditFilters>({});
  const log = useAuditLog(scope, { ...filters, ...fixed });
  const rows = log.data?.pages.flatMap((p) => p.data) ?? [];
  const account = useAccount();
  const me = scope === "own" ? account.data?.id : undefined;

  return (
    <Panel id={id} title={title}>
      {!fixed && <Filters scope={scope} filters={filters} onChange={setFilters} />}
      {log.isPending ? (
        <LoadingRows label="Loading the audit log" />
      ) : log.isError ? (
        <ErrorState message={log.error.message} onRetry={() => log.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="Nothing recorded">{fixed ? "Changes to this key show up here." : "No changes or sign-ins match these filters."}</EmptyState>
      ) : (
        <>
          <div className="relative -mx-4 overflow-x-auto">
            <table aria-label={`${title}, newest first`} className="w-full text-left text-sm">
              <thead className="border-y border-zinc-200 bg-zinc-50/80 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950/40 dark:text-zinc-400">
                <tr>
                  {["Time", "Who", "Action", "Target", "Changes", "From"].map((h) => (
                    <th key={h} scope="col" className="h-9 whitespace-nowrap px-4 font-medium">
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {rows.map((r) => (
                  <tr key={r.id} data-testid="audit-row" data-action={r.action} className="align-top">
                    <td className="whitespace-nowrap px-4 py-2">
                      <time dateTime={r.at} title={formatExact(r.at)}>
                        {formatDate(r.at)}
                      </time>
                    </td>
                    <td className="whitespace-nowrap px-4 py-2" data-testid="audit-actor">
                      {actorText(r, me)}
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 font-mono text-xs" data-testid="audit-action">
                      {r.action}
                    </td>
                    <td className="max-w-[14rem] truncate whitespace-nowrap px-4 py-2 text-xs" title={r.targetId ?? undefined}>
                      {r.targetType}
                      {r.targetId && <span className="ml-1 font-mono text-zinc-600 dark:text-zinc-400">{r.targetId}</span>}
                    </td>
                    <td className="px-4 py-2 text-xs" data-testid="audit-changes">
                      <Changes changes={r.changes} />
                    </td>
                    <td className="whitespace-nowrap px-4 py-2 text-xs text-zinc-600 dark:text-zinc-400" title={r.userAgent ?? undefined}>
                      {r.ip ?? "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMoreFooter shown={rows.length} noun={{ one: "entry", other: "entries" }} query={log} />
        </>
      )}
    </Panel>
  );
}

/** Who acted, in words: the management key or operator by its ID, "You" for the viewer's own session. */
function actorText(r: AuditEntryView, me: string | undefined): string {
  switch (r.actorType) {
    case "user":
      if (r.actorId === null) return "Unknown (sign-in failed)";
      return r.actorId === me ? "You" : `User ${r.actorId}`;
    case "management_key":
      return `Management key ${r.managementKeyId ?? ""}`.trim();
    case "admin":
      return r.actorId ? `Operator ${r.actorId === me ? "(you)" : r.actorId}` : "Operator (admin token)";
    case "system":
      return "Keygate";
  }
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function Changes({ changes }: { changes: AuditEntryView["changes"] }) {
  const entries = Object.entries(changes);
  if (!entries.length) return <span className="text-zinc-500 dark:text-zinc-400">—</span>;
  return (
    <ul className="space-y-0.5">
      {entries.map(([field, [before, after]]) => (
        <li key={field} className="break-words">
          <span className="font-medium">{field}</span>: {show(before)} <span aria-label="changed to">→</span> {show(after)}
        </li>
      ))}
    </ul>
  );
}

function Filters({ scope, filters, onChange }: { scope: AuditScope; filters: AuditFilters; onChange: (f: AuditFilters) => void }) {
  const ids = { action: useId(), target: useId(), from: useId(), to: useId(), account: useId() };
  const set = (patch: Partial<AuditFilters>) => onChange({ ...filters, ...patch });
  const actions = scope === "admin" ? [...OWN_ACTIONS, ...OPERATOR_ACTIONS] : OWN_ACTIONS;
  const field = "mb-1 block text-sm font-medium";
  return (
    <div className={`mb-3 grid gap-3 ${scope === "admin" ? "sm:grid-cols-5" : "sm:grid-cols-4"}`}>
      <div>
        <label htmlFor={ids.action} className={field}>
          Action
        </label>
        <select id={ids.action} className={inputClassName} value={filters.action ?? ""} onChange={(e) => set({ action: e.target.value || undefined })}>
          <option value="">All actions</option>
          {actions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor={ids.target} className={field}>
          Target ID
        </label>
        <input
          id={ids.target}
          className={inputClassName}
          value={filters.targetId ?? ""}
          placeholder="a key, webhook… ID"
          onChange={(e) => set({ targetId: e.target.value.trim() || undefined })}
        />
      </div>
      <div>
        <label htmlFor={ids.from} className={field}>
          From (UTC day)
        </label>
        <input id={ids.from} type="date" className={inputClassName} value={filters.from ?? ""} onChange={(e) => set({ from: e.target.value || undefined })} />
      </div>
      <div>
        <label htmlFor={ids.to} className={field}>
          To (UTC day)
        </label>
        <input id={ids.to} type="date" className={inputClassName} value={filters.to ?? ""} onChange={(e) => set({ to: e.target.value || undefined })} />
      </div>
      {scope === "admin" && (
        <div>
          <label htmlFor={ids.account} className={field}>
            Account ID
          </label>
          <input
            id={ids.account}
            className={inputClassName}
            value={filters.accountId ?? ""}
            placeholder="every account"
            onChange={(e) => set({ accountId: e.target.value.trim() || undefined })}
          />
        </div>
      )}
    </div>
  );
}
