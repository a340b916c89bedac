import path from "node:path";
import type { Page, TestInfo } from "@playwright/test";
import { expect, test } from "./fixtures";

/**
 * /docs is Scalar's API reference over /api/openapi.json, with its bundle
 * served by Keygate itself (app/docs). Its first response already holds the
 * document's content (title, description, operations by tag), and Scalar's
 * interactive page replaces that once its bundle has run. These tests hold it
 * to working with no internet access, and to its "Test Request" client
 * talking to this server.
 */

/**
 * Scalar's bundle is over 4 MB of JavaScript: on a busy 2-core machine it
 * takes seconds to run (a 9 s median at load average 15, `npm run bench:docs`).
 * A wait for Scalar's own page gets this long, not expect's 5 s.
 */
const SCALAR_READY = { timeout: 60_000 };

/** Operation summaries as the sidebar links show them ("Create a credit key", not "… (ModelSwitch shape)"). */
function sidebarLink(page: Page, summary: string) {
  return page.getByRole("link", { name: new RegExp(`^${summary}(?! \\()`) });
}

/**
 * A screenshot of the viewport for reviewers, in e2e/.artifacts/ like the
 * fixture's; a full-page one of the reference is over 20,000 pixels tall.
 */
async function viewportScreenshot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: path.join(testInfo.project.testDir, ".artifacts", `docs--${name}.png`) });
}

/**
 * Every request the page makes, and every one the browser refused under the
 * page's Content-Security-Policy (those never reach `page.on("request")`, so
 * a feature calling out to the internet shows up only as a console error).
 */
function recordTraffic(page: Page) {
  const requests: string[] = [];
  const refused: string[] = [];
  page.on("request", (req) => requests.push(req.url()));
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) refused.push(msg.text());
  });
  return {
    requests,
    refused,
    elsewhere: (origin: string) => requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url)),
  };
}

test.describe("API reference (/docs)", () => {
  // Room for SCALAR_READY and what follows it.
  test.describe.configure({ timeout: 90_000 });

  test("shows the document's content in its first response, before any script has run", async ({ browser, baseURL }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${baseURL}/docs`);
    await expect(page.getByRole("heading", { level: 1, name: /^Keygate API/ })).toBeVisible();
    await expect(page.getByText(/^Keygate manages API keys for LLM inference/)).toBeVisible();
    // Every tag, and every operation as method, path and summary.
    for (const name of ["Inference", "Accounts", "Consumption keys", "Management keys", "Pools"]) {
      await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
    }
    const credit = page.getByRole("listitem").filter({ hasText: "Create a credit key" }).filter({ hasNotText: "ModelSwitch" });
    // With the scope a management key needs for it.
    await expect(credit).toHaveText("POST /api/keys/credit Create a credit key scope keys:write");
    // The inference endpoints the SDKs call, which the gateway serves outside Next, are in the reference too.
    await expect(page.getByRole("listitem").filter({ hasText: "/v1/embeddings" })).toHaveText("POST /v1/embeddings Embeddings (OpenAI)");
    await expect(page.getByRole("listitem").filter({ hasText: "/v1/chat/completions" })).toHaveText("POST /v1/chat/completions Chat Completions (OpenAI)");
    await context.close();
  });

  test("renders the OpenAPI document from /api/openapi.json, and every request it makes goes to this server", async ({ page, baseURL }, testInfo) => {
    const origin = new URL(baseURL!).origin;
    const traffic = recordTraffic(page);

    const res = await page.goto("/docs");
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("connect-src 'self'");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expect(page.getByRole("link", { name: "KEYGATE" })).toHaveAttribute("href", "/");
    // "This Keygate instance": the document's only server, `/`, resolved
    // against this page, in Scalar's page once it has replaced the summary.
    await expect(page.getByText("This Keygate instance")).toBeVisible(SCALAR_READY);
    await expect(page.locator("#keygate-summary")).toHaveCount(0);
    await viewportScreenshot(page, testInfo, "light-top");

    await sidebarLink(page, "Create a credit key").click();
    await expect(page.getByRole("heading", { name: "Create a credit key", exact: true })).toBeVisible();
    await expect(page.getByText("POST /api/keys/credit").first()).toBeVisible();
    // The scope a management key needs, in the operation's description.
    await expect(page.getByText(/a management key needs keys:write/).first()).toBeVisible();
    await viewportScreenshot(page, testInfo, "light-create-credit-key");

    expect(traffic.requests).toContain(`${origin}/api/openapi.json`);
    expect(traffic.requests.some((url) => url.startsWith(`${origin}/docs/scalar.js?v=`))).toBe(true);
    expect(traffic.elsewhere(origin)).toEqual([]);
    expect(traffic.refused).toEqual([]);
  });

  test("the Scalar bundle comes from this server, cached for a year under its content hash", async ({ request }) => {
    const html = await (await request.get("/docs")).text();
    // Preloaded at once, run by a script after the first frame (app/docs/route.ts).
    const src = /<link rel="preload" href="([^"]+)" as="script">/.exec(html)?.[1];
    expect(src).toMatch(/^\/docs\/scalar\.js\?v=[0-9a-f]{16}$/);
    expect(html).not.toMatch(/cdn\.jsdelivr|fonts\.scalar|proxy\.scalar/);

    const bundle = await request.get(src!);
    expect(bundle.status()).toBe(200);
    expect(bundle.headers()["content-type"]).toContain("javascript");
    expect(bundle.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await bundle.body()).length).toBeGreaterThan(1_000_000);

    // Another version's URL gets today's file, but not cached as if immutable.
    const stale = await request.get("/docs/scalar.js?v=0000000000000000");
    expect(stale.headers()["cache-control"]).toBe("no-cache");
  });

  test("a pasted session token lets Test Request send GET /api/keys straight to this server, also from a non-local host name", async ({
    page,
    users,
    baseURL,
  }, testInfo) => {
    const user = await users.create();
    // Scalar sends requests through its proxy only when the page is not on a
    // local host, so serve this server under a name that is not local
    // (`.internal`) and forward each request. Anything else is aborted.
    const server = new URL(baseURL!);
    const host = `http://keygate.internal:${server.port}`;
    await page.route("**/*", async (route) => {
      const url = route.request().url();
      if (!url.startsWith(`${host}/`)) return route.abort();
      await route.fulfill({ response: await route.fetch({ url: server.origin + url.slice(host.length) }) });
    });
    const traffic = recordTraffic(page);

    await page.goto(`${host}/docs`);
    await page.getByLabel("Bearer Token").fill(user.token);
    await sidebarLink(page, "List your consumption keys").click();
    await page.getByRole("button", { name: "Test Request (get /api/keys)" }).click();
    const client = page.getByRole("dialog");

    const sent = page.waitForRequest((req) => req.url().startsWith(`${host}/api/keys`));
    await client.getByRole("button", { name: /^Send get request/ }).click();
    const req = await sent;
    expect(req.headers()["authorization"]).toBe(`Bearer ${user.token}`);
    expect((await req.response())?.status()).toBe(200);
    await expect(client.getByText("200 OK")).toBeVisible();
    await expect(client.getByText('"success": true').first()).toBeVisible();
    await viewportScreenshot(page, testInfo, "light-test-request");

    expect(traffic.elsewhere(host)).toEqual([]);
    expect(traffic.refused).toEqual([]);
  });
});
