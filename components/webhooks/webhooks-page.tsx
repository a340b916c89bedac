"use client";

import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { SecretModal } from "@/components/keys/secret-modal";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Card, CardFact, Cell, QueryTable, Row } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { ActionMenu } from "@/components/ui/dropdown-menu";
import { Field } from "@/components/ui/field";
import { FormFooter } from "@/components/ui/form-footer";
import { PageHeader } from "@/components/ui/headings";
import { RelativeTime } from "@/components/ui/relative-time";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import {
  useAccount,
  useCreateWebhook,
  useDeleteWebhook,
  useDeliveries,
  useSendTestEvent,
  useUpdateAccount,
  useWebhooks,
} from "@/components/webhooks/use-webhooks";
import { updateAccountSchema, type UpdateAccountInput } from "@/lib/auth/schemas";
import { createWebhookSchema, WEBHOOK_EVENT_DESCRIPTIONS, WEBHOOK_EVENTS, type WebhookDeliveryView, type WebhookView } from "@/lib/webhooks/schemas";

const COLUMNS = [{ label: "URL" }, { label: "Events" }, { label: "Created" }, { label: "", className: "w-12" }];

/**
 * Settings → Webhooks: where Keygate sends alerts (a key's budget, a low
 * balance, a subscription about to end). A new webhook's signing secret is
 * shown once, in the same show-once modal as a new key; each webhook has a
 * delivery log and a "Send test event" action.
 */
