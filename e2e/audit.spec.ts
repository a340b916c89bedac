import type { Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";

/**
 * The audit log in the dashboard: a key paused in the UI shows up, with who
 * paused it, on the Audit log page and in the key's own history; operators
 * see it in the all-accounts log.
 */

function keyRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="key-row"][data-key-name="${name}"]`);
}

async function rowAction(page: Page, name: string, action: string): Promise<void> {
  await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
  const menu = page.getByRole("menu");
  await expect(menu).toBeVisible();
  await menu.getByRole("menuitem", { name: action, exact: true }).click();
  await expect(menu).toBeHidden();
}

test.describe("audit log", () => {
  test("pausing a key in the UI is on the Audit log page and in the key's history, with who did it", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "audited key" });
    expect(created.status(), await created.text()).toBe(201);
    const keyId = ((await created.json()) as { data: { id: string } }).data.id;

    await user.login();
    await page.goto("/keys");
    await expect(keyRow(page, "audited key")).toContainText("Active");
    await rowAction(page, "audited key", "Pause");
    await expect(keyRow(page, "audited key")).toContainText("Paused");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
    const pause = page.locator('[data-testid="audit-row"][data-action="key.update"]');
    await expect(pause).toHaveCount(1);
    await expect(pause.getByTestId("audit-actor")).toHaveText("You");
    await expect(pause.getByTestId("audit-changes")).toContainText("isActive: true → false");
    await expect(page.locator('[data-testid="audit-row"][data-action="key.create"]')).toHaveCount(1);
    await expect(page.locator('[data-testid="audit-row"][data-action="auth.sign_in"]').first()).toBeVisible();
    await expectNoSeriousViolations(page, "the Audit log page");
    await saveScreenshot("audit log");

    // The filter narrows to the pause.
    await page.getByLabel("Action").selectOption("key.update");
    await expect(page.getByTestId("audit-row")).toHaveCount(1);

    await page.goto(`/keys/${keyId}`);
    const history = page.getByRole("region", { name: "History" });
    await expect(history.locator('[data-testid="audit-row"][data-action="key.update"]').getByTestId("audit-actor")).toHaveText("You");
    await expect(history.locator('[data-testid="audit-row"][data-action="key.create"]')).toHaveCount(1);
    await expect(history.getByTestId("audit-row")).toHaveCount(2);
    await expectNoSeriousViolations(page, "a key's history");
    await saveScreenshot("key history");
  });

  test("operators see every account's rows on the admin Audit page, narrowed by account", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "someone's key" });
    expect(created.status(), await created.text()).toBe(201);
    const operator = await users.operator();
    await operator.login();
    await page.goto("/admin/audit");
    await expect(page.getByRole("heading", { level: 1, name: "Audit log (all accounts)" })).toBeVisible();
    await page.getByLabel("Account ID").fill(user.id);
    await expect(page.locator('[data-testid="audit-row"][data-action="key.create"]')).toHaveCount(1);
    await expect(page.locator('[data-testid="audit-row"][data-action="credits.grant"]').getByTestId("audit-actor")).toHaveText("Operator (admin token)");
    await expectNoSeriousViolations(page, "the admin Audit page");
  });
});
