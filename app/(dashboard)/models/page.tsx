import type { Metadata } from "next";
import Link from "next/link";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";
import { MICROS_PER_USD } from "@/lib/billing/money";
import { activeModels, DEMO_MODEL, DEMO_MODELS, type CatalogueModel } from "@/lib/models/catalogue";
import { cn } from "@/components/ui/cn";
import { CopyButton } from "@/components/ui/copy-button";
import { Cell, Row } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/states";
import { formatUsdShort } from "@/lib/client/money";

export const metadata: Metadata = { title: "Models" };

const COLUMNS = [
  { label: "Model" },
  { label: "Provider" },
  { label: "Input, per 1M tokens", className: "text-right" },
  { label: "Output, per 1M tokens", className: "text-right" },
  { label: "Max output tokens", className: "text-right" },
];

const PROVIDERS: Record<CatalogueModel["provider"], { name: string; endpoint: string }> = {
  openai: { name: "OpenAI", endpoint: "POST /v1/chat/completions" },
  anthropic: { name: "Anthropic", endpoint: "POST /v1/messages" },
  keygate: { name: "Keygate", endpoint: "either endpoint" },
};

const usdPerMTok = (micros: number) => formatUsdShort(micros / MICROS_PER_USD);

function addModelCurl(origin: string): string {
  return `curl -X POST ${origin}/api/admin/models \\
  -H "Authorization: Bearer $ADMIN_API_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "provider": "openai", "inputUsdPerMTok": 0.15, "outputUsdPerMTok": 0.6, "maxOutputTokens": 16384}'`;
}

/**
 * The models keys can call and what each costs, read from the gateway's own
 * in-memory catalogue, so the page shows exactly what the gateway serves.
 */
export default async function Page() {
  await requireUser("/models");
  const [models, origin] = await Promise.all([activeModels(), browsingOrigin()]);
  models.sort((a, b) => a.model.localeCompare(b.model));
  const curl = addModelCurl(origin);

  return (
    <div className="space-y-6">
      <div className="max-w-2xl">
        <h1 className="text-2xl font-semibold tracking-tight">Models</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          The models your API keys can call, and what each costs. Credit keys pay per token, in US dollars per million tokens; a price change applies to
          requests that start after it.
        </p>
      </div>

      <section
        aria-label="Available models"
        className="overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
      >
        {models.length === 0 ? (
          <EmptyState title="No models yet">
            <div className="max-w-2xl space-y-3 text-left">
              <p>
                The operator of this Keygate adds models, with their prices, through the admin API and the server&apos;s{" "}
                <code className="font-mono text-xs">ADMIN_API_TOKEN</code>. For example:
              </p>
              <pre
                data-testid="add-model-curl"
                tabIndex={0}
                role="region"
                aria-label="Adding a model with curl"
                className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs text-zinc-800 dark:bg-zinc-950 dark:text-zinc-200"
              >
                {curl}
              </pre>
              <div className="flex flex-wrap items-center gap-3">
                <CopyButton text={curl} label="Copy curl command" copiedMessage="Curl command copied." />
                <span>
                  <code className="font-mono text-xs">provider</code> is the upstream that serves it (<code className="font-mono text-xs">openai</code> or{" "}
                  <code className="font-mono text-xs">anthropic</code>). See the{" "}
                  <Link href="/docs" className="font-medium text-indigo-700 underline dark:text-indigo-300">
                    API reference
                  </Link>
                  .
                </span>
              </div>
            </div>
          </EmptyState>
        ) : (
          // `relative` keeps any absolutely positioned child inside the scroller.
          <div className="relative overflow-x-auto">
            <table aria-label="Models" className="w-full text-left text-sm">
              <thead className="border-b border-zinc-200 bg-zinc-50/80 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950/40 dark:text-zinc-400">
                <tr>
                  {COLUMNS.map((c) => (
                    <th key={c.label} scope="col" className={cn("h-10 whitespace-nowrap px-4 font-medium", c.className)}>
                      {c.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {models.map((m) => {
                  const provider = PROVIDERS[m.provider];
                  const demo = DEMO_MODELS.some((d) => d.model === m.model);
                  // Embedding models answer on one endpoint whatever their provider.
                  const endpoint = m.kind === "embedding" ? "POST /v1/embeddings" : provider.endpoint;
                  return (
                    <Row key={m.model} data-testid="model-row" data-model-name={m.model}>
                      <Cell>
                        <div className="flex items-center gap-2">
                          <code className="font-mono text-sm font-medium">{m.model}</code>
                          {demo && (
                            <span
                              data-testid="demo-badge"
                              className="inline-flex items-center rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium leading-4 text-indigo-800 ring-1 ring-inset ring-indigo-600/20 dark:bg-indigo-950/50 dark:text-indigo-300 dark:ring-indigo-400/20"
                            >
                              built-in demo
                            </span>
                          )}
                        </div>
                      </Cell>
                      <Cell>
                        <span className="block leading-5">{provider.name}</span>
                        <span className="block text-xs leading-5 text-zinc-500 dark:text-zinc-400">{endpoint}</span>
                      </Cell>
                      <Cell className="text-right tabular-nums">{usdPerMTok(m.inputMicrosPerMTok)}</Cell>
                      {/* An embedding generates no output: nothing is charged for it, and there is no cap. */}
                      <Cell className="text-right tabular-nums">{m.kind === "embedding" ? "—" : usdPerMTok(m.outputMicrosPerMTok)}</Cell>
                      <Cell className="text-right tabular-nums">{m.kind === "embedding" ? "—" : m.maxOutputTokens.toLocaleString("en-US")}</Cell>
                    </Row>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {models.some((m) => m.model === DEMO_MODEL.model) && (
        <p className="max-w-2xl text-sm text-zinc-600 dark:text-zinc-400">
          <code className="font-mono text-xs">{DEMO_MODEL.model}</code> is the built-in demo model: Keygate answers it itself, on either chat endpoint, so you
          can try a key before any upstream is set up (and <code className="font-mono text-xs">keygate/echo-embedding</code> answers{" "}
          <code className="font-mono text-xs">POST /v1/embeddings</code> with made-up vectors). By default it is offered only while no upstream is configured.
        </p>
      )}
      {models.length > 0 && (
        <p className="max-w-2xl text-sm text-zinc-600 dark:text-zinc-400">
          Operators add models and change prices with <code className="font-mono text-xs">POST /api/admin/models</code> and the admin token; see the{" "}
          <Link href="/docs" className="font-medium text-indigo-700 underline dark:text-indigo-300">
            API reference
          </Link>
          .
        </p>
      )}
    </div>
  );
}
