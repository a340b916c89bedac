import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test, type AuthedApi, type UsersFixture } from "./fixtures";
import { reactQueryCache, watchSecretLeaks } from "./leaks";
import { E2E_ADMIN_API_TOKEN } from "./test-env";

/**
 * The API Keys screen and the dashboard shell, in a real browser against a
 * production build. Every test makes its own users, so they run in parallel.
 */

interface ListedKey {
  id: string;
  name: string;
  keyType: "credit" | "subscription";
  keyPrefix: string;
  isActive: boolean;
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxBudget: number | null;
  budgetPeriod: "day" | "week" | "month" | null;
  budgetResetsAt: string | null;
  expiresAt: string | null;
  createdAt: string;
}

/** "Jan 1, 2027": how the keys list dates a budget reset (a UTC day). */
function utcDay(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

const EMPTY_KEYS = "No API keys yet";
const API_ERROR_BODY = {
  success: false,
  error: { code: "internal_error", message: "Something went wrong on our side. The request was not completed; please try again." },
};

function keyRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="key-row"][data-key-name="${name}"]`);
}

/** Opens a row's "⋯" menu (desktop layout) and returns the menu. */
async function openRowMenu(page: Page, name: string): Promise<Locator> {
  await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
  const menu = page.getByRole("menu");
  await expect(menu).toBeVisible();
  return menu;
}

/** Chooses an action (Edit, Pause, Resume, Delete) from a row's menu. */
async function rowAction(page: Page, name: string, action: string): Promise<void> {
  const menu = await openRowMenu(page, name);
  await menu.getByRole("menuitem", { name: action, exact: true }).click();
  await expect(menu).toBeHidden();
}

/** The row's menu offers this action (e.g. Resume after a pause); the menu is closed again afterwards. */
async function expectRowActionOffered(page: Page, name: string, action: string): Promise<void> {
  const menu = await openRowMenu(page, name);
  await expect(menu.getByRole("menuitem", { name: action, exact: true })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(menu).toBeHidden();
}

function toast(page: Page, tone: "success" | "error", text: string | RegExp): Locator {
  return page.getByTestId(`toast-${tone}`).filter({ hasText: text });
}

async function listKeys(api: AuthedApi): Promise<ListedKey[]> {
  const res = await api.get("/api/keys");
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { data: ListedKey[] }).data;
}

async function createKeyViaApi(api: AuthedApi, body: Record<string, unknown>): Promise<ListedKey & { apiKey: string }> {
  const res = await api.post("/api/keys/credit", body);
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { data: ListedKey & { apiKey: string } }).data;
}

/** `<input type="datetime-local">` text for a date, in the browser's (= this machine's) time zone. */
function localDateTime(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * 86_400_000);
}

/** Every non-GET request the page sends to /api, to prove a form sent nothing. */
function recordApiWrites(page: Page): string[] {
  const writes: string[] = [];
  page.on("request", (req) => {
    if (req.method() !== "GET" && new URL(req.url()).pathname.startsWith("/api/")) writes.push(`${req.method()} ${req.url()}`);
  });
  return writes;
}

/**
 * The journey's sign-up goes through the form, like a person's would. Credit
 * comes from the operator's admin API, and a session token from
 * POST /api/auth/token lets the test check the API's side of things.
 */
async function signUpThroughForm(
  page: Page,
  users: UsersFixture,
  request: APIRequestContext,
  creditUsd: number,
): Promise<{ email: string; password: string; token: string }> {
  const email = users.freshEmail();
  const password = users.freshPassword();
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);

  const grant = await request.post("/api/admin/credits", {
    headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
    data: { email, amountUsd: creditUsd, note: "e2e journey" },
  });
  expect(grant.status(), await grant.text()).toBe(201);
  // The operator's grant happens elsewhere; like a real user, the page sees it on reload.
  await page.reload();
  const tokenRes = await request.post("/api/auth/token", { data: { email, password } });
  expect(tokenRes.status(), await tokenRes.text()).toBe(200);
  const { data: session } = (await tokenRes.json()) as { data: { token: string } };
  return { email, password, token: session.token };
}

/** Presses Tab until the focused element has this accessible name (as its aria-label or text). */
async function tabTo(page: Page, name: string, maxPresses = 25): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el ? (el.getAttribute("aria-label") ?? el.textContent ?? "").trim() : "";
    });
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}" in ${maxPresses} presses`);
}

/** Whether the focused element is inside the open modal <dialog> (or is it). */
async function focusIsInOpenDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => !!document.activeElement?.closest("dialog[open]"));
}

