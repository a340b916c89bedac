import type { Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test, type AuthedApi } from "./fixtures";

/**
 * A credit key's model allowlist in the dashboard: the create and edit
 * dialogs set it, change it and clear it, by mouse and by keyboard, and the
 * API holds what the dialog showed. The demo models (keygate/echo and
 * keygate/echo-embedding) are the catalogue of the e2e server.
 */

const ECHO = "keygate/echo";
const ECHO_EMBEDDING = "keygate/echo-embedding";

function keyRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="key-row"][data-key-name="${name}"]`);
}

async function editKey(page: Page, name: string): Promise<Locator> {
  await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
  await page.getByRole("menu").getByRole("menuitem", { name: "Edit", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: `Edit “${name}”` });
  await expect(dialog).toBeVisible();
  return dialog;
}

async function allowedModels(api: AuthedApi, name: string): Promise<string[] | null> {
  const res = await api.get("/api/keys");
  expect(res.status()).toBe(200);
  const keys = ((await res.json()) as { data: Array<{ name: string; allowedModels: string[] | null }> }).data;
  return keys.find((k) => k.name === name)!.allowedModels;
}

test("the create dialog sets an allowlist, the edit dialog changes it and clears it, and the API and the list follow", async ({ page, users, api }) => {
  const user = await users.create({ creditUsd: 5 });
  const asUser = api.as(user);
  await user.login();
  await page.goto("/keys");

  await page.getByRole("button", { name: "Create credit key" }).click();
  const create = page.getByTestId("create-key-dialog");
  await create.getByLabel("Name").fill("narrow");
  const models = create.getByRole("group", { name: "Models" });
  await expect(models.getByRole("radio", { name: "All models" })).toBeChecked();
  await models.getByRole("radio", { name: "Only the models chosen" }).check();
  // Nothing ticked is refused in the dialog's words, and nothing is sent.
  await create.getByRole("button", { name: "Create key" }).click();
  await expect(models).toContainText("Choose at least one model, or All models.");
  await models.getByRole("checkbox", { name: ECHO, exact: true }).check();
  await expect(models.getByRole("checkbox", { name: ECHO_EMBEDDING, exact: true })).not.toBeChecked();
  await create.getByRole("button", { name: "Create key" }).click();
  const modal = page.getByTestId("secret-modal");
  await expect(modal).toBeVisible();
  await modal.getByRole("button", { name: "I have saved this key" }).click();
  expect(await allowedModels(asUser, "narrow")).toEqual([ECHO]);
  await expect(keyRow(page, "narrow").getByRole("cell").nth(3)).toHaveText(`60 rpm · ${ECHO}`);

  // Edit by keyboard: the saved choice is shown, Space ticks a second model.
  let dialog = await editKey(page, "narrow");
  let group = dialog.getByRole("group", { name: "Models" });
  await expect(group.getByRole("radio", { name: "Only the models chosen" })).toBeChecked();
  await expect(group.getByRole("checkbox", { name: ECHO, exact: true })).toBeChecked();
  await group.getByRole("checkbox", { name: ECHO_EMBEDDING, exact: true }).focus();
  await page.keyboard.press("Space");
  await expect(group.getByRole("checkbox", { name: ECHO_EMBEDDING, exact: true })).toBeChecked();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();
  expect((await allowedModels(asUser, "narrow"))?.sort()).toEqual([ECHO, ECHO_EMBEDDING]);
  await expect(keyRow(page, "narrow").getByRole("cell").nth(3)).toHaveText("60 rpm · 2 models");

  // "All models" clears it: null in the API.
  dialog = await editKey(page, "narrow");
  group = dialog.getByRole("group", { name: "Models" });
  await group.getByRole("radio", { name: "All models" }).check();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();
  expect(await allowedModels(asUser, "narrow")).toBeNull();
  await expect(keyRow(page, "narrow").getByRole("cell").nth(3)).toHaveText("60 rpm");
});

test("the create and edit dialogs with the model list open have no serious or critical axe violations, light or dark", async ({ page, users, api }) => {
  const user = await users.create({ creditUsd: 5 });
  const res = await api.as(user).post("/api/keys/credit", { name: "scanned", allowedModels: [ECHO] });
  expect(res.status()).toBe(201);
  await user.login();
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    await page.goto("/keys");
    await page.getByRole("button", { name: "Create credit key" }).click();
    const create = page.getByTestId("create-key-dialog");
    await create.getByRole("radio", { name: "Only the models chosen" }).check();
    await create.getByRole("button", { name: "Create key" }).click();
    await expect(create).toContainText("Choose at least one model");
    await expectNoSeriousViolations(page, `create dialog with models (${colorScheme})`);
    await page.keyboard.press("Escape");
    await expect(create).toBeHidden();
    const edit = await editKey(page, "scanned");
    await expect(edit.getByRole("checkbox", { name: ECHO, exact: true })).toBeChecked();
    await expectNoSeriousViolations(page, `edit dialog with models (${colorScheme})`);
    await page.keyboard.press("Escape");
  }
});
