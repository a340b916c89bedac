import type { Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test, type AuthedApi } from "./fixtures";
import { watchSecretLeaks } from "./leaks";

/**
 * The UI primitives' guarantees, checked where the app uses them: button
 * colours, dialogs, toasts, the show-once modal's close, the 404 page, the
 * favicon and the auth forms' focus handling.
 */

const SCHEMES = ["light", "dark"] as const;
const WIDTHS = [1280, 390] as const;

/** A computed colour as sRGB channels: Tailwind 4 colours compute to oklch(), so let a canvas convert them. */
async function rgb(locator: Locator, property: "color" | "backgroundColor"): Promise<{ r: number; g: number; b: number; css: string }> {
  return locator.evaluate((el, prop) => {
    const css = getComputedStyle(el)[prop];
    const ctx = document.createElement("canvas").getContext("2d")!;
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return { r, g, b, css };
  }, property);
}

function expectRed(c: { r: number; g: number; b: number; css: string }, what: string) {
  expect(c.r - Math.max(c.g, c.b), `${what} is red (${c.css} = rgb(${c.r}, ${c.g}, ${c.b}))`).toBeGreaterThan(60);
}

async function createKey(api: AuthedApi, path: string, name: string): Promise<void> {
  const res = await api.post(path, { name });
  expect(res.status(), await res.text()).toBe(201);
}

/** Creates a credit key through the dashboard's dialog and returns the secret the modal shows. */
async function createKeyThroughDialog(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "Create credit key" }).click();
  const dialog = page.getByTestId("create-key-dialog");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create key" }).click();
  const modal = page.getByTestId("secret-modal");
  await expect(modal).toBeVisible();
  const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
  expect(secret).toMatch(/^sk_live_/);
  return secret;
}

test.describe("buttons", () => {
  test("destructive buttons are red, in light and in dark mode (a caller's className overrides the variant)", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKey(api.as(user), "/api/keys/credit", "red key");
    await createKey(api.as(user), "/api/keys/management", "red mk");
    await user.login();

    const screens = [
      { path: "/keys", row: "Delete red key", confirm: "Delete key" },
      { path: "/billing-keys", row: "Delete red mk", confirm: "Delete billing key" },
    ];
    // At phone width each key is a card with its own Delete button (wider, it is in the row's menu).
    await page.setViewportSize({ width: 390, height: 844 });
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      for (const s of screens) {
        await page.goto(s.path);
        const rowDelete = page.getByRole("button", { name: s.row });
        await expectRed(await rgb(rowDelete, "color"), `${s.path} row Delete text (${colorScheme})`);
        await rowDelete.click();
        const confirm = page.getByTestId("confirm-dialog").getByRole("button", { name: s.confirm });
        await expect(confirm).toBeVisible();
        await expectRed(await rgb(confirm, "backgroundColor"), `${s.path} confirm button (${colorScheme})`);
        await saveScreenshot(`${s.path} confirm ${colorScheme}`);
        await page.keyboard.press("Escape");
        await expect(confirm).toBeHidden();
      }
    }
  });
});

test.describe("dialogs and toasts", () => {
  test("a dialog is labelled by its title, its × closes it, and focus returns to the button that opened it", async ({ page, users }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/keys");
    const opener = page.getByRole("button", { name: "Create credit key" });
    await opener.click();
    const dialog = page.getByRole("dialog", { name: "Create a credit key" });
    await expect(dialog).toBeVisible();
    await expect(dialog).toHaveAccessibleDescription("Credit keys share your account's balance. Limits are optional.");
    await expect(dialog.getByLabel("Name")).toBeFocused();
    await dialog.getByRole("button", { name: "Close dialog" }).click();
    await expect(dialog).toBeHidden();
    await expect(opener).toBeFocused();
  });

  test("a toast shown while a dialog is open is drawn on top of it, and clicking it leaves the dialog open", async ({ page, users, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await page.goto("/keys");
      // Creating a key opens the secret modal and toasts "Created key …" at the same moment.
      await createKeyThroughDialog(page, `toast key ${colorScheme}`);
      const toast = page.getByTestId("toast-success").filter({ hasText: `Created key “toast key ${colorScheme}”.` });
      await expect(toast).toBeVisible();
      await expect(toast).toHaveAttribute("data-mounted", "true");
      // The pointer on the toast, as a user reading it: Playwright waits until it has stopped sliding in and nothing
      // covers its centre, and Sonner holds its 4-second timer while it is hovered (a slow machine's screenshot below
      // used to outlast it, and the toast was gone before the click).
      await toast.hover();

      const topmost = await toast.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return { onTop: !!hit && el.contains(hit), hit: hit ? `${hit.tagName}.${hit.className}` : "nothing" };
      });
      expect(topmost.onTop, `the element at the toast's centre is the toast, not ${topmost.hit}`).toBe(true);
      await saveScreenshot(`toast over secret modal ${colorScheme}`);

      await toast.click();
      await expect(page.getByTestId("secret-modal")).toBeVisible();
      await page.getByRole("button", { name: "I have saved this key" }).click();
      await expect(page.getByTestId("secret-modal")).toBeHidden();
    }
  });
});