test.describe("credit key journey", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("sign up → create a credit key → copy → close → reload: the secret is gone everywhere; the key works on the gateway until paused in the UI; delete removes it", async ({
    page,
    users,
    request,
    api,
    saveScreenshot,
  }) => {
    const leaks = watchSecretLeaks(page);
    const user = await signUpThroughForm(page, users, request, 10);
    const asUser = api.as(user);
    // Sign-up lands on the Overview; the keys are a tab away.
    await expect(page).toHaveURL(/\/overview$/);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API Keys" }).click();
    await expect(page).toHaveURL(/\/keys$/);
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();

    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    await expect(dialog.getByRole("heading", { name: "Create a credit key" })).toBeVisible();
    await dialog.getByLabel("Name").fill("journey key");
    await dialog.getByLabel("Max budget (USD)").fill("5");
    await expect(dialog.getByLabel("Budget period")).toHaveValue("");
    await dialog.getByLabel("Budget period").selectOption({ label: "Weekly" });
    await dialog.getByLabel("Requests per minute").fill("30");
    await dialog.getByLabel("Tokens per minute").fill("1000");
    const expiry = daysFromNow(30);
    await dialog.getByLabel("Expires").fill(localDateTime(expiry));
    await saveScreenshot("create dialog filled");
    await dialog.getByRole("button", { name: "Create key" }).click();

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    await expect(dialog).toBeHidden();
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    await expect(modal).toContainText("It will not be shown again");
    await expect(toast(page, "success", "Created key “journey key”.")).toBeVisible();

    const copy = modal.getByRole("button", { name: "Copy key to clipboard" });
    await copy.click();
    await expect(copy).toHaveText("Copied");
    await expect(modal.getByRole("status")).toHaveText("Copied to the clipboard.");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(secret);
    await saveScreenshot("secret modal after copy");

    // A stray click on the backdrop is not a decision to lose the key.
    await page.mouse.click(5, 5);
    await expect(modal).toBeVisible();

    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();
    leaks.afterSecretShown();
    await expect(keyRow(page, "journey key")).toBeVisible();
    await leaks.expectSecretGone(copied);

    await page.reload();
    const row = keyRow(page, "journey key");
    await expect(row).toBeVisible();
    await leaks.expectSecretGone(copied);
    // The cache probe reads the live cache: it holds the list, just not the secret.
    expect(await reactQueryCache(page)).toContain(copied.slice(0, 16));
    // The table shows only the stored display prefix: the type and 8 random characters.
    await expect(row.getByRole("cell").nth(1).locator("code")).toHaveText(`${copied.slice(0, 16)}…`);
    await expect(row).toContainText("Credit");
    await expect(row).toContainText("Active");
    // The limits on one line, as a person would say them.
    await expect(row.getByRole("cell").nth(3)).toHaveText("30 rpm · 1,000 tpm · $5 weekly budget");
    // The expiry reads relative ("Expires in 4 weeks"); its <time> carries the exact moment the API stored.
    const [listed] = await listKeys(asUser);
    // A weekly budget: the API has the period, and the list says when it resets (next Monday, UTC).
    expect(listed).toMatchObject({ budgetPeriod: "week", budgetResetsAt: expect.any(String) });
    expect(new Date(listed.budgetResetsAt!).getUTCDay()).toBe(1);
    await expect(row.getByTestId("key-budget-resets")).toHaveText(`resets ${utcDay(listed.budgetResetsAt!)}`);
    await expect(row.getByText(/^Expires in /)).toBeVisible();
    await expect(row.locator(`time[datetime="${listed.expiresAt}"]`)).toHaveAttribute("title", new RegExp(String(expiry.getFullYear())));
    await saveScreenshot("keys list after reload");

    // Use the copied key against the API. The management API refuses every
    // consumption key (inference only), so this proves the clipboard holds a
    // key Keygate recognises as an sk_ key, not that it is active.
    const asKey = await request.get("/api/keys", { headers: { Authorization: `Bearer ${copied}` } });
    expect(asKey.status()).toBe(403);
    expect(((await asKey.json()) as { error: { code: string } }).error.code).toBe("consumption_key_not_allowed");

    // The copied key works on the gateway (the built-in demo model)...
    const chat = { model: "keygate/echo", messages: [{ role: "user", content: "hi" }] };
    const beforePause = await request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${copied}` }, data: chat });
    expect(beforePause.status(), await beforePause.text()).toBe(200);

    // ...until it is paused in the UI: the very next request is refused.
    await rowAction(page, "journey key", "Pause");
    await expect(row).toContainText("Paused");
    await expect(toast(page, "success", "Paused “journey key”")).toBeVisible();
    await expectRowActionOffered(page, "journey key", "Resume");
    const afterPause = await request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${copied}` }, data: chat });
    expect(afterPause.status()).toBe(401);
    expect(((await afterPause.json()) as { error: { message: string } }).error.message).toMatch(/paused/);
    const [paused] = await listKeys(asUser);
    expect(paused).toMatchObject({ name: "journey key", isActive: false, keyPrefix: copied.slice(0, 16) });

    // Delete, after a confirmation that names the key and its prefix.
    await rowAction(page, "journey key", "Delete");
    const confirm = page.getByTestId("confirm-dialog");
    await expect(confirm.getByRole("heading")).toHaveText(`Delete “journey key” (${copied.slice(0, 16)}…)?`);
    await expect(confirm).toContainText("Apps using it stop working at once.");
    // The safe choice has the focus, so a reflexive Enter deletes nothing.
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await saveScreenshot("delete confirmation");
    await confirm.getByRole("button", { name: "Delete key" }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toHaveCount(0);
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    await expect(toast(page, "success", "Deleted “journey key”.")).toBeVisible();
    expect(await listKeys(asUser)).toEqual([]);
    // The reload, the pause and the delete all fetched the list again.
    expect(await leaks.expectSecretGone(copied)).toBeGreaterThanOrEqual(3);
  });

  test("keyboard only: Tab and Enter create a key, focus stays in the secret modal, Escape closes dialogs and focus returns", async ({
    page,
    users,
    api,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/keys");
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();

    const createButton = page.getByRole("button", { name: "Create credit key" });
    const dialog = page.getByTestId("create-key-dialog");
    await tabTo(page, "Create credit key");
    await page.keyboard.press("Enter");
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Name")).toBeFocused();

    // Escape closes the dialog and puts focus back on the button that opened it.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(createButton).toBeFocused();

    await page.keyboard.press("Enter");
    await expect(dialog.getByLabel("Name")).toBeFocused();
    await expect(dialog.getByLabel("Name"), "a reopened form starts blank").toHaveValue("");
    await page.keyboard.type("keyboard key");
    await page.keyboard.press("Tab");
    await expect(dialog.getByLabel("Max budget (USD)")).toBeFocused();
    await page.keyboard.type("2.5");
    await page.keyboard.press("Enter");

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^sk_live_/);
    expect(await focusIsInOpenDialog(page), "focus moves into the secret modal").toBe(true);

    // The modal traps focus: Tab and Shift+Tab cycle through its own controls.
    const seen = new Set<string>();
    for (const key of ["Tab", "Tab", "Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]) {
      await page.keyboard.press(key);
      const where = await page.evaluate(() => {
        const el = document.activeElement;
        return { inDialog: !!el?.closest("dialog[open]"), label: el?.getAttribute("aria-label") ?? el?.textContent ?? "", tag: el?.tagName };
      });
      // Chromium briefly hands focus to the browser's own UI after the last
      // control (document.body from the page's view); the page behind stays inert.
      expect(where.inDialog || where.tag === "BODY", `${key} left the modal for ${JSON.stringify(where)}`).toBe(true);
      if (where.inDialog) seen.add(where.label.trim());
    }
    // The key, the snippets' tab (one stop for the tab list), its copy button and its scrollable code, the close button.
    expect([...seen].sort()).toEqual(["Copy curl example", "Copy key to clipboard", "I have saved this key", "curl", "curl example"]);

    await tabTo(page, "Copy key to clipboard");
    await page.keyboard.press("Enter");
    await expect(modal.getByRole("status")).toHaveText("Copied to the clipboard.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await saveScreenshot("secret modal via keyboard");

    // Escape is a deliberate close too; afterwards the keyboard user is back on the page, not lost at the top.
    await page.keyboard.press("Escape");
    await expect(modal).toBeHidden();
    await expect(createButton).toBeFocused();
    await expect(keyRow(page, "keyboard key")).toContainText("$2.50 budget");

    // Delete by keyboard, through the row menu: the confirmation opens on Cancel; Escape backs out.
    const trigger = page.getByRole("button", { name: "Actions for keyboard key" });
    await tabTo(page, "Actions for keyboard key");
    await page.keyboard.press("Enter");
    await expect(page.getByRole("menuitem", { name: "Edit" })).toBeFocused();
    await page.keyboard.press("End");
    await expect(page.getByRole("menuitem", { name: "Delete" })).toBeFocused();
    await page.keyboard.press("Enter");
    const confirm = page.getByTestId("confirm-dialog");
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(confirm).toBeHidden();
    await expect(trigger).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page.getByRole("menuitem", { name: "Edit" })).toBeFocused();
    await page.keyboard.press("End");
    await expect(page.getByRole("menuitem", { name: "Delete" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(confirm.getByRole("button", { name: "Delete key" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    expect(await listKeys(api.as(user))).toEqual([]);
  });
});

test.describe("create credit key dialog", () => {
  test("an empty name, rpm 0, a zero budget and a past expiry show inline errors from the API's schema, and no request is sent", async ({
    page,
    users,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/keys");
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    const writes = recordApiWrites(page);

    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    const name = dialog.getByLabel("Name");
    const budget = dialog.getByLabel("Max budget (USD)");
    const rpm = dialog.getByLabel("Requests per minute");
    const tpm = dialog.getByLabel("Tokens per minute");
    const expires = dialog.getByLabel("Expires");
    await expect(rpm, "rpm starts at the API's default").toHaveValue("60");
    await name.fill("   ");
    await budget.fill("0");
    await rpm.fill("0");
    await expires.fill("2020-01-01T00:00");
    await dialog.getByRole("button", { name: "Create key" }).click();

    // Each error is announced with its field, and names the field as the form labels it.
    await expect(name).toHaveAttribute("aria-invalid", "true");
    await expect(name).toHaveAccessibleDescription("Name must not be empty");
    await expect(budget).toHaveAccessibleDescription("Max budget must be greater than 0");
    await expect(rpm).toHaveAccessibleDescription("Requests per minute must be at least 1");
    await expect(expires).toHaveAccessibleDescription("Expiry must be in the future");
    await expect(tpm).not.toHaveAttribute("aria-invalid", "true");
    await expect(name, "focus goes to the first field to fix").toBeFocused();
    await saveScreenshot("create dialog errors");

    // Give a stray request time to show up before asserting there was none.
    await page.waitForTimeout(500);
    expect(writes).toEqual([]);
    await expect(page.getByTestId("secret-modal")).toBeHidden();

    // Cancel and reopen: a fresh form, not the old errors.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole("button", { name: "Create credit key" }).click();
    await expect(name).not.toHaveAttribute("aria-invalid", "true");
    await expect(rpm).not.toHaveAttribute("aria-invalid", "true");

    // Valid values create the key.
    await name.fill("fixed key");
    await budget.fill("");
    await rpm.fill("120");
    await expires.fill("");
    await dialog.getByRole("button", { name: "Create key" }).click();
    await expect(page.getByTestId("secret-modal")).toBeVisible();
    expect(writes).toEqual([expect.stringMatching(/^POST .*\/api\/keys\/credit$/)]);
  });

  test("the create error shows once: inline in the dialog and announced there, with no toast, and the input kept", async ({
    page,
    users,
    api,
    saveScreenshot,
  }) => {
    // A balance spent elsewhere since the page loaded: the page still shows credit, the API refuses with 402.
    const user = await users.create();
    const direct = await api.as(user).post("/api/keys/credit", { name: "x" });
    expect(direct.status()).toBe(402);
    const { error } = (await direct.json()) as { error: { message: string } };
    let staleBalance = true;
    await page.route(
      (url) => url.pathname === "/api/billing/status",
      async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as { data: { balance: number } };
        if (staleBalance) body.data.balance = 5;
        staleBalance = false;
        await route.fulfill({ response: res, json: body });
      },
    );

    await user.login();
    await page.goto("/keys");
    await expect(page.getByRole("button", { name: "Create credit key" })).not.toHaveAttribute("aria-disabled", "true");
    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    await dialog.getByLabel("Name").fill("no credit");
    await dialog.getByRole("button", { name: "Create key" }).click();

    // In the dialog, where it is seen and announced, and only there.
    await expect(dialog.getByRole("alert")).toHaveText(error.message);
    await page.waitForTimeout(500);
    await expect(page.getByTestId("toast-error")).toHaveCount(0);
    await expect(page.getByText(error.message)).toHaveCount(1);
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Name")).toHaveValue("no credit");
    await expect(dialog.getByRole("button", { name: "Create key" })).toBeEnabled();
    await expect(page.getByTestId("secret-modal")).toBeHidden();
    await saveScreenshot("refused inline");

    // Closed, the page has caught up with the balance: the notice says what to do, and the old refusal is gone.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("credit-notice")).toBeVisible();
    await expect(page.getByText(error.message)).toHaveCount(0);
  });

  test("a $0 account sees the credit notice, with what to do, before any form", async ({ page, users, saveScreenshot }) => {
    const user = await users.create();
    await user.login();
    const writes = recordApiWrites(page);
    await page.goto("/keys");
    const notice = page.getByTestId("credit-notice");
    await expect(notice.getByRole("heading", { name: "Add credit before you create a key" })).toBeVisible();
    await expect(notice).toContainText("$0.00");
    await expect(notice).toContainText("POST /api/admin/credits");
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    // Above the list, where a new user looks first.
    const noticeBox = await notice.boundingBox();
    const listBox = await page.getByRole("region", { name: "Your API keys" }).boundingBox();
    expect(noticeBox!.y).toBeLessThan(listBox!.y);

    // The Create button says why it does nothing, and points at the way out instead of opening a form.
    const create = page.getByRole("button", { name: "Create credit key" });
    await expect(create).toHaveAttribute("aria-disabled", "true");
    await expect(create).toHaveAccessibleDescription(/Your balance is \$0\.00/);
    // Playwright refuses to click an aria-disabled button, as a person would not; the keyboard still reaches it.
    await create.focus();
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("create-key-dialog")).toHaveCount(0);
    await expect(notice.getByRole("link", { name: "Go to Billing" })).toBeFocused();
    await saveScreenshot("no credit notice");
    await page.waitForTimeout(300);
    expect(writes).toEqual([]);

    await notice.getByRole("link", { name: "Go to Billing" }).click();
    await expect(page).toHaveURL("/billing");
  });
});

test.describe("keys list states", () => {
  test("a new user sees a loading state until the list arrives, then the empty state", async ({ page, users, saveScreenshot }) => {
    const user = await users.create();
    await user.login();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route(
      (url) => url.pathname === "/api/keys",
      async (route) => {
        await gate;
        await route.continue();
      },
    );

    await page.goto("/keys");
    await expect(page.getByRole("status", { name: "Loading keys" })).toBeVisible();
    await saveScreenshot("loading");
    release();
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    await expect(page.getByRole("status", { name: "Loading keys" })).toHaveCount(0);
    await expect(page.getByRole("table")).toHaveCount(0);
    await saveScreenshot("empty");
  });

  test("one failed load of /api/keys is retried silently and the list appears", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "survives a blip" });
    await user.login();
    let failures = 0;
    await page.route(
      (url) => url.pathname === "/api/keys",
      async (route) => {
        if (failures === 0) {
          failures++;
          await route.fulfill({ status: 500, json: API_ERROR_BODY });
        } else {
          await route.continue();
        }
      },
    );

    await page.goto("/keys");
    await expect(keyRow(page, "survives a blip")).toBeVisible();
    expect(failures).toBe(1);
    await expect(page.getByRole("main").getByRole("alert")).toHaveCount(0);
  });

  test("when /api/keys keeps answering 500 the error state shows the message, and Try again loads the list", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "after the outage" });
    await user.login();
    let failing = true;
    let failures = 0;
    await page.route(
      (url) => url.pathname === "/api/keys",
      async (route) => {
        if (failing) {
          failures++;
          await route.fulfill({ status: 500, json: API_ERROR_BODY });
        } else {
          await route.continue();
        }
      },
    );

    await page.goto("/keys");
    const alert = page.getByRole("main").getByRole("alert");
    // TanStack retries a 5xx twice (1 s, then 2 s) before giving up.
    await expect(alert).toContainText(API_ERROR_BODY.error.message, { timeout: 15_000 });
    expect(failures).toBe(3);
    await expectNoSeriousViolations(page, "/keys error state");
    await saveScreenshot("error state");

    failing = false;
    await alert.getByRole("button", { name: "Try again" }).click();
    await expect(keyRow(page, "after the outage")).toBeVisible();
    await expect(alert).toHaveCount(0);
  });
});

