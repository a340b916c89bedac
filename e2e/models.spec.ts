import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { E2E_ADMIN_API_TOKEN } from "./test-env";

/**
 * The Models screen: the catalogue the gateway serves, with its prices. The
 * e2e server has no upstream configured, so the built-in demo model is on.
 */

test.describe("models", () => {
  test("lists the built-in demo model with its prices, and a model the operator adds through the admin API", async ({
    page,
    users,
    request,
    saveScreenshot,
  }) => {
    const model = `e2e-model-${Date.now().toString(36)}`;
    const added = await request.post("/api/admin/models", {
      headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
      data: { model, provider: "anthropic", inputUsdPerMTok: 0.8, outputUsdPerMTok: 4, maxOutputTokens: 8192 },
    });
    expect(added.status(), await added.text()).toBe(200);

    const user = await users.create();
    await user.login();
    await page.goto("/keys");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Models", exact: true }).click();
    await expect(page).toHaveURL("/models");
    await expect(page).toHaveTitle("Models · Keygate");
    await expect(page.getByRole("heading", { level: 1, name: "Models", exact: true })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Models", exact: true })).toHaveAttribute("aria-current", "page");

    const table = page.getByRole("table", { name: "Models" });
    const echo = table.locator('[data-testid="model-row"][data-model-name="keygate/echo"]');
    await expect(echo).toBeVisible();
    await expect(echo.getByTestId("demo-badge")).toHaveText("built-in demo");
    await expect(echo.getByRole("cell")).toHaveText([/^keygate\/echo/, /^Keygate/, "$1", "$2", "256"]);
    // The demo embedding model: served on /v1/embeddings, charged on input only.
    const embedding = table.locator('[data-testid="model-row"][data-model-name="keygate/echo-embedding"]');
    await expect(embedding.getByRole("cell")).toHaveText([/^keygate\/echo-embedding/, "KeygatePOST /v1/embeddings", "$1", "—", "—"]);

    const ours = table.locator(`[data-testid="model-row"][data-model-name="${model}"]`);
    await expect(ours.getByRole("cell")).toHaveText([new RegExp(`^${model}$`), /^Anthropic/, "$0.80", "$4", "8,192"]);
    await expect(ours.getByTestId("demo-badge")).toHaveCount(0);

    await expectNoSeriousViolations(page, "/models");
    await saveScreenshot("models");

    // A deleted model is gone from the next page load.
    const removed = await request.delete(`/api/admin/models?model=${encodeURIComponent(model)}`, {
      headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
    });
    expect(removed.status(), await removed.text()).toBe(200);
    await page.reload();
    await expect(echo).toBeVisible();
    await expect(ours).toHaveCount(0);
  });

  test("sends a visitor who is not signed in to sign-in, and back to /models afterwards", async ({ page }) => {
    await page.goto("/models");
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fmodels$/);
  });
});
