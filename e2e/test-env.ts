/**
 * Fixed secrets for the e2e server. They protect nothing: the server runs on
 * localhost for one test run, over a database that is thrown away after it.
 */
export const E2E_NEXTAUTH_SECRET = "e2e-nextauth-secret-not-for-production-0123456789";
export const E2E_ADMIN_API_TOKEN = "e2e-admin-token-not-for-production-0123456789";

/**
 * The e2e server's one operator: KEYGATE_ADMIN_EMAILS lists this email, and
 * `users.operator()` (e2e/fixtures.ts) signs it up on first use. Every other
 * test user has a random email, so is never an operator.
 */
export const E2E_OPERATOR_EMAIL = "operator@e2e.example.com";
export const E2E_OPERATOR_PASSWORD = "e2e-operator-password-not-for-production";

/**
 * How Chromium is started here (Playwright and bench:docs): no sandbox (root
 * in CI), and none of the background connections this machine's closed
 * network would refuse.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