test.describe("key actions", () => {
  test("pausing flips the status at once, then rolls back with an error toast when the PUT fails", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "rollback key" });
    await user.login();
    await page.goto("/keys");
    const row = keyRow(page, "rollback key");
    await expect(row).toContainText("Active");

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failure = { code: "internal_error", message: "The key could not be updated. Please try again." };
    let puts = 0;
    await page.route(
      (url) => url.pathname.startsWith("/api/keys/"),
      async (route) => {
        if (route.request().method() !== "PUT") return route.continue();
        puts++;
        await gate;
        await route.fulfill({ status: 500, json: { success: false, error: failure } });
      },
    );

    await rowAction(page, "rollback key", "Pause");
    // Optimistic: the UI shows the pause while the server has not answered yet.
    await expect(row).toContainText("Paused");
    await expectRowActionOffered(page, "rollback key", "Resume");
    await saveScreenshot("optimistic pause");
    release();

    await expect(toast(page, "error", failure.message)).toBeVisible();
    await expect(row).toContainText("Active");
    await expectRowActionOffered(page, "rollback key", "Pause");
    await saveScreenshot("rolled back");
    expect(puts).toBe(1);
    const [key] = await listKeys(api.as(user));
    expect(key.isActive).toBe(true);
  });

  test("the edit dialog validates the name, and rename and resume in the UI change name and isActive in the API", async ({
    page,
    users,
    api,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    const key = await createKeyViaApi(asUser, { name: "old name" });
    const paused = await asUser.put(`/api/keys/${key.id}`, { isActive: false });
    expect(paused.status()).toBe(200);
    await user.login();
    await page.goto("/keys");
    await expect(keyRow(page, "old name")).toContainText("Paused");

    await rowAction(page, "old name", "Edit");
    const dialog = page.getByRole("dialog", { name: "Edit “old name”" });
    const field = dialog.getByLabel("Name");
    await expect(field).toHaveValue("old name");
    await expect(field).toBeFocused();
    await field.fill("");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(field).toHaveAccessibleDescription("Name must not be empty");
    await saveScreenshot("rename error");
    await field.fill("new name");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(keyRow(page, "new name")).toBeVisible();
    await expect(toast(page, "success", "Renamed to “new name”.")).toBeVisible();

    await rowAction(page, "new name", "Resume");
    await expect(keyRow(page, "new name")).toContainText("Active");
    await expect(toast(page, "success", "Resumed “new name”.")).toBeVisible();
    const [after] = await listKeys(asUser);
    expect(after).toMatchObject({ id: key.id, name: "new name", isActive: true });
  });

  test("Escape closes the edit and delete dialogs without changing anything", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "untouched" });
    await user.login();
    await page.goto("/keys");
    const writes = recordApiWrites(page);

    await rowAction(page, "untouched", "Edit");
    const edit = page.getByRole("dialog", { name: "Edit “untouched”" });
    await edit.getByLabel("Name").fill("changed my mind");
    await edit.getByLabel("Requests per minute").fill("5");
    await page.keyboard.press("Escape");
    await expect(edit).toBeHidden();

    await rowAction(page, "untouched", "Delete");
    await expect(page.getByTestId("confirm-dialog")).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("confirm-dialog")).toBeHidden();

    await page.waitForTimeout(300);
    expect(writes).toEqual([]);
    await expect(keyRow(page, "untouched")).toContainText("Active");
    expect((await listKeys(api.as(user))).map((k) => k.name)).toEqual(["untouched"]);
  });
});

