"use client";

import { useId, useMemo } from "react";
import { useFieldArray, useForm, useWatch, type FieldErrors, type UseFormRegisterReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, inputClassName } from "@/components/ui/field";
import { FormFooter } from "@/components/ui/form-footer";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import {
  createUpstreamSchema,
  MAX_UPSTREAM_HEADERS,
  UPSTREAM_PROTOCOLS,
  updateUpstreamSchema,
  type CreateUpstreamInput,
  type UpdateUpstreamInput,
  type UpstreamView,
} from "@/lib/upstreams/schemas";
import { fieldMessages } from "@/lib/client/field-message";

type Protocol = (typeof UPSTREAM_PROTOCOLS)[number];

const PROTOCOLS: Record<Protocol, { label: string; baseUrl: string }> = {
  openai: { label: "OpenAI (Chat Completions)", baseUrl: "With /v1, as the OpenAI SDK writes it: https://api.openai.com/v1" },
  anthropic: { label: "Anthropic (Messages)", baseUrl: "Without /v1, as the Anthropic SDK writes it: https://api.anthropic.com" },
};

/** What the inputs hold: text, as typed. */
interface UpstreamFormValues {
  name: string;
  protocol: Protocol;
  baseUrl: string;
  apiKey: string;
  /** On an edit: whether the headers are being replaced (their values cannot be read back, so they are retyped). */
  replaceHeaders: boolean;
  headerRows: { name: string; value: string }[];
  timeoutMs: string;
  active: boolean;
}

const LABELS = { name: "Name", protocol: "Protocol", baseUrl: "Base URL", apiKey: "API key", timeoutMs: "Timeout", headers: "Headers" } as const;
type FieldName = keyof typeof LABELS;

/** The API speaks in its field names ("baseUrl must …"); the form says it with the label the user sees. */
const fieldMessage = fieldMessages(LABELS);

function numberOrText(s: string): number | string | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

const formShape = z.object({
  name: z.string(),
  protocol: z.enum(UPSTREAM_PROTOCOLS),
  baseUrl: z.string(),
  apiKey: z.string(),
  replaceHeaders: z.boolean(),
  headerRows: z.array(z.object({ name: z.string(), value: z.string() })),
  timeoutMs: z.string(),
  active: z.boolean(),
});
type FormShape = z.infer<typeof formShape>;

/**
 * The header rows as the API's `{"name": "value"}`. A row left empty is
 * ignored; a named row needs its value (values are write-only: an edit
 * cannot show the old one, and sending "" would silently blank the header).
 */
function headersOf(v: FormShape, ctx: z.RefinementCtx): Record<string, string> {
  const headers: Record<string, string> = {};
  v.headerRows.forEach((row, i) => {
    const name = row.name.trim();
    if (name === "" && row.value === "") return;
    if (name === "") ctx.addIssue({ code: "custom", path: ["headerRows", i, "name"], message: "Enter the header's name, or remove the row" });
    else if (row.value === "") ctx.addIssue({ code: "custom", path: ["headerRows", i, "value"], message: `Enter the value of ${name}` });
    else headers[name] = row.value;
  });
  return headers;
}

/** A new upstream: the inputs' text becomes the API's body, checked by the API's own schema. */
const createFormSchema = formShape
  .transform((v, ctx) => {
    const headers = headersOf(v, ctx);
    const timeoutMs = numberOrText(v.timeoutMs);
    return {
      name: v.name.trim(),
      protocol: v.protocol,
      baseUrl: v.baseUrl.trim(),
      apiKey: v.apiKey,
      ...(Object.keys(headers).length > 0 && { headers }),
      ...(timeoutMs !== null && { timeoutMs }),
      active: v.active,
    } as z.input<typeof createUpstreamSchema>;
  })
  .pipe(createUpstreamSchema);

/**
 * An edit sends only what changed. A blank API key keeps the stored one;
 * the headers are sent (and replace them all) only when the operator chose
 * to replace them.
 */
function editFormSchema(u: UpstreamView) {
  const before = initialValues(u);
  return formShape
    .transform((v, ctx) => {
      const patch: Record<string, unknown> = {};
      if (v.name.trim() !== before.name) patch.name = v.name.trim();
      if (v.protocol !== before.protocol) patch.protocol = v.protocol;
      if (v.baseUrl.trim() !== before.baseUrl) patch.baseUrl = v.baseUrl.trim();
      if (v.apiKey !== "") patch.apiKey = v.apiKey;
      if (v.replaceHeaders) patch.headers = headersOf(v, ctx);
      if (v.timeoutMs.trim() !== before.timeoutMs) patch.timeoutMs = numberOrText(v.timeoutMs);
      if (v.active !== before.active) patch.active = v.active;
      return patch as z.input<typeof updateUpstreamSchema>;
    })
    .pipe(updateUpstreamSchema);
}