test.describe("show-once secret modal", () => {
  test("Escape before copying asks first; a stray Escape (or two) keeps the key; only a deliberate choice closes it, and then the key is gone", async ({
    page,
    users,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/keys");
    const leaks = watchSecretLeaks(page);
    const secret = await createKeyThroughDialog(page, "escape key");
    const modal = page.getByTestId("secret-modal");
    const question = modal.getByText("Close without copying? You won’t see this key again.");

    // The backdrop does nothing.
    await page.mouse.click(5, 5);
    await expect(modal).toBeVisible();
    await expect(question).toBeHidden();

    // A stray Escape asks; focus lands on the safe answer.
    await page.keyboard.press("Escape");
    await expect(question).toBeVisible();
    await expect(modal.getByTestId("secret-value")).toHaveText(secret);
    await expect(modal.getByRole("button", { name: "Keep it open" })).toBeFocused();
    await saveScreenshot("escape asks first");

    // A second Escape backs out of the question, not into losing the key.
    await page.keyboard.press("Escape");
    await expect(question).toBeHidden();
    await expect(modal.getByTestId("secret-value")).toHaveText(secret);
    await expect(modal.getByRole("button", { name: "Copy key to clipboard" })).toBeFocused();

    // Escape, then Enter on the focused answer: still open.
    await page.keyboard.press("Escape");
    await page.keyboard.press("Enter");
    await expect(question).toBeHidden();
    await expect(modal.getByTestId("secret-value")).toHaveText(secret);

    // Deliberately closing without copying closes, and focus goes back to the page.
    await page.keyboard.press("Escape");
    await modal.getByRole("button", { name: "Close without copying" }).click();
    await expect(modal).toBeHidden();
    await expect(page.getByRole("button", { name: "Create credit key" })).toBeFocused();
    leaks.afterSecretShown();
    await leaks.expectSecretGone(secret);
  });

  test.describe(() => {
    test.use({ permissions: ["clipboard-read", "clipboard-write"] });

    test("after the key is copied, Escape closes the modal without asking", async ({ page, users }) => {
      const user = await users.create({ creditUsd: 5 });
      await user.login();
      await page.goto("/keys");
      const secret = await createKeyThroughDialog(page, "copied key");
      const modal = page.getByTestId("secret-modal");
      await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
      await expect(modal.getByRole("status")).toHaveText("Copied to the clipboard.");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
      await page.keyboard.press("Escape");
      await expect(modal).toBeHidden();
    });
  });
});

test.describe("create credit key dialog", () => {
  test("a name already in use shows a warning under the field, and does not block creating the key", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKey(api.as(user), "/api/keys/credit", "Production");
    await user.login();
    await page.goto("/keys");
    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    const name = dialog.getByLabel("Name");
    const warning = "You already have a key named “Production”. A distinct name makes keys easier to tell apart.";

    await name.fill("  production ");
    await expect(dialog.getByText(warning)).toBeVisible();
    await expect(name).toHaveAccessibleDescription(warning);
    await expect(name).not.toHaveAttribute("aria-invalid", "true");
    await name.fill("production 2");
    await expect(dialog.getByText(warning)).toBeHidden();

    await name.fill("Production");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(page.getByTestId("secret-modal")).toBeVisible();
  });
});