test.describe("tenancy", () => {
  test("a second user never sees the first user's keys, in another browser or after sign-out in the same one", async ({
    page,
    browser,
    baseURL,
    users,
    api,
  }) => {
    const alice = await users.create({ creditUsd: 5 });
    const bob = await users.create();
    const aliceKey = await createKeyViaApi(api.as(alice), { name: "alice credit key" });
    const aliceMk = await api.as(alice).post("/api/keys/management", { name: "alice billing key" });
    expect(aliceMk.status()).toBe(201);

    await alice.login();
    await page.goto("/keys");
    await expect(keyRow(page, "alice credit key")).toBeVisible();

    // Bob, in his own browser.
    const bobContext = await browser.newContext({ baseURL });
    try {
      const bobPage = await bobContext.newPage();
      await bob.login(bobPage);
      await bobPage.goto("/keys");
      await expect(bobPage.getByTestId("signed-in-as")).toHaveText(bob.email);
      await expect(bobPage.getByText(EMPTY_KEYS)).toBeVisible();
      await bobPage.goto("/billing-keys");
      await expect(bobPage.getByText("No billing keys yet")).toBeVisible();
      expect(await bobPage.content()).not.toContain("alice");
    } finally {
      await bobContext.close();
    }

    // Bob, in the browser Alice just used: nothing of hers survives sign-out.
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.getByLabel("Email").fill(bob.email);
    await page.getByLabel("Password").fill(bob.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("signed-in-as")).toHaveText(bob.email);
    // Sign-in lands on the Overview (which reads the keys too); the keys are a tab away.
    await expect(page).toHaveURL(/\/overview$/);
    await expect(page.getByText("No requests in the last 30 days")).toBeVisible();
    expect(await page.content()).not.toContain("alice");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API Keys" }).click();
    await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
    expect(await page.content()).not.toContain("alice credit key");

    // And Bob's session cannot reach her key by ID.
    const put = await api.as(bob).put(`/api/keys/${aliceKey.id}`, { isActive: false });
    expect(put.status()).toBe(404);
    const del = await api.as(bob).delete(`/api/keys/${aliceKey.id}`);
    expect(del.status()).toBe(404);
    expect((await listKeys(api.as(alice)))[0]).toMatchObject({ id: aliceKey.id, isActive: true });
  });
});

