import { randomBytes } from "node:crypto";
import { ApiReference } from "@scalar/nextjs-api-reference";
import { openApiDocument, SESSION_TOKEN_SCHEME } from "@/lib/openapi";
import { SCALAR_BUNDLE_PATH, scalarBundle } from "./scalar-bundle";
import { SUMMARY_STYLE, summaryHtml, TAKEOVER_SCRIPT } from "./summary";

/**
 * GET /docs: the API reference, rendered in the browser by Scalar from the
 * OpenAPI document at /api/openapi.json, with a "Test Request" client that
 * sends requests to this instance (the document's server is `/`).
 *
 * The first response already holds the document's content (./summary.ts),
 * so a reader does not wait for Scalar's bundle: it runs after the first
 * frame, and Scalar's page replaces the summary once it has rendered.
 *
 * Everything it loads comes from this origin: the bundle (/docs/scalar.js),
 * the document, and the requests a user tries. The options below switch off
 * each feature that would reach Scalar's services or a CDN, and the
 * Content-Security-Policy makes the browser refuse any that is left.
 */
type Config = Parameters<typeof ApiReference>[0];

const CONFIG: Config = {
  pageTitle: "API reference · Keygate",
  url: "/api/openapi.json",
  // Scalar's default fonts come from fonts.scalar.com; use the system's.
  withDefaultFonts: false,
  // A set proxy carries every request to a non-local host, Authorization
  // header included; unset, 1.72 falls back to proxy.scalar.com in its
  // full-page client layout (not the modal used here). Empty means never:
  // same-origin requests need no proxy.
  proxyUrl: "",
  telemetry: false,
  // The "Open API Client" link to client.scalar.com.
  hideClientButton: true,
  // The toolbar whose "Share" and "Deploy" upload the document to Scalar.
  showDeveloperTools: "never",
  // "Generate MCP" (Scalar's hosted MCP servers), shown on localhost by default.
  mcp: { disabled: true },
  // A "Bearer Token" field for the token from POST /api/auth/token, filled
  // once for every operation. Scalar selects a preferred scheme only when it
  // is also listed here; the type repeats the document's (http bearer).
  authentication: {
    preferredSecurityScheme: SESSION_TOKEN_SCHEME,
    securitySchemes: { [SESSION_TOKEN_SCHEME]: { type: "http", scheme: "bearer" } },
  },
  persistAuth: false,
  defaultHttpClient: { targetKey: "shell", clientKey: "curl" },
  documentDownloadType: "json",
  // About twenty operations: render them all, so the whole reference is on
  // one page (and found by the browser's own search).
  defaultOpenAllTags: true,
};

/**
 * Options the bundle (@scalar/api-reference 1.72) reads but the adapter's
 * types (@scalar/types 0.19) do not know yet: "Ask AI" (Agent Scalar, which
 * talks to api.scalar.com and is on by default on localhost).
 */
const BUNDLE_ONLY_CONFIG: object = { agent: { disabled: true } };

function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    // The reference renders inline style attributes, which no nonce covers.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * A bar above the reference with the way back to the dashboard. Scalar
 * offsets its sticky sidebar and headers by --scalar-custom-header-height.
 */
const BAR_STYLE = `
:root { --scalar-custom-header-height: 44px; }
.keygate-bar {
  position: sticky; top: 0; z-index: 100; box-sizing: border-box; height: 44px;
  display: flex; align-items: center; gap: 10px; padding: 0 16px;
  font: 14px/1 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--scalar-background-1, Canvas); color: var(--scalar-color-2, GrayText);
  border-bottom: 1px solid var(--scalar-border-color, color-mix(in srgb, CanvasText 12%, transparent));
}
.keygate-bar a { color: inherit; text-decoration: none; }
.keygate-bar a:hover { text-decoration: underline; }
.keygate-bar .home { color: var(--scalar-color-1, CanvasText); font-weight: 700; letter-spacing: 0.08em; }
.keygate-bar .raw { margin-left: auto; font-family: ui-monospace, monospace; font-size: 13px; }
`;

const BAR = `<header class="keygate-bar">
      <a class="home" href="/">KEYGATE</a><span aria-hidden="true">/</span><span>API reference</span>
      <a class="raw" href="/api/openapi.json">openapi.json</a>
    </header>`;

export async function GET(): Promise<Response> {
  const { hash } = await scalarBundle();
  const nonce = randomBytes(16).toString("base64");
  const scalarPage = await ApiReference({
    ...CONFIG,
    ...BUNDLE_ONLY_CONFIG,
    cdn: `${SCALAR_BUNDLE_PATH}?v=${hash}`,
    nonce,
  })().text();
  // Scalar's page ends with its bundle and an inline script that starts it at once.
  const bundleTag = `<script src="${SCALAR_BUNDLE_PATH}?v=${hash}" nonce="${nonce}"></script>`;
  const init = /<script type="text\/javascript" nonce="[^"]+">\s*Scalar\.createApiReference\(([\s\S]*?)\)\s*<\/script>/.exec(scalarPage);
  if (!scalarPage.includes(bundleTag) || !init || !scalarPage.includes('<div id="app"></div>')) {
    // A new @scalar/nextjs-api-reference changed its page: fail loudly rather than serve a broken one.
    throw new Error("/docs: Scalar's page no longer has the shape app/docs/route.ts rewrites");
  }
  const page = scalarPage
    .replace("<html>", '<html lang="en">')
    .replace("</head>", `<style nonce="${nonce}">${BAR_STYLE}${SUMMARY_STYLE}</style>\n  </head>`)
    // Functions as replacements, so a `$` in the document's text is not a pattern.
    .replace(
      '<div id="app"></div>',
      () => `${BAR}\n    ${summaryHtml(openApiDocument())}\n    <div id="app" hidden></div>\n    <script nonce="${nonce}">${TAKEOVER_SCRIPT}</script>`,
    )
    // The bundle is fetched at once (preload) but run only after the first
    // frame: run as soon as it arrives (as a plain or deferred script is on
    // localhost), its seconds of work on the main thread would hold up the
    // summary's first paint.
    .replace("</head>", () => `<link rel="preload" href="${SCALAR_BUNDLE_PATH}?v=${hash}" as="script">\n  </head>`)
    .replace(bundleTag, "")
    .replace(
      init[0],
      () => `<script nonce="${nonce}">
      requestAnimationFrame(() => setTimeout(() => {
        const bundle = document.createElement("script");
        bundle.src = "${SCALAR_BUNDLE_PATH}?v=${hash}";
        bundle.onload = () => Scalar.createApiReference(${init[1]});
        document.body.append(bundle);
      }));
    </script>`,
    );
  return new Response(page, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": contentSecurityPolicy(nonce),
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    },
  });
}
