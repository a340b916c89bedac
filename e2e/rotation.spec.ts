import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { watchSecretLeaks } from "./leaks";

/**
 * Rotating a key from the dashboard: Rotate in the key's menu, a grace period
 * chosen in a dialog, the new secret in the show-once modal; with no grace the
 * old secret is refused on the very next request and the new one works.
 */

/** Chooses an action from a row's "⋯" menu. */
async function rowAction(page: Page, name: string, action: string): Promise<void> {
  await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
  const menu = page.getByRole("menu");
  await menu.getByRole("menuitem", { name: action, exact: true }).click();
  await expect(menu).toBeHidden();
}

function keyRow(page: Page, testId: string, name: string): Locator {
  return page.locator(`[data-testid="${testId}"][data-key-name="${name}"]`);
}

async function modelsStatus(request: APIRequestContext, key: string): Promise<number> {
  return (await request.get("/v1/models", { headers: { Authorization: `Bearer ${key}` } })).status();
}

test.describe("key rotation", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("Rotate a credit key with no grace: the old secret gets 401 on /v1/models at once, the new one works", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "rotating key" });
    expect(created.status()).toBe(201);
    const { apiKey: oldSecret, keyPrefix: oldPrefix } = ((await created.json()) as { data: { apiKey: string; keyPrefix: string } }).data;
    expect(await modelsStatus(request, oldSecret)).toBe(200);

    await user.login();
    const leaks = watchSecretLeaks(page);
    await page.goto("/keys");
    const row = keyRow(page, "key-row", "rotating key");
    await expect(row).toContainText(oldPrefix);

    await rowAction(page, "rotating key", "Rotate");
    const dialog = page.getByTestId("rotate-dialog");
    await expect(dialog).toBeVisible();
    const choices = dialog.getByRole("group", { name: "Keep the old secret working for" }).getByRole("radio");
    await expect(choices).toHaveCount(4);
    await expect(dialog.getByRole("radio", { name: /^None/ })).toBeChecked();
    for (const label of [/^1 hour/, /^24 hours/, /^7 days/]) await expect(dialog.getByRole("radio", { name: label })).not.toBeChecked();
    await expectNoSeriousViolations(page, "the rotate dialog");
    await saveScreenshot("rotate dialog");
    await dialog.getByRole("button", { name: "Rotate key" }).click();

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    await expect(modal).toContainText("The old secret has stopped working.");
    const newSecret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(newSecret).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(newSecret).not.toBe(oldSecret);
    await expectNoSeriousViolations(page, "the rotated key's secret modal");
    await saveScreenshot("rotated secret modal");

    expect(await modelsStatus(request, oldSecret)).toBe(401);
    const refused = await request.get("/v1/models", { headers: { Authorization: `Bearer ${oldSecret}` } });
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("This key was rotated; use the new secret.");
    expect(await modelsStatus(request, newSecret)).toBe(200);

    await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(newSecret);
    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();
    leaks.afterSecretShown();
    // The same key, listed under its new prefix.
    await expect(row).toContainText(newSecret.slice(0, oldPrefix.length));
    await leaks.expectSecretGone(newSecret);
  });

  test("Rotate a credit key with a 24-hour grace: both secrets work, and the modal says until when", async ({ page, users, api, request }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "graceful key" });
    const { apiKey: oldSecret } = ((await created.json()) as { data: { apiKey: string } }).data;
    await user.login();
    await page.goto("/keys");
    await rowAction(page, "graceful key", "Rotate");
    const dialog = page.getByTestId("rotate-dialog");
    await dialog.getByRole("radio", { name: /^24 hours/ }).check();
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    const modal = page.getByTestId("secret-modal");
    await expect(modal).toContainText("The old secret keeps working until");
    const newSecret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect([await modelsStatus(request, oldSecret), await modelsStatus(request, newSecret)]).toEqual([200, 200]);
  });

  test("Rotate from the key's own page: the same dialog and show-once modal, and the rotation joins the key's history", async ({
    page,
    users,
    api,
    request,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "detail key" });
    const { id, apiKey: oldSecret } = ((await created.json()) as { data: { id: string; apiKey: string } }).data;
    await user.login();
    const leaks = watchSecretLeaks(page);
    await page.goto(`/keys/${id}`);
    await expect(page.getByRole("heading", { level: 1, name: "detail key" })).toBeVisible();
    const history = page.getByRole("region", { name: "History" });
    await expect(history.getByTestId("audit-row")).toHaveCount(1);

    await page.getByRole("button", { name: "Rotate…" }).click();
    const dialog = page.getByTestId("rotate-dialog");
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    const modal = page.getByTestId("secret-modal");
    await expect(modal).toContainText("The old secret has stopped working.");
    const newSecret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(newSecret).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect([await modelsStatus(request, oldSecret), await modelsStatus(request, newSecret)]).toEqual([401, 200]);
    await expectNoSeriousViolations(page, "the key page's secret modal");

    await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();
    leaks.afterSecretShown();
    await expect(history.locator('[data-testid="audit-row"][data-action="key.rotate"]').getByTestId("audit-actor")).toHaveText("You");
    await leaks.expectSecretGone(newSecret);
  });

  test("Rotate a billing key: the old mk_ gets 401 at once, the new one works", async ({ page, users, api, request, baseURL }) => {
    const user = await users.create();
    const created = await api.as(user).post("/api/keys/management", { name: "deploy bot" });
    expect(created.status()).toBe(201);
    const { apiKey: oldSecret } = ((await created.json()) as { data: { apiKey: string } }).data;
    const listKeys = (key: string) => request.get("/api/keys", { headers: { Authorization: `Bearer ${key}` } });
    expect((await listKeys(oldSecret)).status()).toBe(200);

    await user.login();
    await page.goto("/billing-keys");
    await expect(keyRow(page, "billing-key-row", "deploy bot")).toBeVisible();
    await rowAction(page, "deploy bot", "Rotate");
    const dialog = page.getByTestId("rotate-dialog");
    await expect(dialog.getByRole("radio")).toHaveCount(4);
    await expectNoSeriousViolations(page, "the billing key rotate dialog");
    await dialog.getByRole("button", { name: "Rotate billing key" }).click();

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    const newSecret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(newSecret).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    await expect(modal.getByTestId("curl-example")).toHaveText(`curl ${baseURL}/api/keys \\\n  -H "Authorization: Bearer ${newSecret}"`);

    const refused = await listKeys(oldSecret);
    expect(refused.status()).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("key_rotated");
    expect((await listKeys(newSecret)).status()).toBe(200);
  });
});