test.describe("shell and sessions", () => {
  test("a signed-out visit to any dashboard page goes to sign-in and returns to that page after signing in", async ({ page, users }) => {
    const user = await users.create();
    for (const path of ["/keys", "/billing-keys", "/billing", "/account"]) {
      await page.context().clearCookies();
      await page.goto(path);
      await expect(page).toHaveURL(`/sign-in?callbackUrl=${encodeURIComponent(path)}`);
      await page.getByLabel("Email").fill(user.email);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByTestId("signed-in-as")).toHaveText(user.email);
      await expect(page, `back on ${path}`).toHaveURL(path);
    }
  });

  test("a callbackUrl pointing at another site is ignored after sign-in", async ({ page, users, baseURL }) => {
    const user = await users.create();
    await page.goto(`/sign-in?callbackUrl=${encodeURIComponent("https://evil.example/phish")}`);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("signed-in-as")).toHaveText(user.email);
    expect(new URL(page.url()).origin).toBe(new URL(baseURL!).origin);
  });

  test("the navigation reaches every screen and marks the current one; the header names the user and signs out", async ({ page, users, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 12.5 });
    await user.login();
    await page.goto("/keys");
    const nav = page.getByRole("navigation", { name: "Main" });
    const screens = [
      { link: "Overview", path: "/overview", heading: "Overview", title: "Overview · Keygate" },
      { link: "Usage", path: "/usage", heading: "Usage", title: "Usage · Keygate" },
      { link: "API Keys", path: "/keys", heading: "API keys", title: "API Keys · Keygate" },
      { link: "Billing Keys", path: "/billing-keys", heading: "Billing keys", title: "Billing Keys · Keygate" },
      { link: "Billing", path: "/billing", heading: "Billing", title: "Billing · Keygate" },
      { link: "Account", path: "/account", heading: "Account", title: "Account · Keygate" },
    ];
    for (const s of screens) {
      await nav.getByRole("link", { name: s.link, exact: true }).click();
      await expect(page).toHaveURL(s.path);
      await expect(page.getByRole("heading", { level: 1, name: s.heading, exact: true })).toBeVisible();
      await expect(page).toHaveTitle(s.title);
      await expect(nav.getByRole("link", { name: s.link, exact: true })).toHaveAttribute("aria-current", "page");
      await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
      await expect(page.getByTestId("signed-in-as")).toHaveText(user.email);
    }

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto("/keys");
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fkeys$/);
    await saveScreenshot("signed out");
  });

  test("Billing shows the balance granted by the operator and counts the keys", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 12.5 });
    const key = await createKeyViaApi(api.as(user), { name: "one" });
    await createKeyViaApi(api.as(user), { name: "two" });
    expect((await api.as(user).put(`/api/keys/${key.id}`, { isActive: false })).status()).toBe(200);
    await user.login();
    await page.goto("/billing");
    await expect(page.getByTestId("balance")).toHaveText("$12.50");
    await expect(page.getByText("1 of 2")).toBeVisible();
    await saveScreenshot("billing");
  });

  test.describe(() => {
    // West of UTC, a UTC month's first midnight is the previous evening locally.
    test.use({ timezoneId: "America/New_York" });

    test("Billing names the period as the UTC calendar month, whatever the viewer's time zone", async ({ page, users }) => {
      const user = await users.create();
      await user.login();
      await page.goto("/billing");
      await expect(page.getByTestId("balance")).toHaveText("$0.00");
      const now = new Date();
      const utcDay = (d: Date) => d.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
      const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0));
      await expect(page.getByText(/^Period:/)).toHaveText(`Period: ${utcDay(first)} – ${utcDay(last)} (UTC calendar month).`);
    });
  });

  test("Account explains POST /api/auth/token with a curl that works, and links to the API docs", async ({ page, users, request, baseURL, saveScreenshot }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/account");
    const example = page.getByText("/api/auth/token");
    await expect(example).toBeVisible();
    const text = (await example.textContent()) ?? "";
    expect(text).toContain(`curl -X POST ${baseURL}/api/auth/token`);
    expect(text).toContain(`"email": "${user.email}"`);
    await saveScreenshot("account");

    // The documented call, as written, with the password filled in.
    const body = /-d '([^']+)'/.exec(text)?.[1]?.replace("<your password>", user.password);
    expect(body).toBeDefined();
    const res = await request.post(`${baseURL}/api/auth/token`, { headers: { "Content-Type": "application/json" }, data: body });
    expect(res.status()).toBe(200);
    expect(((await res.json()) as { data: { token: string } }).data.token).toBeTruthy();

    await page.getByRole("link", { name: "Read the API reference" }).click();
    await expect(page).toHaveURL("/docs");
    // The reference's title is in /docs's first response (Scalar's interactive
    // page comes later, see e2e/docs.spec.ts); 15 s is for a busy machine.
    await expect(page.getByRole("heading", { level: 1, name: /^Keygate API/ })).toBeVisible({ timeout: 15_000 });
    await page.goBack();
    await page.getByRole("link", { name: "API docs" }).click();
    await expect(page).toHaveURL("/docs");
  });
});