export function WebhooksPage() {
  const webhooks = useWebhooks();
  const create = useCreateWebhook();
  const remove = useDeleteWebhook();
  const test = useSendTestEvent();
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<WebhookView | null>(null);
  const [viewing, setViewing] = useState<WebhookView | null>(null);

  const actions = (w: WebhookView) => (
    <ActionMenu
      label={`Actions for the webhook to ${w.url}`}
      items={[
        { label: "Send test event", onSelect: () => test.mutate(w) },
        { label: "Delivery log", onSelect: () => setViewing(w) },
        { label: "Delete", onSelect: () => setDeleting(w), destructive: true },
      ]}
    />
  );

  return (
    <div className="space-y-6">
      <PageHeader title="Webhooks" action={<Button onClick={() => setAdding(true)}>Add webhook</Button>}>
        Keygate POSTs alerts to your endpoints, signed the Standard Webhooks way: when a key reaches 50, 80 or 100 % of its budget, when your balance runs low,
        and a day before a subscription without auto-renewal ends. Failed deliveries are retried for about a day.
      </PageHeader>

      <section aria-label="Webhooks" className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <QueryTable
          query={webhooks}
          columns={COLUMNS}
          label="Webhooks"
          loadingLabel="Loading webhooks"
          empty={{ title: "No webhooks yet", body: "Add one to be told when a budget or your balance needs attention." }}
          cards={(rows) =>
            rows.map((w) => (
              <Card key={w.id} data-testid="webhook-row">
                <div className="flex items-start justify-between gap-2">
                  <code className="min-w-0 break-all font-mono text-xs">{w.url}</code>
                  {actions(w)}
                </div>
                <dl className="grid grid-cols-2 gap-2 text-sm">
                  <CardFact term="Events">{w.events.join(", ")}</CardFact>
                  <CardFact term="Created">
                    <RelativeTime iso={w.createdAt} />
                  </CardFact>
                </dl>
              </Card>
            ))
          }
        >
          {(rows) =>
            rows.map((w) => (
              <Row key={w.id} data-testid="webhook-row">
                <Cell className="max-w-[22rem]">
                  <code className="block truncate font-mono text-xs" title={w.url}>
                    {w.url}
                  </code>
                </Cell>
                <Cell className="text-xs">{w.events.join(", ")}</Cell>
                <Cell>
                  <RelativeTime iso={w.createdAt} />
                </Cell>
                <Cell className="py-0 text-right">{actions(w)}</Cell>
              </Row>
            ))
          }
        </QueryTable>
      </section>

      <LowBalanceSection />

      <AddWebhookDialog
        open={adding}
        pending={create.isPending}
        error={create.error?.message}
        onClose={() => {
          setAdding(false);
          create.reset();
        }}
        onSubmit={(body) =>
          create.mutate(body, {
            onSuccess: (created) => {
              setAdding(false);
              create.reset();
              setSecret(created.secret);
            },
          })
        }
      />
      <SecretModal
        secret={secret}
        title="Webhook signing secret"
        notice="Copy this signing secret now. It will not be shown again. Your receiver checks each delivery's webhook-signature with it."
        onClose={() => setSecret(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this webhook?"
        description={deleting ? `Nothing more will be sent to ${deleting.url}, and its delivery log is erased.` : ""}
        confirmLabel="Delete webhook"
        pending={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting, { onSuccess: () => setDeleting(null) })}
      />
      <DeliveryLogDialog webhook={viewing} onClose={() => setViewing(null)} onTest={(w) => test.mutate(w)} testing={test.isPending} />
    </div>
  );
}

type FormInput = z.input<typeof createWebhookSchema>;
type FormOutput = z.output<typeof createWebhookSchema>;

function AddWebhookDialog({
  open,
  pending,
  error,
  onClose,
  onSubmit,
}: {
  open: boolean;
  pending: boolean;
  error?: string;
  onClose: () => void;
  onSubmit: (body: FormOutput) => void;
}) {
  const form = useForm<FormInput, unknown, FormOutput>({
    resolver: zodResolver(createWebhookSchema),
    defaultValues: { url: "", events: [...WEBHOOK_EVENTS] },
  });
  const { errors, submitCount } = form.formState;
  const formRef = useFocusFirstInvalid(submitCount);
  const close = () => {
    form.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title="Add webhook" description="Keygate POSTs the events you choose to this URL." testId="webhook-dialog">
      <form ref={formRef} noValidate onSubmit={form.handleSubmit(onSubmit)} className="space-y-4">
        <Field
          label="URL"
          type="url"
          placeholder="https://hooks.example.com/keygate"
          hint="https, or http to a public address."
          error={errors.url?.message}
          {...form.register("url")}
        />
        <fieldset aria-describedby={errors.events ? "webhook-events-error" : undefined}>
          <legend className="mb-1.5 text-sm font-medium text-zinc-800 dark:text-zinc-200">Events</legend>
          <div className="space-y-2">
            {WEBHOOK_EVENTS.map((e) => (
              <label key={e} className="flex items-start gap-2 text-sm">
                <input type="checkbox" value={e} className="mt-0.5 h-4 w-4 accent-indigo-600" {...form.register("events")} />
                <span>
                  <code className="font-mono text-xs">{e}</code>
                  <span className="block text-xs text-zinc-600 dark:text-zinc-400">{WEBHOOK_EVENT_DESCRIPTIONS[e]}</span>
                </span>
              </label>
            ))}
          </div>
          {errors.events && (
            <p id="webhook-events-error" className="mt-1.5 text-xs text-red-700 dark:text-red-400">
              Choose at least one event.
            </p>
          )}
        </fieldset>
        <FormFooter error={error} onCancel={close} pending={pending} submitLabel="Add webhook" pendingLabel="Adding…" />
      </form>
    </Dialog>
  );
}

const STATUS_TONES: Record<WebhookDeliveryView["status"], string> = {
  delivered: "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-950/50 dark:text-emerald-300 dark:ring-emerald-400/20",
  pending: "bg-amber-50 text-amber-900 ring-amber-600/20 dark:bg-amber-950/50 dark:text-amber-300 dark:ring-amber-400/20",
  failed: "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-950/50 dark:text-red-300 dark:ring-red-400/20",
};

function DeliveryStatus({ status }: { status: WebhookDeliveryView["status"] }) {
  return (
    <span className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium leading-4 ring-1 ring-inset ${STATUS_TONES[status]}`}>
      {status}
    </span>
  );
}

const LOG_COLUMNS = [
  { label: "Event" },
  { label: "Status" },
  { label: "Attempts", className: "text-right" },
  { label: "Last status" },
  { label: "Next attempt" },
];

function DeliveryLogDialog({
  webhook,
  onClose,
  onTest,
  testing,
}: {
  webhook: WebhookView | null;
  onClose: () => void;
  onTest: (w: WebhookView) => void;
  testing: boolean;
}) {
  const log = useDeliveries(webhook?.id ?? null);
  return (
    <Dialog
      open={webhook !== null}
      onClose={onClose}
      title="Delivery log"
      description={webhook ? `Events sent to ${webhook.url}, newest first.` : undefined}
      testId="delivery-log"
      className="sm:max-w-3xl"
    >
      <div className="space-y-4">
        <div className="overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-800">
          <QueryTable
            query={log}
            columns={LOG_COLUMNS}
            label="Deliveries"
            loadingLabel="Loading deliveries"
            empty={{ title: "Nothing sent yet", body: "Send a test event to check your receiver." }}
            cards={(rows) =>
              rows.map((d) => (
                <Card key={d.id} data-testid="delivery-row">
                  <div className="flex items-center justify-between gap-2">
                    <code className="font-mono text-xs">{d.type}</code>
                    <DeliveryStatus status={d.status} />
                  </div>
                  <dl className="grid grid-cols-2 gap-2 text-sm">
                    <CardFact term="Attempts">{d.attempts}</CardFact>
                    <CardFact term="Last status">{d.lastStatusCode ?? "—"}</CardFact>
                    <CardFact term="Next attempt">
                      <RelativeTime iso={d.nextAttemptAt} empty="—" />
                    </CardFact>
                  </dl>
                </Card>
              ))
            }
          >
            {(rows) =>
              rows.map((d) => (
                <Row key={d.id} data-testid="delivery-row">
                  <Cell>
                    <code className="font-mono text-xs">{d.type}</code>
                    <span className="block text-xs text-zinc-500 dark:text-zinc-400">
                      <RelativeTime iso={d.createdAt} />
                    </span>
                  </Cell>
                  <Cell>
                    <DeliveryStatus status={d.status} />
                  </Cell>
                  <Cell className="text-right tabular-nums">{d.attempts}</Cell>
                  <Cell className="tabular-nums">{d.lastStatusCode ?? "—"}</Cell>
                  <Cell>
                    <RelativeTime iso={d.nextAttemptAt} empty="—" />
                  </Cell>
                </Row>
              ))
            }
          </QueryTable>
        </div>
        <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
          <Button variant="secondary" disabled={testing || !webhook} onClick={() => webhook && onTest(webhook)}>
            {testing ? "Sending…" : "Send test event"}
          </Button>
          <Button onClick={onClose} autoFocus>
            Done
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

/** The account's low-balance threshold, which `account.balance.low` compares the balance with. */
function LowBalanceSection() {
  const account = useAccount();
  if (!account.data) return null;
  return <LowBalanceForm key={account.data.lowBalanceUsd} current={account.data.lowBalanceUsd} />;
}

function LowBalanceForm({ current }: { current: number }) {
  const update = useUpdateAccount();
  const form = useForm<UpdateAccountInput>({ resolver: zodResolver(updateAccountSchema), defaultValues: { lowBalanceUsd: current } });
  const { errors, submitCount } = form.formState;
  const formRef = useFocusFirstInvalid(submitCount);
  return (
    <section aria-labelledby="low-balance-heading" className="rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <h2 id="low-balance-heading" className="text-lg font-medium">
        Low-balance alert
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Webhooks subscribed to <code className="font-mono text-xs">account.balance.low</code> hear once each time your balance falls below this amount.
      </p>
      <form ref={formRef} noValidate onSubmit={form.handleSubmit((body) => update.mutate(body))} className="mt-4 flex flex-wrap items-end gap-3">
        <Field
          label="Alert below (USD)"
          type="number"
          inputMode="decimal"
          step="any"
          min={0}
          className="w-48"
          error={errors.lowBalanceUsd?.message}
          {...form.register("lowBalanceUsd", { valueAsNumber: true })}
        />
        <Button type="submit" variant="secondary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </Button>
      </form>
    </section>
  );
}
