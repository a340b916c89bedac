import type { OpenApiDocument } from "@/lib/openapi";

/**
 * The reference's content as plain HTML, in /docs's first response: the
 * title, the description, and every operation (method, path, summary) under
 * its tag, from the same OpenAPI document Scalar renders. A reader has it at
 * first paint, while Scalar's bundle (over 4 MB of JavaScript, seconds on a
 * busy machine) loads; Scalar's page replaces it once it has rendered, and
 * without JavaScript it stays.
 */

const METHODS = ["get", "post", "put", "delete"] as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The little Markdown the document's prose uses: `code`, and paragraphs. */
function inlineMarkdown(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

export function summaryHtml(doc: OpenApiDocument): string {
  const paragraphs = doc.info.description
    .split(/\n{2,}/)
    .map((p) => `<p>${inlineMarkdown(p)}</p>`)
    .join("\n");
  const sections = doc.tags.map((tag) => {
    const rows = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const op = item[method];
        if (!op?.tags.includes(tag.name)) return [];
        const scope = op["x-keygate-scope"];
        const scopeBadge = scope ? ` <span class="scope" title="The scope a management key needs">scope <code>${escapeHtml(scope)}</code></span>` : "";
        return [
          `<li><span class="method method-${method}">${method.toUpperCase()}</span> <code class="path">${escapeHtml(path)}</code> <span class="op">${escapeHtml(op.summary)}</span>${scopeBadge}</li>`,
        ];
      }),
    );
    if (!rows.length) return "";
    return `<section>
<h2>${escapeHtml(tag.name)}</h2>
<p>${inlineMarkdown(tag.description)}</p>
<ul class="ops">
${rows.join("\n")}
</ul>
</section>`;
  });
  return `<main id="keygate-summary" class="keygate-summary">
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p class="loading" role="status">The interactive reference (with “Test Request”) is loading…</p>
${paragraphs}
${sections.join("\n")}
</main>`;
}

/** Styles for the summary, readable before Scalar's theme (and its CSS variables) exists. */
export const SUMMARY_STYLE = `
.keygate-summary {
  box-sizing: border-box; max-width: 860px; margin: 0 auto; padding: 24px 20px 64px;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: CanvasText;
}
.keygate-summary h1 { font-size: 28px; margin: 8px 0 12px; }
.keygate-summary h1 small { font-size: 14px; font-weight: 400; opacity: 0.6; }
.keygate-summary h2 { font-size: 20px; margin: 32px 0 4px; }
.keygate-summary code { font: 13px ui-monospace, monospace; }
.keygate-summary .loading { opacity: 0.7; font-style: italic; }
.keygate-summary .ops { list-style: none; padding: 0; margin: 8px 0; }
.keygate-summary .ops li { padding: 6px 0; border-top: 1px solid color-mix(in srgb, CanvasText 12%, transparent); }
.keygate-summary .method { display: inline-block; min-width: 4.2em; font: 700 12px ui-monospace, monospace; }
.keygate-summary .method-get { color: #2b66cf; }
.keygate-summary .method-post { color: #417942; }
.keygate-summary .method-put { color: #cf7a2b; }
.keygate-summary .method-delete { color: #ae3763; }
.keygate-summary .op { opacity: 0.8; }
.keygate-summary .scope { margin-left: 0.5em; padding: 0 6px; border: 1px solid color-mix(in srgb, CanvasText 25%, transparent); border-radius: 4px; font-size: 12px; white-space: nowrap; }
#app[hidden] { display: none !important; }
`;

/**
 * Swaps the summary for Scalar's page once Scalar has rendered the
 * document's title: until then the reader keeps the summary, not Scalar's
 * empty frame; if the bundle never runs, the summary stays.
 */
export const TAKEOVER_SCRIPT = `(() => {
  const app = document.getElementById("app");
  const summary = document.getElementById("keygate-summary");
  if (!app || !summary) return;
  const observer = new MutationObserver(() => {
    if (!app.querySelector("h1")) return;
    observer.disconnect();
    const scrolled = window.scrollY > 0;
    summary.remove();
    app.hidden = false;
    if (scrolled) window.scrollTo(0, 0);
  });
  observer.observe(app, { childList: true, subtree: true });
})();`;
