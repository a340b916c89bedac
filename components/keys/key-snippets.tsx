"use client";

import { useState } from "react";
import { Tabs } from "radix-ui";
import { Button } from "@/components/ui/button";
import type { ReportCopy } from "@/components/keys/secret-modal";

export interface KeySnippetsProps {
  /** The address this browser reaches Keygate at, e.g. "http://localhost:3000". */
  origin: string;
  /** A model the snippet can call, e.g. "keygate/echo". */
  model: string;
  /** The new credit key (sk_live_…). */
  apiKey: string;
  /** Copying a snippet copies the key too: the modal is told, so it stops guarding it. */
  onCopy: ReportCopy;
}

interface Snippet {
  id: string;
  label: string;
  /** Said above the code: where it runs, or what it needs installed. */
  caption: React.ReactNode;
  code: string;
}

/** A string as a shell single-quoted word: the only character to escape is ' itself. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The same request in curl and with the official openai clients, ready to paste. */
export function snippets(origin: string, model: string, apiKey: string): Snippet[] {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] });
  // JSON string literals are valid Python and TypeScript string literals too.
  const m = JSON.stringify(model);
  return [
    {
      id: "curl",
      label: "curl",
      caption: "In a terminal:",
      code: [
        `curl ${origin}/v1/chat/completions \\`,
        `  -H "Authorization: Bearer ${apiKey}" \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d ${shellQuote(body)}`,
      ].join("\n"),
    },
    {
      id: "python",
      label: "Python",
      caption: <NeedsPackage install="pip install openai" />,
      code: [
        `from openai import OpenAI`,
        ``,
        `client = OpenAI(base_url="${origin}/v1", api_key="${apiKey}")`,
        ``,
        `completion = client.chat.completions.create(`,
        `    model=${m},`,
        `    messages=[{"role": "user", "content": "Hello!"}],`,
        `)`,
        `print(completion.choices[0].message.content)`,
      ].join("\n"),
    },
    {
      id: "typescript",
      label: "TypeScript",
      caption: <NeedsPackage install="npm install openai" />,
      code: [
        `import OpenAI from "openai";`,
        ``,
        `const client = new OpenAI({ baseURL: "${origin}/v1", apiKey: "${apiKey}" });`,
        ``,
        `const completion = await client.chat.completions.create({`,
        `  model: ${m},`,
        `  messages: [{ role: "user", content: "Hello!" }],`,
        `});`,
        `console.log(completion.choices[0].message.content);`,
      ].join("\n"),
    },
  ];
}

/**
 * Ready-to-paste calls to /v1/chat/completions with the new key, one tab per
 * language. Copy results are announced by the modal's own status line, so
 * the modal keeps a single live region.
 */
export function KeySnippets({ origin, model, apiKey, onCopy }: KeySnippetsProps) {
  const all = snippets(origin, model, apiKey);
  return (
    <section aria-labelledby="key-snippets-title" data-testid="key-snippets">
      <h3 id="key-snippets-title" className="text-sm font-medium">
        Try it
      </h3>
      <p className="mt-0.5 text-xs text-zinc-600 dark:text-zinc-400">
        Any OpenAI-compatible client works: point its base URL at <code className="font-mono">{origin}/v1</code>.
      </p>
      <Tabs.Root defaultValue={all[0].id} className="mt-2">
        <Tabs.List aria-label="Example language" className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
          {all.map((s) => (
            <Tabs.Trigger
              key={s.id}
              value={s.id}
              className="-mb-px rounded-t-md border-b-2 border-transparent px-3 py-1.5 text-sm font-medium text-zinc-600 transition-colors hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-600 data-[state=active]:border-indigo-600 data-[state=active]:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100 dark:data-[state=active]:border-indigo-400 dark:data-[state=active]:text-zinc-100"
            >
              {s.label}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {all.map((s) => (
          // tabIndex -1: the panel holds a focusable copy button and code region, so it needs no tab stop of its own.
          <Tabs.Content key={s.id} value={s.id} tabIndex={-1} className="pt-2 outline-none">
            <SnippetPanel snippet={s} onCopy={onCopy} />
          </Tabs.Content>
        ))}
      </Tabs.Root>
    </section>
  );
}

function SnippetPanel({ snippet, onCopy }: { snippet: Snippet; onCopy: ReportCopy }) {
  const [copied, setCopied] = useState(false);
  const what = `${snippet.label} example`;

  async function copy() {
    try {
      await navigator.clipboard.writeText(snippet.code);
      setCopied(true);
      onCopy({ what, ok: true });
    } catch {
      onCopy({ what, ok: false });
    }
  }

  return (
    <>
      <div className="mb-1 flex min-h-8 items-center justify-between gap-2">
        <p className="text-xs text-zinc-600 dark:text-zinc-400">{snippet.caption}</p>
        <Button variant="secondary" size="sm" onClick={copy} aria-label={`Copy ${what}`}>
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      {/* Focusable and named, so keyboard users can scroll a long line. */}
      <pre
        data-testid={`snippet-${snippet.id}`}
        tabIndex={0}
        role="region"
        aria-label={what}
        className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs leading-5 text-zinc-900 dark:bg-zinc-950 dark:text-zinc-100"
      >
        {snippet.code}
      </pre>
    </>
  );
}

function NeedsPackage({ install }: { install: string }) {
  return (
    <>
      Needs the <code className="font-mono">openai</code> package: <code className="font-mono">{install}</code>
    </>
  );
}
