import type { Metadata } from "next";
import Link from "next/link";
import { AUTH_LABELS, openApiDocument, type HttpMethod, type OpenApiDocument, type OperationObject } from "@/lib/openapi";
import { constraints, fieldRows, shapeText, typeLabel, type FieldRow } from "./schema-text";

export const metadata: Metadata = {
  title: "API reference",
  description: "Every Keygate /api endpoint: authentication, request fields and responses.",
};

interface Entry {
  method: HttpMethod;
  path: string;
  op: OperationObject;
}

const METHOD_STYLES: Record<HttpMethod, string> = {
  get: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  post: "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-200",
  put: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  delete: "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-200",
};

const MUTED = "text-zinc-600 dark:text-zinc-400";
const CODE = "rounded bg-zinc-100 px-1 py-0.5 font-mono text-[0.9em] dark:bg-zinc-800";

function entriesByTag(doc: OpenApiDocument): Array<{ name: string; description: string; entries: Entry[] }> {
  const all: Entry[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method as HttpMethod, path, op: op as OperationObject })),
  );
  return doc.tags.map((tag) => ({ ...tag, entries: all.filter((e) => e.op.tags.includes(tag.name)) })).filter((t) => t.entries.length > 0);
}

/** Descriptions use `backticks` for code and nothing else. */
function Prose({ text, className }: { text: string; className?: string }) {
  return (
    <p className={className}>
      {text.split("`").map((part, i) =>
        i % 2 === 1 ? (
          <code key={i} className={CODE}>
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </p>
  );
}

function MethodBadge({ method }: { method: HttpMethod }) {
  return (
    <span className={`inline-block w-16 shrink-0 rounded px-1.5 py-0.5 text-center font-mono text-xs font-bold ${METHOD_STYLES[method]}`}>
      {method.toUpperCase()}
    </span>
  );
}

function FieldTable({ caption, rows }: { caption: string; rows: FieldRow[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr className={`border-b border-zinc-200 dark:border-zinc-700 ${MUTED}`}>
            <th scope="col" className="py-1.5 pr-3 font-medium">
              Field
            </th>
            <th scope="col" className="py-1.5 pr-3 font-medium">
              Type
            </th>
            <th scope="col" className="py-1.5 pr-3 font-medium">
              Required
            </th>
            <th scope="col" className="py-1.5 font-medium">
              Description
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name} className="border-b border-zinc-100 align-top last:border-0 dark:border-zinc-800">
              <td className="py-2 pr-3">
                <code className="font-mono font-semibold">{row.name}</code>
              </td>
              <td className="py-2 pr-3">
                <code className="font-mono text-xs">{row.type}</code>
              </td>
              <td className="py-2 pr-3">{row.required ? "yes" : "no"}</td>
              <td className="py-2">
                {row.description ? <Prose text={row.description} /> : null}
                {row.constraints.length > 0 ? <p className={`mt-0.5 text-xs ${MUTED}`}>{row.constraints.join(" · ")}</p> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Operation({ entry, doc }: { entry: Entry; doc: OpenApiDocument }) {
  const { method, path, op } = entry;
  const label = `${method.toUpperCase()} ${path}`;
  const pathParams = (op.parameters ?? []).filter((p) => p.in === "path");
  const queryParams = (op.parameters ?? []).filter((p) => p.in === "query");
  const bodySchema = op.requestBody?.content["application/json"].schema;
  const responses = Object.entries(op.responses);

  return (
    <article id={op.operationId} aria-labelledby={`${op.operationId}-title`} className="scroll-mt-6 rounded-xl border border-zinc-200 bg-white p-5 dark:border-zinc-800 dark:bg-zinc-900">
      <h3 id={`${op.operationId}-title`} className="flex flex-wrap items-center gap-3">
        <MethodBadge method={method} />
        <code className="font-mono text-base font-semibold break-all">{path}</code>
        <span className="sr-only">: {op.summary}</span>
      </h3>
      <p className="mt-2 font-medium">{op.summary}</p>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className={MUTED}>Auth</dt>
        <dd>{AUTH_LABELS[op["x-keygate-auth"]]}</dd>
        {op["x-keygate-shape"] === "modelswitch" ? (
          <>
            <dt className={MUTED}>Shape</dt>
            <dd>ModelSwitch-compatible response, not the native envelope</dd>
          </>
        ) : null}
      </dl>
      {op.description ? <Prose text={op.description} className={`mt-2 text-sm ${MUTED}`} /> : null}

      {pathParams.length > 0 ? (
        <section className="mt-4">
          <h4 className="mb-1 text-sm font-semibold">Path parameters</h4>
          <FieldTable
            caption={`Path parameters of ${label}`}
            rows={pathParams.map((p) => ({ name: p.name, type: typeLabel(p.schema), required: true, description: p.description, constraints: constraints(p.schema) }))}
          />
        </section>
      ) : null}

      {queryParams.length > 0 ? (
        <section className="mt-4">
          <h4 className="mb-1 text-sm font-semibold">Query parameters</h4>
          <FieldTable
            caption={`Query parameters of ${label}`}
            rows={queryParams.map((p) => ({
              name: p.name,
              type: typeLabel(p.schema),
              required: p.required,
              description: p.description,
              constraints: constraints(p.schema),
            }))}
          />
        </section>
      ) : null}

      {bodySchema ? (
        <section className="mt-4">
          <h4 className="mb-1 text-sm font-semibold">Request body</h4>
          <p className={`mb-1 text-xs ${MUTED}`}>
            A JSON object{op.requestBody?.required ? "" : " (may be empty)"}. Other fields are refused with 400.
          </p>
          <FieldTable caption={`Request body fields of ${label}`} rows={fieldRows(bodySchema, doc)} />
        </section>
      ) : null}

      <section className="mt-4">
        <h4 className="mb-1 text-sm font-semibold">Responses</h4>
        <ul className="space-y-2 text-sm">
          {responses.map(([status, response]) => {
            const schema = response.content?.["application/json"].schema;
            const success = status.startsWith("2");
            return (
              <li key={status} className="flex flex-col gap-1">
                <div className="flex items-start gap-3">
                  <span
                    className={`shrink-0 rounded px-1.5 py-0.5 font-mono text-xs font-bold ${
                      success
                        ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200"
                        : "bg-zinc-100 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200"
                    }`}
                  >
                    {status}
                  </span>
                  <Prose text={response.description} />
                </div>
                {success && schema ? (
                  <pre className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs leading-relaxed dark:bg-zinc-950">
                    {shapeText(schema, doc)}
                  </pre>
                ) : null}
              </li>
            );
          })}
        </ul>
      </section>
    </article>
  );
}

export default function ApiReferencePage() {
  const doc = openApiDocument();
  const groups = entriesByTag(doc);
  const errorSchema = { $ref: "#/components/schemas/Error" };

  return (
    <main className="mx-auto max-w-4xl px-4 py-10">
      <header className="mb-8">
        <p className="text-sm font-semibold tracking-wide text-indigo-700 dark:text-indigo-300">
          <Link href="/" className="hover:underline">
            KEYGATE
          </Link>
        </p>
        <h1 className="mt-1 text-3xl font-semibold">API reference</h1>
        <p className={`mt-2 ${MUTED}`}>
          {doc.info.title} {doc.info.version}. Generated from the schemas the API validates with. Machine-readable:{" "}
          <a href="/api/openapi.json" className="font-medium text-indigo-700 underline-offset-2 hover:underline dark:text-indigo-300">
            OpenAPI 3.1 document (/api/openapi.json)
          </a>
          .
        </p>
      </header>

      <div className="space-y-3 text-sm leading-relaxed">
        {doc.info.description.split("\n\n").map((paragraph) => (
          <Prose key={paragraph} text={paragraph} />
        ))}
      </div>

      <nav aria-label="Endpoints" className="mt-8 rounded-xl border border-zinc-200 bg-white p-5 dark:border-zinc-800 dark:bg-zinc-900">
        <h2 className="mb-3 text-lg font-semibold">Endpoints</h2>
        <div className="grid gap-4 sm:grid-cols-2">
          {groups.map((group) => (
            <div key={group.name}>
              <p className={`mb-1 text-xs font-semibold tracking-wide uppercase ${MUTED}`}>{group.name}</p>
              <ul className="space-y-1">
                {group.entries.map(({ method, path, op }) => (
                  <li key={op.operationId}>
                    <a href={`#${op.operationId}`} className="flex items-center gap-2 text-sm hover:underline">
                      <MethodBadge method={method} />
                      <code className="font-mono break-all">{path}</code>
                    </a>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      </nav>

      <section aria-labelledby="authentication" className="mt-10">
        <h2 id="authentication" className="text-xl font-semibold">
          Authentication
        </h2>
        <dl className="mt-3 space-y-3 text-sm">
          {Object.entries(doc.components.securitySchemes).map(([name, scheme]) => (
            <div key={name}>
              <dt className="font-medium">
                {name}{" "}
                <span className={`font-normal ${MUTED}`}>
                  ({scheme.type === "apiKey" ? `cookie ${scheme.name}` : `Bearer${scheme.bearerFormat ? ` ${scheme.bearerFormat}` : ""}`})
                </span>
              </dt>
              <dd>
                <Prose text={scheme.description} className={MUTED} />
              </dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="errors" className="mt-10">
        <h2 id="errors" className="text-xl font-semibold">
          Errors
        </h2>
        <p className={`mt-2 text-sm ${MUTED}`}>Every error, on every endpoint, has this shape:</p>
        <pre className="mt-2 overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs leading-relaxed dark:bg-zinc-900">
          {shapeText(errorSchema, doc)}
        </pre>
      </section>

      {groups.map((group) => {
        const id = `tag-${group.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
        return (
          <section key={group.name} aria-labelledby={id} className="mt-12">
            <h2 id={id} className="text-xl font-semibold">
              {group.name}
            </h2>
            <Prose text={group.description} className={`mt-1 mb-4 text-sm ${MUTED}`} />
            <div className="space-y-6">
              {group.entries.map((entry) => (
                <Operation key={entry.op.operationId} entry={entry} doc={doc} />
              ))}
            </div>
          </section>
        );
      })}
    </main>
  );
}