function initialValues(u: UpstreamView | null): UpstreamFormValues {
  return {
    name: u?.name ?? "",
    protocol: u?.protocol ?? "openai",
    baseUrl: u?.baseUrl ?? "",
    apiKey: "",
    replaceHeaders: false,
    headerRows: u ? u.headerNames.map((name) => ({ name, value: "" })) : [],
    timeoutMs: u?.timeoutMs == null ? "" : String(u.timeoutMs),
    active: u?.active ?? true,
  };
}

/** Every message under the API's `headers` (a name refused, one too many …), for the headers fieldset. */
function headerMessages(errors: FieldErrors<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const walk = (e: unknown) => {
    if (!e || typeof e !== "object") return;
    const { message } = e as { message?: unknown };
    if (typeof message === "string") out.push(message);
    for (const [k, child] of Object.entries(e)) if (k !== "ref" && k !== "message" && k !== "type") walk(child);
  };
  walk(errors.headers);
  return [...new Set(out)];
}

export interface UpstreamDialogProps {
  open: boolean;
  /** The upstream being edited; null to add one. */
  upstream: UpstreamView | null;
  pending: boolean;
  /** The API's refusal of the last save, shown inside the dialog. */
  error?: string;
  onClose: () => void;
  onCreate: (body: CreateUpstreamInput) => void;
  /** Only the fields that changed; never called with an empty patch. */
  onUpdate: (patch: UpdateUpstreamInput) => void;
}

export function UpstreamDialog({ open, upstream, pending, error, onClose, onCreate, onUpdate }: UpstreamDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={upstream ? `Edit upstream “${upstream.name}”` : "Add an upstream"}
      description={
        upstream
          ? "Changes apply from the next request. The API key and header values are write-only: they are never shown again."
          : "A provider endpoint the gateway can route models to. The API key and header values are stored encrypted and never shown again."
      }
      testId="upstream-dialog"
      className="sm:max-w-2xl"
    >
      {/* Keyed: every opening starts from the saved values, and a closed dialog forgets what was typed (the key included). */}
      {open && (
        <UpstreamForm
          key={upstream?.id ?? "new"}
          upstream={upstream}
          pending={pending}
          error={error}
          onClose={onClose}
          onCreate={onCreate}
          onUpdate={onUpdate}
        />
      )}
    </Dialog>
  );
}

