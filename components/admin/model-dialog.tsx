"use client";

import { useId, useMemo } from "react";
import { useForm, type UseFormRegisterReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { Dialog } from "@/components/ui/dialog";
import { Field, inputClassName } from "@/components/ui/field";
import { FormFooter } from "@/components/ui/form-footer";
import { useFocusFirstInvalid } from "@/components/ui/use-focus-first-invalid";
import { MODEL_KINDS, PROVIDERS, upsertModelSchema, type ModelView, type UpsertModelInput } from "@/lib/models/schemas";
import { fieldMessages } from "@/lib/client/field-message";

type Provider = (typeof PROVIDERS)[number];
type Kind = (typeof MODEL_KINDS)[number];

const KIND_LABELS: Record<Kind, string> = {
  chat: "Chat (chat completions, messages, responses)",
  embedding: "Embedding (/v1/embeddings, OpenAI upstreams only)",
};

const PROVIDER_LABELS: Record<Provider, string> = {
  openai: "OpenAI (served at /v1/chat/completions)",
  anthropic: "Anthropic (served at /v1/messages)",
};

interface ModelFormValues {
  model: string;
  provider: Provider;
  kind: Kind;
  upstreamModel: string;
  inputUsdPerMTok: string;
  outputUsdPerMTok: string;
  maxOutputTokens: string;
  active: boolean;
}

const LABELS = {
  model: "Model",
  upstreamModel: "Upstream model",
  inputUsdPerMTok: "Input price",
  outputUsdPerMTok: "Output price",
  maxOutputTokens: "Max output tokens",
} as const;
type FieldName = keyof typeof LABELS;

const fieldMessage = fieldMessages(LABELS);

function numberOrText(s: string): number | string {
  const t = s.trim();
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : t;
}

function initialValues(m: ModelView | null): ModelFormValues {
  return {
    model: m?.model ?? "",
    provider: m?.provider ?? "openai",
    kind: m?.kind ?? "chat",
    upstreamModel: m?.upstreamModel ?? "",
    inputUsdPerMTok: m ? String(m.inputUsdPerMTok) : "",
    outputUsdPerMTok: m ? String(m.outputUsdPerMTok) : "",
    maxOutputTokens: m ? String(m.maxOutputTokens) : "",
    active: m?.active ?? true,
  };
}

/**
 * The upsert's body: every field on a create; on an edit, the name and only
 * the fields that changed (the API keeps what is omitted, routes included),
 * so an edit never overwrites a change someone else saved meanwhile.
 */
function modelFormSchema(m: ModelView | null) {
  const before = initialValues(m);
  return z
    .object({
      model: z.string(),
      provider: z.enum(PROVIDERS),
      kind: z.enum(MODEL_KINDS),
      upstreamModel: z.string(),
      inputUsdPerMTok: z.string(),
      outputUsdPerMTok: z.string(),
      maxOutputTokens: z.string(),
      active: z.boolean(),
    })
    .transform((v) => {
      const all: Record<string, unknown> = {
        provider: v.provider,
        kind: v.kind,
        upstreamModel: v.upstreamModel.trim() === "" ? null : v.upstreamModel.trim(),
        inputUsdPerMTok: numberOrText(v.inputUsdPerMTok),
        outputUsdPerMTok: numberOrText(v.outputUsdPerMTok),
        maxOutputTokens: numberOrText(v.maxOutputTokens),
        active: v.active,
      };
      if (!m) return { model: v.model.trim(), ...all } as z.input<typeof upsertModelSchema>;
      const changed = Object.fromEntries(
        Object.entries(all).filter(([k]) => {
          const now = v[k as keyof typeof v];
          const was = before[k as keyof typeof before];
          return typeof now === "string" ? now.trim() !== String(was).trim() : now !== was;
        }),
      );
      return { model: m.model, ...changed } as z.input<typeof upsertModelSchema>;
    })
    .pipe(upsertModelSchema);
}

export interface ModelDialogProps {
  open: boolean;
  /** The model being edited; null to add one. */
  model: ModelView | null;
  pending: boolean;
  error?: string;
  onClose: () => void;
  onSave: (body: UpsertModelInput) => void;
}

export function ModelDialog({ open, model, pending, error, onClose, onSave }: ModelDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={model ? `Edit “${model.model}”` : "Add a model"}
      description="Prices are in US dollars per million tokens. A changed price applies to requests that start after the change."
      testId="model-dialog"
      className="sm:max-w-2xl"
    >
      {open && <ModelForm key={model?.model ?? "new"} model={model} pending={pending} error={error} onClose={onClose} onSave={onSave} />}
    </Dialog>
  );
}