test.describe("responsive", () => {
  test("at 390 px each key is a card with its actions in view, and no page scrolls sideways", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    const longName = "a key with a fairly long descriptive name";
    const key = await createKeyViaApi(api.as(user), { name: longName, maxBudget: 20, tpm: 50_000 });
    await createKeyViaApi(api.as(user), { name: "second" });
    await user.login();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/keys");
    const card = keyRow(page, longName);
    await expect(card).toBeVisible();

    // A list of cards, not a table to scroll sideways.
    await expect(page.getByRole("table")).toHaveCount(0);
    await expect(page.getByRole("list", { name: "API keys" }).getByRole("listitem")).toHaveCount(2);
    await expect(card).toContainText("60 rpm · 50K tpm · $20 budget");
    await expect(card.getByTestId("key-id")).toHaveText(key.id);
    for (const action of ["Edit", "Pause", "Rotate", "Delete"]) {
      await expect(card.getByRole("button", { name: `${action} ${longName}` })).toBeInViewport();
    }
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(sideways, "the page scrolls sideways").toBeLessThanOrEqual(0);
    await expect(page.getByRole("button", { name: "Create credit key" })).toBeInViewport();
    await saveScreenshot("phone keys");

    // The card's actions work: pause, then edit.
    await card.getByRole("button", { name: `Pause ${longName}` }).click();
    await expect(card).toContainText("Paused");
    await expect(card.getByRole("button", { name: `Resume ${longName}` })).toBeVisible();
    await card.getByRole("button", { name: `Edit ${longName}` }).click();
    const edit = page.getByTestId("edit-key-dialog");
    await expect(edit).toBeVisible();
    const box = await edit.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    await saveScreenshot("phone edit dialog");
    await page.keyboard.press("Escape");

    for (const path of ["/billing-keys", "/billing", "/account"]) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      const sidewaysThere = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(sidewaysThere, `${path} scrolls sideways at 390px`).toBeLessThanOrEqual(0);
      await saveScreenshot(`phone ${path}`);
    }

    // The create dialog fits the phone.
    await page.goto("/keys");
    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    await expect(dialog).toBeVisible();
    const createBox = await dialog.boundingBox();
    expect(createBox && createBox.x >= 0 && createBox.x + createBox.width <= 390).toBe(true);
    await saveScreenshot("phone create dialog");
  });

  test("at 1280 px the keys table fits without scrolling and its rows are about 56 px tall", async ({ page, users, api, saveScreenshot }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    await createKeyViaApi(asUser, { name: "ci-runner", maxBudget: 25, rpm: 120, expiresAt: daysFromNow(90).toISOString() });
    await createKeyViaApi(asUser, { name: "staging", tpm: 200_000 });
    const paused = await createKeyViaApi(asUser, { name: "old laptop" });
    expect((await asUser.put(`/api/keys/${paused.id}`, { isActive: false })).status()).toBe(200);
    await user.login();
    await page.setViewportSize({ width: 1280, height: 800 });
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      await page.goto("/keys");
      await expect(keyRow(page, "old laptop")).toBeVisible();
      const layout = await page.evaluate(() => {
        const table = document.querySelector("table")!;
        const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="key-row"]')].map((r) => r.getBoundingClientRect().height);
        return { scrolls: table.parentElement!.scrollWidth > table.parentElement!.clientWidth, rows };
      });
      expect(layout.scrolls, "the table scrolls sideways at 1280 px").toBe(false);
      for (const h of layout.rows) expect(h).toBeLessThanOrEqual(60);
      await saveScreenshot(`keys table ${colorScheme}`);
    }
  });
});

