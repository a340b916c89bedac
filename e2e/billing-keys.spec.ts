import { spawnSync } from "node:child_process";
import type { Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { watchSecretLeaks } from "./leaks";

/**
 * Billing keys (management keys, mk_…): made in the dashboard, used by
 * scripts against the management API, and revoked at once when deleted.
 */

/** Runs a shell command line as a user would paste it; null when this machine has no curl. */
function runCurl(commandLine: string): string | null {
  if (spawnSync("curl", ["--version"]).status !== 0) return null;
  const run = spawnSync("sh", ["-c", commandLine], { encoding: "utf8", timeout: 10_000 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

function billingKeyRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="billing-key-row"][data-key-name="${name}"]`);
}

/** Chooses an action (Rename, Pause, Resume, Delete) from a row's "⋯" menu. */
async function rowAction(page: Page, name: string, action: string): Promise<void> {
  await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
  const menu = page.getByRole("menu");
  await menu.getByRole("menuitem", { name: action, exact: true }).click();
  await expect(menu).toBeHidden();
}

test.describe("billing keys", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("create → copy → the key works on GET /api/keys, as in the curl example → delete in the UI → it gets 401", async ({
    page,
    users,
    api,
    request,
    baseURL,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const existing = await api.as(user).post("/api/keys/credit", { name: "listed by the script" });
    expect(existing.status()).toBe(201);
    await user.login();
    const leaks = watchSecretLeaks(page);
    await page.goto("/billing-keys");
    await expect(page.getByText("No billing keys yet")).toBeVisible();
    // The page says what these keys are for, and what they cannot do; it names them "management keys" once, then says "billing key".
    const main = page.getByRole("main");
    await expect(main).toContainText("cannot be used for inference");
    await expect(main).toContainText("management keys (mk_…) for scripts and CI");
    expect(((await main.textContent()) ?? "").match(/management key/gi)).toHaveLength(1);
    await saveScreenshot("empty");

    await page.getByRole("button", { name: "Create billing key" }).click();
    const dialog = page.getByTestId("create-billing-key-dialog");
    await dialog.getByLabel("Name").fill("CI pipeline");
    await dialog.getByRole("button", { name: "Create key" }).click();

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^mk_[0-9A-Za-z]{38}$/);
    await expect(modal).toContainText("It will not be shown again");

    await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
    await expect(modal.getByText("Copied to the clipboard.")).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(secret);

    // The curl example uses this very key against this very server, and copies as shown.
    const curl = (await page.getByTestId("curl-example").textContent()) ?? "";
    expect(curl).toBe(`curl ${baseURL}/api/keys \\\n  -H "Authorization: Bearer ${copied}"`);
    await modal.getByRole("button", { name: "Copy curl command" }).click();
    await expect(modal.getByRole("status").filter({ hasText: "Curl command copied." })).toHaveCount(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(curl);
    await saveScreenshot("secret modal with curl");

    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();
    leaks.afterSecretShown();
    const row = billingKeyRow(page, "CI pipeline");
    await expect(row.getByRole("cell").nth(1)).toHaveText(`${copied.slice(0, 11)}…`);
    await page.reload();
    await expect(row).toBeVisible();
    await leaks.expectSecretGone(copied);

    // The copied command, pasted into a shell: GET /api/keys as the key's owner.
    const pasted = runCurl(curl);
    if (pasted !== null) expect(JSON.parse(pasted)).toMatchObject({ success: true, data: [{ name: "listed by the script" }] });
    // The same request through Playwright (which also sees the status), for machines without curl.
    const url = /^curl (\S+)/.exec(curl)?.[1] ?? "";
    const withKey = await request.get(url, { headers: { Authorization: `Bearer ${copied}` } });
    expect(withKey.status(), await withKey.text()).toBe(200);
    const listed = ((await withKey.json()) as { data: Array<{ name: string }> }).data;
    expect(listed.map((k) => k.name)).toEqual(["listed by the script"]);

    await rowAction(page, "CI pipeline", "Delete");
    const confirm = page.getByTestId("confirm-dialog");
    // The confirmation names the key by name and prefix.
    await expect(confirm.getByRole("heading")).toHaveText(`Delete “CI pipeline” (${copied.slice(0, 11)}…)?`);
    await expect(confirm).toContainText("get 401 from their next request on");
    await confirm.getByRole("button", { name: "Delete billing key" }).click();
    await expect(row).toHaveCount(0);
    await expect(page.getByText("No billing keys yet")).toBeVisible();
    await expect(page.getByTestId("toast-success").filter({ hasText: "Deleted billing key “CI pipeline”." })).toBeVisible();

    // Revoked at once: the very next request is refused.
    const revoked = await request.get(url, { headers: { Authorization: `Bearer ${copied}` } });
    expect(revoked.status()).toBe(401);
    expect(revoked.headers()["www-authenticate"]).toMatch(/^Bearer/);
    // The reload and the delete fetched the list again.
    expect(await leaks.expectSecretGone(copied)).toBeGreaterThanOrEqual(2);
  });

  test("scopes: all checked by default; a keys:read-only key is listed with its scope, lists keys (200) and is refused a create (403 insufficient_scope)", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    expect((await api.as(user).post("/api/keys/management", { name: "everything" })).status()).toBe(201);
    expect((await api.as(user).post("/api/keys/credit", { name: "listed by the reader" })).status()).toBe(201);
    await user.login();
    await page.goto("/billing-keys");
    // A key made without choosing holds every scope, and says so compactly.
    await expect(billingKeyRow(page, "everything").getByTestId("billing-key-scopes")).toHaveText("All scopes");

    await page.getByRole("button", { name: "Create billing key" }).click();
    const dialog = page.getByTestId("create-billing-key-dialog");
    const scopes = dialog.getByRole("group", { name: "Scopes" });
    await expect(scopes).toBeVisible();
    const all = ["keys:read", "keys:write", "billing:read", "usage:read", "pools:write", "webhooks:write", "audit:read"];
    for (const scope of all) await expect(scopes.getByRole("checkbox", { name: scope, exact: true })).toBeChecked();
    // Grouped, and each box says what it allows.
    await expect(scopes.getByRole("group", { name: "Consumption keys" }).getByRole("checkbox")).toHaveCount(2);
    await expect(scopes.getByRole("checkbox", { name: "keys:write", exact: true })).toHaveAccessibleDescription(/Create, change and delete consumption keys/);
    await expectNoSeriousViolations(page, "the create dialog with scopes");
    await saveScreenshot("create dialog with scopes");

    // None checked: refused in the form, nothing sent.
    const writes: string[] = [];
    page.on("request", (req) => {
      if (req.method() === "POST" && new URL(req.url()).pathname.startsWith("/api/")) writes.push(req.url());
    });
    await dialog.getByLabel("Name").fill("reader");
    for (const scope of all) await scopes.getByRole("checkbox", { name: scope, exact: true }).uncheck();
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(dialog.getByText("Choose at least one scope")).toBeVisible();
    await page.waitForTimeout(300);
    expect(writes).toEqual([]);

    await scopes.getByRole("checkbox", { name: "keys:read", exact: true }).check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    const modal = page.getByTestId("secret-modal");
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^mk_/);
    // The "Try it" command is one this key may run.
    await expect(page.getByTestId("curl-example")).toContainText("/api/keys ");
    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();

    const row = billingKeyRow(page, "reader");
    await expect(row.getByTestId("billing-key-scopes")).toHaveText("keys:read");
    const listed = ((await (await api.as(user).get("/api/keys/management")).json()) as { data: Array<{ name: string; scopes: string[] }> }).data;
    expect(listed.find((k) => k.name === "reader")?.scopes).toEqual(["keys:read"]);
    await expectNoSeriousViolations(page, "the billing keys list with scopes");
    await saveScreenshot("list with scopes");

    const asReader = { Authorization: `Bearer ${secret}` };
    const keys = await request.get("/api/keys", { headers: asReader });
    expect(keys.status(), await keys.text()).toBe(200);
    expect(((await keys.json()) as { data: Array<{ name: string }> }).data.map((k) => k.name)).toEqual(["listed by the reader"]);
    const create = await request.post("/api/keys/credit", { headers: asReader, data: { name: "not allowed" } });
    expect(create.status(), await create.text()).toBe(403);
    const { error } = (await create.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("insufficient_scope");
    expect(error.message).toContain("'keys:write'");
  });

  test("an empty name and a past expiry show inline errors and send no request; a future expiry is listed", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/billing-keys");
    await expect(page.getByText("No billing keys yet")).toBeVisible();
    const writes: string[] = [];
    page.on("request", (req) => {
      if (req.method() !== "GET" && new URL(req.url()).pathname.startsWith("/api/")) writes.push(`${req.method()} ${req.url()}`);
    });

    await page.getByRole("button", { name: "Create billing key" }).click();
    const dialog = page.getByTestId("create-billing-key-dialog");
    const name = dialog.getByLabel("Name");
    const expires = dialog.getByLabel("Expires");
    await expires.fill("2020-01-01T00:00");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(name).toHaveAccessibleDescription("Name must not be empty");
    await expect(expires).toHaveAccessibleDescription("Expiry must be in the future");
    await expect(name).toBeFocused();
    await saveScreenshot("errors");
    await page.waitForTimeout(500);
    expect(writes).toEqual([]);

    // Escape closes the dialog; reopened, it starts clean. So does Cancel.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("button", { name: "Create billing key" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(name).toBeFocused();
    await expect(name).not.toHaveAttribute("aria-invalid", "true");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(name).toHaveAttribute("aria-invalid", "true");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole("button", { name: "Create billing key" }).click();
    await expect(name).not.toHaveAttribute("aria-invalid", "true");

    const nextYear = new Date().getFullYear() + 1;
    await name.fill("expiring");
    await expires.fill(`${nextYear}-06-30T12:00`);
    await dialog.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("secret-modal").getByRole("button", { name: "I have saved this key" }).click();
    const listed = await api.as(user).get("/api/keys/management");
    const [key] = ((await listed.json()) as { data: Array<{ name: string; expiresAt: string }> }).data;
    expect(new Date(key.expiresAt).getTime()).toBe(new Date(nextYear, 5, 30, 12, 0).getTime());
    // Listed as "Expires in N months", with the exact date in the title.
    const row = billingKeyRow(page, "expiring");
    await expect(row.getByText(/^Expires in /)).toBeVisible();
    await expect(row.locator(`time[datetime="${key.expiresAt}"]`)).toHaveAttribute("title", new RegExp(`^Jun 30, ${nextYear}`));
  });

  test("when /api/keys/management fails the error state shows, and Try again loads the list", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create();
    expect((await api.as(user).post("/api/keys/management", { name: "deploy bot" })).status()).toBe(201);
    await user.login();
    let failing = true;
    await page.route(
      (url) => url.pathname === "/api/keys/management",
      async (route) => {
        if (failing && route.request().method() === "GET") {
          await route.fulfill({ status: 500, json: { success: false, error: { code: "internal_error", message: "Billing keys are unavailable." } } });
        } else {
          await route.continue();
        }
      },
    );
    await page.goto("/billing-keys");
    const alert = page.getByRole("main").getByRole("alert");
    await expect(alert).toContainText("Billing keys are unavailable.", { timeout: 15_000 });
    await saveScreenshot("error");
    failing = false;
    await alert.getByRole("button", { name: "Try again" }).click();
    await expect(billingKeyRow(page, "deploy bot")).toBeVisible();
  });

  test("a refused create shows the API's message once, inside the dialog where it is announced (no toast), and keeps the input", async ({
    page,
    users,
    saveScreenshot,
  }) => {
    const user = await users.create();
    await user.login();
    const message = "Billing keys cannot be created right now.";
    await page.route(
      (url) => url.pathname === "/api/keys/management",
      async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        await route.fulfill({ status: 500, json: { success: false, error: { code: "internal_error", message } } });
      },
    );
    await page.goto("/billing-keys");
    await page.getByRole("button", { name: "Create billing key" }).click();
    const dialog = page.getByTestId("create-billing-key-dialog");
    await dialog.getByLabel("Name").fill("refused");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(dialog.getByRole("alert")).toHaveText(message);
    await page.waitForTimeout(500);
    await expect(page.getByTestId("toast-error")).toHaveCount(0);
    await expect(page.getByText(message)).toHaveCount(1);
    await expect(dialog.getByLabel("Name")).toHaveValue("refused");
    await expect(page.getByTestId("secret-modal")).toBeHidden();
    await saveScreenshot("refused");
  });

  test("rename and pause a billing key in the UI: the paused mk_ gets 401 from the API, and works again once resumed", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const user = await users.create();
    const created = await api.as(user).post("/api/keys/management", { name: "deploy bot" });
    expect(created.status()).toBe(201);
    const { data: mk } = (await created.json()) as { data: { id: string; apiKey: string; keyPrefix: string } };
    const asMk = { Authorization: `Bearer ${mk.apiKey}` };
    expect((await request.get("/api/keys", { headers: asMk })).status()).toBe(200);
    await user.login();
    await page.goto("/billing-keys");

    // Rename: validated by the API's schema, then saved.
    await rowAction(page, "deploy bot", "Rename");
    const dialog = page.getByRole("dialog", { name: "Rename billing key “deploy bot”" });
    const name = dialog.getByLabel("Name");
    await expect(name).toHaveValue("deploy bot");
    await name.fill("   ");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(name).toHaveAccessibleDescription("Name must not be empty");
    await expect(name).toBeFocused();
    await name.fill("release bot");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(dialog).toBeHidden();
    const row = billingKeyRow(page, "release bot");
    await expect(row).toBeVisible();
    await expect(page.getByTestId("toast-success").filter({ hasText: "Renamed billing key to “release bot”." })).toBeVisible();

    // Pause: the very next request with the key is refused.
    await rowAction(page, "release bot", "Pause");
    await expect(row).toContainText("Paused");
    await expect(page.getByTestId("toast-success").filter({ hasText: "Paused billing key “release bot”" })).toBeVisible();
    await saveScreenshot("paused");
    await expect.poll(async () => (await request.get("/api/keys", { headers: asMk })).status()).toBe(401);
    const listed = await api.as(user).get("/api/keys/management");
    expect(((await listed.json()) as { data: unknown[] }).data).toEqual([
      expect.objectContaining({ id: mk.id, name: "release bot", isActive: false, keyPrefix: mk.keyPrefix }),
    ]);

    // Resume: it works again.
    await rowAction(page, "release bot", "Resume");
    await expect(row).toContainText("Active");
    await expect.poll(async () => (await request.get("/api/keys", { headers: asMk })).status()).toBe(200);
  });

  test("a name already in use gets a warning that does not block creating the key", async ({ page, users, api }) => {
    const user = await users.create();
    expect((await api.as(user).post("/api/keys/management", { name: "CI" })).status()).toBe(201);
    await user.login();
    await page.goto("/billing-keys");
    await expect(billingKeyRow(page, "CI")).toBeVisible();
    await page.getByRole("button", { name: "Create billing key" }).click();
    const dialog = page.getByTestId("create-billing-key-dialog");
    const name = dialog.getByLabel("Name");
    await name.fill("ci");
    await expect(name).toHaveAccessibleDescription(/You already have a billing key named “CI”/);
    await expect(name).not.toHaveAttribute("aria-invalid", "true");
    await name.fill("CI nightly");
    await expect(name).not.toHaveAccessibleDescription(/already have/);
    await name.fill("CI");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(page.getByTestId("secret-modal")).toBeVisible();
  });

  test("at 390 px each billing key is a card with its actions in view", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create();
    expect((await api.as(user).post("/api/keys/management", { name: "phone key" })).status()).toBe(201);
    await user.login();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/billing-keys");
    const card = billingKeyRow(page, "phone key");
    await expect(card).toBeVisible();
    await expect(page.getByRole("table")).toHaveCount(0);
    for (const action of ["Rename", "Pause", "Rotate", "Delete"]) {
      await expect(card.getByRole("button", { name: `${action} phone key` })).toBeInViewport();
    }
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(sideways).toBeLessThanOrEqual(0);
    await saveScreenshot("phone cards");
  });
});
