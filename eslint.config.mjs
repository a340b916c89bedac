import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

/**
 * Which way the imports run (see CONVENTIONS.md), enforced so a boundary
 * cannot erode one convenient import at a time. lib/import-boundaries.test.ts
 * checks that these rules still fire.
 */
const NO_NEXT = {
  regex: "^next(/.*)?$",
  message: "lib/ must run without Next (the custom server and the tests import it in plain Node); keep Next-specific code under app/.",
};
const NO_APP = {
  regex: "^(@/|(\\.\\./)+)(app|components)(/.*)?$",
  message: "lib/ never imports app/ or components/: the imports run app → components → lib, never back.",
};
const NO_GATEWAY = {
  regex: "^(@/|(\\.\\./)+)lib/gateway(/.*)?$",
  message:
    "Domains never import the gateway: what both need (limits, caches, the catalogue, usage) lives below them, in lib/limits, lib/cache, lib/models, lib/subscriptions/cache, lib/usage.",
};
const NO_DOMAINS = {
  regex: "^(@/|(\\.\\./)+)lib/(gateway|keys|billing|pools|subscriptions|models|auth|usage|api)(/.*)?$",
  message: "Shared runtime state (lib/limits, lib/cache, lib/cluster) sits below the domains and never imports them.",
};
const restrict = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });

/** Files that hold the gateway's own code, and the front server that dispatches to it. */
const GATEWAY_FILES = ["lib/gateway/**", "lib/http/front.ts"];
const SHARED_STATE_FILES = ["lib/limits/**", "lib/cache/**", "lib/cluster/**"];
// Tests beside the code may drive a route handler in process.
const TESTS = ["lib/**/*.test.ts"];

const importBoundaries = [
  {
    // Domain code runs in plain Node too: the custom server's hot path and the
    // tests import it without Next. next-auth is a library, not Next itself.
    files: ["lib/**/*.{ts,tsx}"],
    ignores: [...TESTS, ...GATEWAY_FILES, ...SHARED_STATE_FILES],
    rules: restrict(NO_NEXT, NO_APP, NO_GATEWAY),
  },
  { files: GATEWAY_FILES, ignores: TESTS, rules: restrict(NO_NEXT, NO_APP) },
  { files: SHARED_STATE_FILES, ignores: TESTS, rules: restrict(NO_NEXT, NO_APP, NO_DOMAINS) },
  {
    // lib/ has no import cycles (a module's dependencies load before it, in Next's bundles as in plain Node).
    files: ["lib/**/*.ts", "server.ts"],
    settings: { "import/ignore": ["node_modules"] },
    rules: { "import/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    // One adapter per protocol (lib/gateway/protocols/) says what differs between them; nothing else branches on a protocol's name.
    files: ["lib/**/*.{ts,tsx}", "app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}", "server.ts"],
    ignores: ["lib/gateway/protocols/**", ...TESTS],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "BinaryExpression[operator=/^[!=]==?$/] > Literal[value=/^(openai|anthropic)$/]",
          message: "Ask the protocol's adapter (lib/gateway/protocols/) or servedOn() (lib/models/catalogue.ts) instead of comparing with a protocol's name.",
        },
      ],
    },
  },
  {
    // Client components are bundled for the browser. They may import only
    // the lib modules that touch no database: the zod schemas (and the types
    // beside them), the browser-side fetch helpers and money formatting.
    files: ["components/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(@/|(\\.\\./)+)lib(?!/[^/]+/schemas$|/client/[^/]+$|/billing/money$)(/.*)?$",
              message:
                "Client components never import the database or a module that does; import types from lib/<domain>/schemas.ts (allowed: @/lib/*/schemas, @/lib/client/*, @/lib/billing/money).",
            },
          ],
        },
      ],
    },
  },
  {
    // The browser-side helpers are bundled with the client components, so they
    // may import no more than those may, plus the pure block arithmetic the
    // gateway admits by (lib/pools/blocks.ts, which imports nothing).
    // This block replaces the lib/ one for these files, so it says "no Next" again.
    files: ["lib/client/**/*.{ts,tsx}"],
    ignores: ["lib/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^next(/.*)?$", message: "lib/ must run without Next; keep Next-specific code under app/." },
            {
              regex: "^(@/(?!lib/)|(@/lib/|\\.\\./)(?!(client/[^/]+|[^/]+/schemas|billing/money|pools/blocks)$))",
              message: "lib/client/ runs in the browser: it imports only lib/client/*, lib/*/schemas, lib/billing/money and the pure lib/pools/blocks.",
            },
          ],
        },
      ],
    },
  },
];

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  ...importBoundaries,
  globalIgnores([".next/**", "generated/**", ".data/**", "node_modules/**", "next-env.d.ts", "test-results/**", "playwright-report/**"]),
]);