test.describe("keys table", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("edit a key's limits through the dialog: the table and the API show them, and an empty field removes a limit", async ({
    page,
    users,
    api,
    saveScreenshot,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    const key = await createKeyViaApi(asUser, { name: "ci-runner" });
    await user.login();
    await page.goto("/keys");
    const row = keyRow(page, "ci-runner");
    await expect(row.getByRole("cell").nth(3)).toHaveText("60 rpm");
    const writes = recordApiWrites(page);

    await rowAction(page, "ci-runner", "Edit");
    const dialog = page.getByRole("dialog", { name: "Edit “ci-runner”" });
    await expect(dialog.getByLabel("Requests per minute")).toHaveValue("60");
    await expect(dialog.getByLabel("Max budget (USD)")).toHaveValue("");

    // The API's own rules, before any request.
    await dialog.getByLabel("Requests per minute").fill("0");
    await dialog.getByLabel("Max budget (USD)").fill("1.0000001");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog.getByLabel("Requests per minute")).toHaveAccessibleDescription("Requests per minute must be at least 1");
    await expect(dialog.getByLabel("Max budget (USD)")).toHaveAccessibleDescription("Max budget can have at most 6 decimal places");
    await expect(dialog.getByLabel("Max budget (USD)"), "focus goes to the first field to fix").toBeFocused();
    await saveScreenshot("edit errors");
    await page.waitForTimeout(300);
    expect(writes).toEqual([]);

    const expiry = daysFromNow(10);
    await dialog.getByLabel("Requests per minute").fill("120");
    await dialog.getByLabel("Max budget (USD)").fill("25");
    await dialog.getByLabel("Budget period").selectOption({ label: "Monthly" });
    await dialog.getByLabel("Tokens per minute").fill("50000");
    await dialog.getByLabel("Expires").fill(localDateTime(expiry));
    await saveScreenshot("edit filled");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(toast(page, "success", "Saved changes to “ci-runner”.")).toBeVisible();
    await expect(row.getByRole("cell").nth(3)).toHaveText("120 rpm · 50K tpm · $25 monthly budget");
    await expect(row.getByText(/^Expires in /)).toBeVisible();
    // One PUT, with only the fields that changed (the name did not).
    expect(writes).toEqual([expect.stringMatching(/^PUT .*\/api\/keys\/[^/]+$/)]);
    const [afterEdit] = await listKeys(asUser);
    expect(afterEdit).toMatchObject({ id: key.id, name: "ci-runner", rpmLimit: 120, tpmLimit: 50_000, maxBudget: 25, budgetPeriod: "month" });
    expect(new Date(afterEdit.budgetResetsAt!).getUTCDate()).toBe(1);
    await expect(row.getByTestId("key-budget-resets")).toHaveText(`resets ${utcDay(afterEdit.budgetResetsAt!)}`);
    expect(Math.abs(new Date(afterEdit.expiresAt!).getTime() - expiry.getTime())).toBeLessThan(60_000);
    await saveScreenshot("edited row");

    // Emptied fields remove the budget, the tpm limit and the expiry (null in the API).
    await rowAction(page, "ci-runner", "Edit");
    await expect(dialog.getByLabel("Max budget (USD)")).toHaveValue("25");
    await expect(dialog.getByLabel("Budget period")).toHaveValue("month");
    await dialog.getByLabel("Max budget (USD)").fill("");
    await dialog.getByLabel("Budget period").selectOption({ label: "None (lifetime)" });
    await dialog.getByLabel("Tokens per minute").fill("");
    await dialog.getByLabel("Expires").fill("");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(row.getByRole("cell").nth(3)).toHaveText("120 rpm");
    const [cleared] = await listKeys(asUser);
    expect(cleared).toMatchObject({ rpmLimit: 120, tpmLimit: null, maxBudget: null, budgetPeriod: null, budgetResetsAt: null, expiresAt: null });
    await expect(row.getByTestId("key-budget-resets")).toHaveCount(0);

    // Saving with nothing changed sends nothing.
    await rowAction(page, "ci-runner", "Edit");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await page.waitForTimeout(300);
    expect(writes).toHaveLength(2);
  });

  test("a refused edit shows the API's message once, inside the dialog, with the input kept", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "refused edit" });
    await user.login();
    const failure = { code: "internal_error", message: "The key could not be updated. Please try again." };
    await page.route(
      (url) => url.pathname.startsWith("/api/keys/"),
      async (route) => {
        if (route.request().method() !== "PUT") return route.continue();
        await route.fulfill({ status: 500, json: { success: false, error: failure } });
      },
    );
    await page.goto("/keys");
    await rowAction(page, "refused edit", "Edit");
    const dialog = page.getByTestId("edit-key-dialog");
    await dialog.getByLabel("Requests per minute").fill("99");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog.getByRole("alert")).toHaveText(failure.message);
    await page.waitForTimeout(500);
    await expect(page.getByTestId("toast-error")).toHaveCount(0);
    await expect(dialog.getByLabel("Requests per minute")).toHaveValue("99");
    // The optimistic change rolled back behind the dialog.
    await page.keyboard.press("Escape");
    await expect(keyRow(page, "refused edit").getByRole("cell").nth(3)).toHaveText("60 rpm");
  });

  test("the row menu reaches Edit, Pause, Rotate and Delete by keyboard, and focus comes back to it", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await createKeyViaApi(api.as(user), { name: "keyboard row" });
    await user.login();
    await page.goto("/keys");
    await expect(keyRow(page, "keyboard row")).toBeVisible();
    const trigger = page.getByRole("button", { name: "Actions for keyboard row" });
    await tabTo(page, "Actions for keyboard row");
    await page.keyboard.press("Enter");
    const menu = page.getByRole("menu");
    await expect(menu.getByRole("menuitem")).toHaveText(["Edit", "Pause", "Rotate", "Delete"]);
    await expect(menu.getByRole("menuitem", { name: "Edit" })).toBeFocused();

    // Edit: the dialog opens on the name; Escape brings focus back to the row's menu button.
    await page.keyboard.press("Enter");
    const edit = page.getByRole("dialog", { name: "Edit “keyboard row”" });
    await expect(edit.getByLabel("Name")).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(edit).toBeHidden();
    await expect(trigger).toBeFocused();

    // Pause: ArrowDown to the second item.
    await page.keyboard.press("Enter");
    await page.keyboard.press("ArrowDown");
    await expect(menu.getByRole("menuitem", { name: "Pause" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(keyRow(page, "keyboard row")).toContainText("Paused");
    await expect(trigger).toBeFocused();
    const [paused] = await listKeys(api.as(user));
    expect(paused.isActive).toBe(false);

    // Delete: the last item, destructive, and confirmed by name.
    await page.keyboard.press("ArrowDown");
    await expect(menu.getByRole("menuitem", { name: "Resume" })).toBeVisible();
    await page.keyboard.press("End");
    await expect(menu.getByRole("menuitem", { name: "Delete" })).toBeFocused();
    await page.keyboard.press("Enter");
    const confirm = page.getByTestId("confirm-dialog");
    await expect(confirm.getByRole("heading")).toHaveText(`Delete “keyboard row” (${paused.keyPrefix}…)?`);
    await page.keyboard.press("Escape");
    await expect(trigger).toBeFocused();
  });

  test("times read relative ('never', 'just now') and carry the exact time in their title, shown on hover", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    const key = await createKeyViaApi(api.as(user), { name: "timed" });
    const [listed] = await listKeys(api.as(user));
    await user.login();
    await page.goto("/keys");
    const row = keyRow(page, "timed");
    await expect(row.getByRole("cell").nth(5)).toHaveText("never");
    const created = row.getByRole("cell").nth(6).locator("time");
    await expect(created).toHaveText(/^(just now|1 minute ago|\d+ minutes ago)$/);
    expect(listed.id).toBe(key.id);
    await expect(created).toHaveAttribute("datetime", listed.createdAt);
    const exact = await page.evaluate((iso) => new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "long" }), listed.createdAt);
    await expect(created).toHaveAttribute("title", exact);
    await created.hover();
  });

  test("the key ID is visible, monospace and truncated, and its copy button puts the whole ID on the clipboard", async ({ page, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    const key = await createKeyViaApi(api.as(user), { name: "with an id" });
    await user.login();
    await page.goto("/keys");
    const row = keyRow(page, "with an id");
    const id = row.getByTestId("key-id");
    await expect(id).toBeVisible();
    await expect(id).toHaveText(key.id);
    await expect(id).toHaveAttribute("title", key.id);
    expect(await id.evaluate((el) => getComputedStyle(el).textOverflow)).toBe("ellipsis");
    expect(await id.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i);
    await row.getByRole("button", { name: "Copy ID of with an id" }).click();
    await expect(row.getByRole("status").filter({ hasText: "ID copied." })).toHaveCount(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key.id);
    // The copied ID is the one the API takes.
    expect((await api.as(user).put(`/api/keys/${key.id}`, { rpm: 10 })).status()).toBe(200);
  });
});

