import crypto from "node:crypto";
import http from "node:http";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { E2E_ADMIN_API_TOKEN } from "./test-env";

/**
 * The Billing page's credit history and card top-ups. The e2e server has no
 * Stripe keys, so top-ups are off there: the page must not offer them. The
 * top-up itself runs against a fake Stripe when the run is started with
 * Stripe configured (the web server inherits this environment):
 *
 *   STRIPE_SECRET_KEY=sk_test_e2e STRIPE_WEBHOOK_SECRET=whsec_e2e \
 *   STRIPE_API_BASE=http://127.0.0.1:12111 npx playwright test e2e/billing.spec.ts
 */

const stripeConfigured = Boolean(process.env.STRIPE_SECRET_KEY && process.env.STRIPE_WEBHOOK_SECRET && process.env.STRIPE_API_BASE);

/**
 * Stripe's POST /v1/checkout/sessions, answered at STRIPE_API_BASE: the
 * payment page it returns is the session's own success_url, as if the card
 * had been paid at once.
 */
async function fakeStripe(): Promise<{ sessions: URLSearchParams[]; close: () => Promise<void> }> {
  const sessions: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method !== "POST" || req.url !== "/v1/checkout/sessions") {
        res.statusCode = 404;
        return res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "Unrecognized request URL" } }));
      }
      const params = new URLSearchParams(body);
      sessions.push(params);
      const id = `cs_test_${crypto.randomBytes(8).toString("hex")}`;
      res.end(JSON.stringify({ id, object: "checkout.session", url: params.get("success_url")!.replace("{CHECKOUT_SESSION_ID}", id) }));
    });
  });
  const port = Number(new URL(process.env.STRIPE_API_BASE!).port);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { sessions, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test.describe("billing", () => {
  test("the credit history lists every change newest first, signed and coloured, a page at a time", async ({ page, users, request, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    // 26 more grants: with the first, one more than a page of 25.
    for (let i = 1; i <= 26; i++) {
      const res = await request.post("/api/admin/credits", {
        headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
        data: { email: user.email, amountUsd: i / 100, note: `grant ${i}` },
      });
      expect(res.status()).toBe(201);
    }
    await user.login();
    await page.goto("/billing");

    const history = page.getByRole("table", { name: "Credit history" });
    const rows = history.getByTestId("ledger-row");
    await expect(rows).toHaveCount(25);
    await expect(rows.first()).toContainText("Credit grant");
    await expect(rows.first()).toContainText("grant 26");
    await expect(rows.first().getByTestId("ledger-amount")).toHaveText("+$0.26");
    await expect(rows.first().locator("time")).toHaveAttribute("title", /\d{4}/);
    // Credit is green: the colour says "added" before the sign is read.
    await expect(rows.first().getByTestId("ledger-amount").locator("span")).toHaveClass(/text-emerald-700/);
    await expectNoSeriousViolations(page, "/billing with history");
    await saveScreenshot("history");

    await page.getByRole("button", { name: "Load more" }).click();
    await expect(rows).toHaveCount(27);
    await expect(rows.last()).toContainText("e2e");
    await expect(rows.last().getByTestId("ledger-amount")).toHaveText("+$5.00");
    // The last page: nothing more to load.
    await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  });

  test("a new account sees an empty history", async ({ page, users }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/billing");
    await expect(page.getByText("No credit history yet")).toBeVisible();
  });

  test("without Stripe, there is no Top up button and the page says how credit arrives", async ({ page, users, api }) => {
    test.skip(stripeConfigured, "this run has Stripe configured");
    const user = await users.create();
    await user.login();
    await page.goto("/billing");
    await expect(page.getByTestId("balance")).toHaveText("$0.00");
    await expect(page.getByRole("button", { name: "Top up" })).toHaveCount(0);
    await expect(page.getByRole("heading", { name: "Adding credit" })).toBeVisible();
    const res = await api.as(user).post("/api/billing/checkout", { amountUsd: 25 });
    expect(res.status()).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("stripe_not_configured");
  });

  test("coming back from an abandoned checkout says nothing was charged", async ({ page, users }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/billing?topup=cancelled");
    await expect(page.getByTestId("checkout-notice")).toHaveText("Top-up cancelled: nothing was charged.");
  });

  test("with Stripe, Top up checks the amount, opens Checkout for it, and the page says so on the way back", async ({ page, users, saveScreenshot }) => {
    test.skip(!stripeConfigured, "needs STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE (see the top of this file)");
    const stripe = await fakeStripe();
    try {
      const user = await users.create();
      await user.login();
      await page.goto("/billing");
      await expect(page.getByRole("heading", { name: "Adding credit" })).toHaveCount(0);
      await page.getByRole("button", { name: "Top up" }).click();
      const dialog = page.getByRole("dialog", { name: "Top up with a card" });
      const amount = dialog.getByLabel("Amount (USD)");
      await expect(amount).toBeFocused();
      await expect(amount).toHaveValue("25");

      // The API's own rules, said with the field's name, before anything is sent.
      await amount.fill("3");
      await dialog.getByRole("button", { name: "Continue to payment" }).click();
      await expect(amount).toHaveAttribute("aria-invalid", "true");
      await expect(dialog).toContainText("The amount must be at least 5");
      await expect(amount).toBeFocused();
      await amount.fill("12.505");
      await dialog.getByRole("button", { name: "Continue to payment" }).click();
      await expect(dialog).toContainText("The amount can have at most 2 decimal places (cents)");
      await expectNoSeriousViolations(page, "/billing top-up dialog with an error");
      await saveScreenshot("top-up dialog");
      expect(stripe.sessions).toHaveLength(0);

      await dialog.getByRole("button", { name: "$50" }).click();
      await expect(amount).toHaveValue("50");
      await amount.fill("$12.50");
      await dialog.getByRole("button", { name: "Continue to payment" }).click();
      await expect(page).toHaveURL(/\/billing\?topup=success&session_id=cs_test_/);
      expect(stripe.sessions).toHaveLength(1);
      expect(stripe.sessions[0].get("line_items[0][price_data][unit_amount]")).toBe("1250");
      expect(stripe.sessions[0].get("client_reference_id")).toBe(user.id);
      await expect(page.getByTestId("checkout-notice")).toContainText("Stripe took the payment");
    } finally {
      await stripe.close();
    }
  });
});