test.describe("404 page", () => {
  test("an unknown URL answers 404 with a branded page and a link home, in light and dark, wide and narrow", async ({ page, saveScreenshot }) => {
    for (const colorScheme of SCHEMES) {
      for (const width of WIDTHS) {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize({ width, height: 800 });
        const res = await page.goto("/no-such-page");
        expect(res?.status()).toBe(404);
        await expect(page).toHaveTitle("Page not found · Keygate");
        await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
        await expect(page.getByRole("main").getByText("Keygate", { exact: true })).toBeVisible();
        await expect(page.getByRole("link", { name: "Go to your API keys" })).toHaveAttribute("href", "/keys");
        await expectNoSeriousViolations(page, `404 (${colorScheme}, ${width}px)`);
        await saveScreenshot(`404 ${colorScheme} ${width}`);
      }
    }
    await page.getByRole("link", { name: "Go to your API keys" }).click();
    // Signed out, home leads to sign-in (and back to the keys afterwards).
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fkeys$/);
  });
});

test.describe("favicon", () => {
  test("the Keygate icon is linked in <head> and served as SVG", async ({ page, request }) => {
    await page.goto("/sign-in");
    const href = await page.locator('head link[rel="icon"][type="image/svg+xml"]').getAttribute("href");
    expect(href).toMatch(/^\/icon\.svg/);
    const res = await request.get(href!);
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toContain("image/svg+xml");
    expect(await res.text()).toContain("<svg");
  });
});

test.describe("auth forms focus the first invalid field", () => {
  test("sign-in: an empty submit focuses Email; a valid email without a password focuses Password", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByLabel("Email")).toBeFocused();
    await expect(page.getByLabel("Email")).toHaveAccessibleDescription(/^Email must be a valid email address/);

    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByLabel("Password")).toBeFocused();
    await expect(page.getByLabel("Password")).toHaveAccessibleDescription("Password is required");
    await expect(page.getByLabel("Email")).not.toHaveAttribute("aria-invalid", "true");
  });

  test("sign-up: a blank optional name is fine; a bad email is focused before a short password", async ({ page }) => {
    await page.goto("/sign-up");
    await page.getByLabel("Email").fill("not an email");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByLabel("Email")).toBeFocused();
    await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Name (optional)")).not.toHaveAttribute("aria-invalid", "true");
  });
});

test.describe("screens for review", () => {
  for (const colorScheme of SCHEMES) {
    for (const width of WIDTHS) {
      test(`the keys page, create dialog and secret modal (${colorScheme}, ${width}px)`, async ({ page, users, api, saveScreenshot }) => {
        const user = await users.create({ creditUsd: 5 });
        await createKey(api.as(user), "/api/keys/credit", "Production");
        await user.login();
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize({ width, height: 900 });
        await page.goto("/keys");
        await expect(page.locator('[data-testid="key-row"]')).toHaveCount(1);
        await saveScreenshot("keys");
        await page.getByRole("button", { name: "Create credit key" }).click();
        const dialog = page.getByTestId("create-key-dialog");
        await dialog.getByLabel("Name").fill("production");
        await dialog.getByLabel("Requests per minute").fill("0");
        await dialog.getByRole("button", { name: "Create key" }).click();
        await expect(dialog.getByLabel("Requests per minute")).toHaveAttribute("aria-invalid", "true");
        await page.screenshot({ path: `e2e/.artifacts/ui-${colorScheme}-${width}-create-dialog.png` });
        await dialog.getByLabel("Requests per minute").fill("60");
        await dialog.getByRole("button", { name: "Create key" }).click();
        await expect(page.getByTestId("secret-modal")).toBeVisible();
        await page.keyboard.press("Escape");
        await expect(page.getByRole("button", { name: "Keep it open" })).toBeFocused();
        await page.screenshot({ path: `e2e/.artifacts/ui-${colorScheme}-${width}-secret-confirm.png` });
        await expectNoSeriousViolations(page, `secret modal asking (${colorScheme}, ${width}px)`);
        await page.goto("/sign-in");
        await page.screenshot({ path: `e2e/.artifacts/ui-${colorScheme}-${width}-sign-in.png` });
      });
    }
  }
});