function UpstreamForm({ upstream, pending, error, onClose, onCreate, onUpdate }: Omit<UpstreamDialogProps, "open">) {
  const schema = useMemo(() => (upstream ? editFormSchema(upstream) : createFormSchema), [upstream]);
  const {
    register,
    handleSubmit,
    control,
    setValue,
    formState: { errors, submitCount },
  } = useForm<UpstreamFormValues, unknown, Record<string, unknown>>({
    resolver: zodResolver(schema as z.ZodType<Record<string, unknown>, UpstreamFormValues>),
    defaultValues: initialValues(upstream),
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);
  const rows = useFieldArray({ control, name: "headerRows" });
  const protocol = useWatch({ control, name: "protocol" });
  const replaceHeaders = useWatch({ control, name: "replaceHeaders" });
  const headersEditable = !upstream || replaceHeaders;
  const protocolId = useId();
  const allErrors = errors as FieldErrors<Record<string, unknown>>;
  const message = (f: FieldName) => fieldMessage(f, (allErrors[f] as { message?: string } | undefined)?.message);

  const submit = handleSubmit((body) => {
    if (!upstream) return onCreate(body as CreateUpstreamInput);
    // Nothing changed: nothing to send (the dialog just closes).
    if (Object.keys(body).length === 0) return onClose();
    onUpdate(body as UpdateUpstreamInput);
  });

  return (
    <form ref={formRef} noValidate onSubmit={submit} className="space-y-4">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <Field
          label="Name"
          placeholder="e.g. openai-eu"
          autoComplete="off"
          autoFocus
          maxLength={64}
          hint="A slug: lowercase letters, digits and hyphens. Model routes name the upstream by it."
          error={message("name")}
          {...register("name")}
        />
        <div>
          <label htmlFor={protocolId} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Protocol
          </label>
          <select id={protocolId} className={inputClassName} {...register("protocol")}>
            {UPSTREAM_PROTOCOLS.map((p) => (
              <option key={p} value={p}>
                {PROTOCOLS[p].label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Field label="Base URL" autoComplete="off" inputMode="url" hint={PROTOCOLS[protocol].baseUrl} error={message("baseUrl")} {...register("baseUrl")} />
      <Field
        label="API key"
        type="password"
        autoComplete="new-password"
        placeholder={upstream ? "Leave blank to keep the current key" : undefined}
        hint={
          upstream
            ? `Leave blank to keep the current key${upstream.apiKeyLast4 ? ` (…${upstream.apiKeyLast4})` : ""}. Write-only: it is never shown again.`
            : "Write-only: stored encrypted, and only its last four characters are ever shown."
        }
        error={message("apiKey")}
        {...register("apiKey")}
      />

      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Extra headers (optional)</legend>
        {upstream && !replaceHeaders ? (
          <div className="flex flex-wrap items-center gap-3 text-sm text-zinc-600 dark:text-zinc-400">
            <span data-testid="current-header-names">
              {upstream.headerNames.length ? `${upstream.headerNames.join(", ")} (values hidden); kept as they are.` : "None."}
            </span>
            <Button variant="secondary" size="sm" onClick={() => setValue("replaceHeaders", true)}>
              Replace headers
            </Button>
          </div>
        ) : (
          <>
            <p className="text-xs text-zinc-600 dark:text-zinc-400">
              Sent with every request to this upstream. Values are write-only
              {upstream ? ": retype each value, and these rows replace all the current headers." : "."}
            </p>
            {rows.fields.map((row, i) => {
              const rowErrors = errors.headerRows?.[i];
              return (
                <div key={row.id} className="grid grid-cols-[1fr_1fr_auto] items-start gap-2" data-testid="header-row">
                  <Field
                    label={`Header ${i + 1} name`}
                    placeholder="e.g. OpenAI-Organization"
                    autoComplete="off"
                    error={rowErrors?.name?.message}
                    {...register(`headerRows.${i}.name`)}
                  />
                  <Field
                    label={`Header ${i + 1} value`}
                    type="password"
                    autoComplete="new-password"
                    error={rowErrors?.value?.message}
                    {...register(`headerRows.${i}.value`)}
                  />
                  <Button variant="ghost-danger" size="sm" className="mt-7" onClick={() => rows.remove(i)} aria-label={`Remove header ${i + 1}`}>
                    Remove
                  </Button>
                </div>
              );
            })}
            {headersEditable && rows.fields.length < MAX_UPSTREAM_HEADERS && (
              <Button variant="secondary" size="sm" onClick={() => rows.append({ name: "", value: "" })}>
                Add header
              </Button>
            )}
          </>
        )}
        {headerMessages(allErrors).map((m) => (
          <p key={m} className="text-xs text-red-700 dark:text-red-400">
            {m.charAt(0).toUpperCase() + m.slice(1)}
          </p>
        ))}
      </fieldset>

      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <Field
          label="Timeout (ms)"
          inputMode="numeric"
          autoComplete="off"
          placeholder="Server default"
          hint="For response headers, and then between chunks. Empty: KEYGATE_UPSTREAM_TIMEOUT_MS."
          error={message("timeoutMs")}
          {...register("timeoutMs")}
        />
        <ActiveCheckbox register={register("active")} />
      </div>
      <FormFooter
        error={error}
        onCancel={onClose}
        pending={pending}
        submitLabel={upstream ? "Save changes" : "Add upstream"}
        pendingLabel={upstream ? "Saving…" : "Adding…"}
      />
    </form>
  );
}

function ActiveCheckbox({ register }: { register: UseFormRegisterReturn }) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="flex items-start gap-2 sm:pt-7">
      <input id={id} type="checkbox" aria-describedby={hintId} className="mt-0.5 size-4 accent-indigo-600" {...register} />
      <div>
        <label htmlFor={id} className="text-sm font-medium text-zinc-800 dark:text-zinc-200">
          Active
        </label>
        <p id={hintId} className="text-xs text-zinc-600 dark:text-zinc-400">
          An inactive upstream gets no requests; its routes are skipped.
        </p>
      </div>
    </div>
  );
}
