import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

/**
 * Which way the imports run (see CONVENTIONS.md), enforced so a boundary
 * cannot erode one convenient import at a time. lib/import-boundaries.test.ts
 * checks that these rules still fire.
 */
const importBoundaries = [
  {
    // Domain code runs in plain Node too: the custom server's hot path and the
    // tests import it without Next. next-auth is a library, not Next itself.
    files: ["lib/**/*.{ts,tsx}"],
    // Tests beside the code may drive a route handler in process.
    ignores: ["lib/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^next(/.*)?$",
              message: "lib/ must run without Next (the custom server and the tests import it in plain Node); keep Next-specific code under app/.",
            },
            {
              regex: "^(@/|(\\.\\./)+)(app|components)(/.*)?$",
              message: "lib/ never imports app/ or components/: the imports run app → components → lib, never back.",
            },
          ],
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
              message:
                "lib/client/ runs in the browser: it imports only lib/client/*, lib/*/schemas, lib/billing/money and the pure lib/pools/blocks.",
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