/**
 * Axe on every dashboard screen, in each state worth seeing, in light and in
 * dark. `prepare` makes the data once; `show` brings the page to the state to
 * scan, once per colour scheme.
 */
test.describe("accessibility", () => {
  interface Scenario {
    name: string;
    /** The account's credit in USD; 5 unless set. */
    credit?: number;
    prepare?(api: AuthedApi): Promise<void>;
    show(page: Page): Promise<void>;
  }

  const withCreditKeys = async (api: AuthedApi) => {
    await createKeyViaApi(api, { name: "scanned key", maxBudget: 10, budgetPeriod: "month", tpm: 1000, expiresAt: daysFromNow(90).toISOString() });
    const paused = await createKeyViaApi(api, { name: "paused key" });
    expect((await api.put(`/api/keys/${paused.id}`, { isActive: false })).status()).toBe(200);
  };

  const scenarios: Scenario[] = [
    {
      name: "keys empty",
      show: async (page) => {
        await page.goto("/keys");
        await expect(page.getByText(EMPTY_KEYS)).toBeVisible();
      },
    },
    {
      name: "keys list",
      prepare: withCreditKeys,
      show: async (page) => {
        await page.goto("/keys");
        await expect(keyRow(page, "paused key")).toBeVisible();
      },
    },
    {
      name: "keys create dialog with errors",
      show: async (page) => {
        await page.goto("/keys");
        await page.getByRole("button", { name: "Create credit key" }).click();
        await page.getByTestId("create-key-dialog").getByLabel("Requests per minute").fill("0");
        await page.getByRole("button", { name: "Create key" }).click();
        await expect(page.getByTestId("create-key-dialog").getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
      },
    },
    {
      name: "keys secret modal",
      show: async (page) => {
        await page.goto("/keys");
        await page.getByRole("button", { name: "Create credit key" }).click();
        await page.getByTestId("create-key-dialog").getByLabel("Name").fill("scanned");
        await page.getByRole("button", { name: "Create key" }).click();
        await expect(page.getByTestId("secret-modal")).toBeVisible();
      },
    },
    {
      name: "keys row menu",
      prepare: withCreditKeys,
      show: async (page) => {
        await page.goto("/keys");
        await openRowMenu(page, "scanned key");
      },
    },
    {
      name: "keys edit dialog with errors",
      prepare: withCreditKeys,
      show: async (page) => {
        await page.goto("/keys");
        await rowAction(page, "scanned key", "Edit");
        const dialog = page.getByRole("dialog", { name: "Edit “scanned key”" });
        await dialog.getByLabel("Requests per minute").fill("0");
        await dialog.getByRole("button", { name: "Save changes" }).click();
        await expect(dialog.getByLabel("Requests per minute")).toHaveAttribute("aria-invalid", "true");
      },
    },
    {
      name: "keys delete confirmation",
      prepare: withCreditKeys,
      show: async (page) => {
        await page.goto("/keys");
        await rowAction(page, "scanned key", "Delete");
        await expect(page.getByTestId("confirm-dialog")).toBeVisible();
      },
    },
    {
      name: "keys as cards at phone width",
      prepare: withCreditKeys,
      show: async (page) => {
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto("/keys");
        await expect(keyRow(page, "paused key")).toBeVisible();
      },
    },
    {
      name: "keys with the no-credit notice",
      credit: 0,
      show: async (page) => {
        await page.goto("/keys");
        await expect(page.getByTestId("credit-notice")).toBeVisible();
      },
    },
    {
      name: "billing keys list",
      prepare: async (api) => {
        expect((await api.post("/api/keys/management", { name: "CI" })).status()).toBe(201);
      },
      show: async (page) => {
        await page.goto("/billing-keys");
        await expect(page.getByTestId("billing-key-row")).toHaveCount(1);
      },
    },
    {
      name: "billing keys rename dialog",
      prepare: async (api) => {
        expect((await api.post("/api/keys/management", { name: "CI" })).status()).toBe(201);
      },
      show: async (page) => {
        await page.goto("/billing-keys");
        await page.getByRole("button", { name: "Actions for CI", exact: true }).click();
        await page.getByRole("menuitem", { name: "Rename" }).click();
        await expect(page.getByRole("dialog", { name: "Rename billing key “CI”" })).toBeVisible();
      },
    },
    {
      name: "billing keys empty",
      show: async (page) => {
        await page.goto("/billing-keys");
        await expect(page.getByText("No billing keys yet")).toBeVisible();
      },
    },
    {
      name: "billing keys create dialog with errors",
      show: async (page) => {
        await page.goto("/billing-keys");
        await page.getByRole("button", { name: "Create billing key" }).click();
        await page.getByTestId("create-billing-key-dialog").getByRole("button", { name: "Create key" }).click();
        await expect(page.getByTestId("create-billing-key-dialog").getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
      },
    },
    {
      name: "billing keys secret modal with curl",
      show: async (page) => {
        await page.goto("/billing-keys");
        await page.getByRole("button", { name: "Create billing key" }).click();
        await page.getByTestId("create-billing-key-dialog").getByLabel("Name").fill("scanned");
        await page.getByRole("button", { name: "Create key" }).click();
        await expect(page.getByTestId("curl-example")).toBeVisible();
      },
    },
    {
      name: "billing",
      show: async (page) => {
        await page.goto("/billing");
        await expect(page.getByTestId("balance")).toBeVisible();
      },
    },
    {
      name: "account",
      show: async (page) => {
        await page.goto("/account");
        await expect(page.getByRole("heading", { name: "Session tokens for scripts" })).toBeVisible();
      },
    },
  ];

  for (const scenario of scenarios) {
    test(`${scenario.name}: no serious or critical axe violations, light or dark`, async ({ page, users, api, saveScreenshot }) => {
      const user = await users.create({ creditUsd: scenario.credit ?? 5 });
      await scenario.prepare?.(api.as(user));
      await user.login();
      for (const colorScheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme });
        await scenario.show(page);
        await expectNoSeriousViolations(page, `${scenario.name} (${colorScheme})`);
        await saveScreenshot(colorScheme);
      }
    });
  }
});