function ModelForm({ model, pending, error, onClose, onSave }: Omit<ModelDialogProps, "open">) {
  const schema = useMemo(() => modelFormSchema(model), [model]);
  const {
    register,
    handleSubmit,
    formState: { errors, submitCount },
  } = useForm<ModelFormValues, unknown, z.output<typeof schema>>({
    resolver: zodResolver(schema),
    defaultValues: initialValues(model),
    shouldFocusError: false,
  });
  const formRef = useFocusFirstInvalid(submitCount);
  const providerId = useId();
  const kindId = useId();
  const message = (f: FieldName) => fieldMessage(f, errors[f]?.message);

  return (
    <form
      ref={formRef}
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit((body) => {
        // An edit with nothing changed: nothing to send.
        if (model && Object.keys(body).length === 1) return onClose();
        onSave(body);
      })}
    >
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        {model ? (
          <div>
            <p className="mb-1.5 text-sm font-medium text-zinc-800 dark:text-zinc-200">Model</p>
            <code className="font-mono text-sm">{model.model}</code>
          </div>
        ) : (
          <Field
            label="Model"
            placeholder="e.g. gpt-4o-mini"
            autoComplete="off"
            autoFocus
            hint="The name clients send. It cannot be changed later."
            error={message("model")}
            {...register("model")}
          />
        )}
        <div>
          <label htmlFor={providerId} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Provider
          </label>
          <select id={providerId} className={inputClassName} {...register("provider")}>
            {PROVIDERS.map((p) => (
              <option key={p} value={p}>
                {PROVIDER_LABELS[p]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={kindId} className="mb-1.5 block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Kind
          </label>
          <select id={kindId} aria-describedby={`${kindId}-hint`} className={inputClassName} {...register("kind")}>
            {MODEL_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
          <p id={`${kindId}-hint`} className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
            An embedding model is charged on input tokens only.
          </p>
        </div>
        <Field
          label="Input price (USD per 1M tokens)"
          inputMode="decimal"
          autoComplete="off"
          error={message("inputUsdPerMTok")}
          {...register("inputUsdPerMTok")}
        />
        <Field
          label="Output price (USD per 1M tokens)"
          inputMode="decimal"
          autoComplete="off"
          error={message("outputUsdPerMTok")}
          {...register("outputUsdPerMTok")}
        />
        <Field label="Max output tokens" inputMode="numeric" autoComplete="off" error={message("maxOutputTokens")} {...register("maxOutputTokens")} />
        <Field
          label="Upstream model"
          autoComplete="off"
          placeholder="Same as the model"
          hint="The name sent upstream when no route says otherwise."
          error={message("upstreamModel")}
          {...register("upstreamModel")}
        />
      </div>
      <ActiveCheckbox register={register("active")} />
      <FormFooter error={error} onCancel={onClose} pending={pending} submitLabel={model ? "Save changes" : "Add model"} pendingLabel="Saving…" />
    </form>
  );
}

function ActiveCheckbox({ register }: { register: UseFormRegisterReturn }) {
  const id = useId();
  return (
    <div className="flex items-start gap-2">
      <input id={id} type="checkbox" aria-describedby={`${id}-hint`} className="mt-0.5 size-4 accent-indigo-600" {...register} />
      <div>
        <label htmlFor={id} className="text-sm font-medium text-zinc-800 dark:text-zinc-200">
          Active
        </label>
        <p id={`${id}-hint`} className="text-xs text-zinc-600 dark:text-zinc-400">
          An inactive model answers 404 model_not_found.
        </p>
      </div>
    </div>
  );
}
