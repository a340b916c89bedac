import crypto from "node:crypto";
import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { watchSecretLeaks } from "./leaks";
import { E2E_ADMIN_API_TOKEN } from "./test-env";

/**
 * Pools in the dashboard: pick blocks of the UTC day, subscribe from credit,
 * create a subscription key (shown once) and use it on the gateway; manage
 * the subscription; see the charge in Billing. Each test makes its own pool
 * through the admin API, so tests running in parallel never fight over seats
 * (and the e2e server seeds no demo pool: it has no demo account).
 */

interface Pool {
  id: string;
  name: string;
  blockHours: number;
  pricePerBlockUsd: number;
}

interface Subscription {
  id: string;
  poolId: string;
  blocks: number[];
  status: string;
  periodEnd: string;
  autoRenew: boolean;
  keyCount: number;
}

interface ListedKey {
  id: string;
  keyType: "credit" | "subscription";
  keyPrefix: string;
  isActive: boolean;
  subscriptionId: string | null;
  subscriptionStatus: string | null;
}

const BLOCK_HOURS = 6;
const HOUR_MS = 3_600_000;

async function createPool(request: APIRequestContext, options: { capacity?: number; pricePerBlockUsd?: number } = {}): Promise<Pool> {
  const res = await request.post("/api/admin/pools", {
    headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
    data: {
      name: `e2e pool ${crypto.randomBytes(3).toString("hex")}`,
      models: ["keygate/echo"],
      blockHours: BLOCK_HOURS,
      capacity: options.capacity ?? 5,
      pricePerBlockUsd: options.pricePerBlockUsd ?? 1,
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { data: Pool }).data;
}

/** The block that contains the current UTC hour: a key for it works right now. */
function currentBlock(): number {
  return Math.floor(new Date().getUTCHours() / BLOCK_HOURS);
}

/** "06–12 UTC", as the strip and the subscriptions table name a block. */
function blockLabel(index: number): string {
  const pad = (h: number) => String(h).padStart(2, "0");
  return `${pad(index * BLOCK_HOURS)}–${pad((index + 1) * BLOCK_HOURS)} UTC`;
}

/** Right before a block ends, waits for the next one, so "the block that contains now" still does when the key is used. */
async function awayFromBlockEdge(page: Page): Promise<void> {
  const left = BLOCK_HOURS * HOUR_MS - (Date.now() % (BLOCK_HOURS * HOUR_MS));
  if (left < 60_000) await page.waitForTimeout(left + 1_000);
}

function poolCard(page: Page, pool: Pool): Locator {
  return page.locator(`[data-testid="pool-card"][data-pool-name="${pool.name}"]`);
}

function block(card: Locator, index: number): Locator {
  return card.locator(`[data-testid="pool-block"][data-index="${index}"]`);
}

function subscriptionRow(page: Page, pool: Pool): Locator {
  return page.locator(`[data-testid="subscription-row"][data-pool-name="${pool.name}"]`);
}

function toast(page: Page, tone: "success" | "error", text: string | RegExp): Locator {
  return page.getByTestId(`toast-${tone}`).filter({ hasText: text });
}

test.describe("pools", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("pick the block that contains now → subscribe → create its key, shown once → the key answers on /v1 → the charge is in Billing", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    test.setTimeout(120_000);
    await awayFromBlockEdge(page);
    const pool = await createPool(request);
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    const leaks = watchSecretLeaks(page);

    await page.goto("/keys");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Pools", exact: true }).click();
    await expect(page).toHaveURL("/pools");
    await expect(page).toHaveTitle("Pools · Keygate");
    await expect(page.getByRole("heading", { level: 1, name: "Pools" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Pools", exact: true })).toHaveAttribute("aria-current", "page");
    await expect(page.getByText("No subscriptions yet")).toBeVisible();

    // The pool: its model, its price per block per period, and four 6-hour blocks named by their UTC hours.
    const card = poolCard(page, pool);
    await expect(card.getByRole("heading", { name: pool.name })).toBeVisible();
    await expect(card.getByRole("list", { name: "Models" })).toHaveText("keygate/echo");
    await expect(card.getByTestId("pool-price")).toHaveText("$1 per block");
    await expect(card).toContainText("per 30-day period · 6-hour blocks · 5 seats each");
    const strip = card.getByRole("group", { name: `Blocks of ${pool.name}` });
    await expect(strip.getByRole("button")).toHaveText([/^00–06 UTC/, /^06–12 UTC/, /^12–18 UTC/, /^18–24 UTC/]);

    const now = currentBlock();
    const mine = block(card, now);
    await expect(mine).toHaveAccessibleName(`${blockLabel(now)}, 5 of 5 seats left, now`);
    await expect(mine).toHaveAttribute("aria-pressed", "false");
    // The viewer's own clock is in the title (the browser runs in UTC here, as CI does, or in the machine's zone).
    await expect(mine).toHaveAttribute(
      "title",
      new RegExp(`^${blockLabel(now).replace(" UTC", "").replace("–", ":00–")}:00 UTC · \\d\\d:\\d\\d–\\d\\d:\\d\\d your time \\(.+\\) · 5 of 5 seats left$`),
    );
    const subscribeButton = card.getByRole("button", { name: /^Subscribe/ });
    await expect(subscribeButton).toBeDisabled();

    // Blocks are toggle buttons: the keyboard picks them, and the total follows.
    await mine.focus();
    await page.keyboard.press("Space");
    await expect(mine).toHaveAttribute("aria-pressed", "true");
    const total = card.getByTestId("pool-total");
    await expect(total).toContainText("1 block × $1 = $1 for 30 days");
    await expect(total).toContainText("Charged now to your credit balance ($5.00).");
    const other = block(card, (now + 1) % 4);
    await other.click();
    await expect(other).toHaveAttribute("aria-pressed", "true");
    await expect(total).toContainText("2 blocks × $1 = $2 for 30 days");
    await expect(card.getByRole("button", { name: "Subscribe for $2" })).toBeEnabled();
    await page.keyboard.press("Enter");
    await expect(other).toHaveAttribute("aria-pressed", "false");
    await expect(total).toContainText("1 block × $1 = $1 for 30 days");
    await saveScreenshot("block picked");
    await expectNoSeriousViolations(page, "/pools with a block picked");

    await card.getByRole("button", { name: "Subscribe for $1" }).click();
    await expect(toast(page, "success", `Subscribed to ${pool.name}.`)).toBeVisible();
    // The strip now shows the block as yours; nothing is left picked.
    await expect(mine).toHaveAttribute("data-state", "yours");
    await expect(mine).toHaveAccessibleName(`${blockLabel(now)}, yours, now`);
    await expect(mine).toHaveAttribute("aria-disabled", "true");
    await expect(card.getByRole("button", { name: /^Subscribe/ })).toBeDisabled();

    const [sub] = ((await (await api.as(user).get("/api/subscriptions")).json()) as { data: Subscription[] }).data;
    expect(sub).toMatchObject({ poolId: pool.id, blocks: [now], status: "active", autoRenew: false, keyCount: 0 });

    // Your subscriptions: hours, status, period end (relative, exact on hover), auto-renew, keys.
    const row = subscriptionRow(page, pool);
    await expect(row.getByTestId("subscription-hours")).toHaveText(blockLabel(now));
    await expect(row).toContainText("Active");
    await expect(row.locator("time")).toHaveAttribute("datetime", sub.periodEnd);
    await expect(row.locator("time")).toHaveText(/^in (4 weeks|1 month|30 days)$/);
    await expect(row.locator("time")).toHaveAttribute("title", /\d{4}/);
    await expect(row.getByRole("switch", { name: `Auto-renew ${pool.name}` })).toHaveAttribute("aria-checked", "false");
    await expect(row.getByTestId("subscription-keys")).toHaveText("0");

    // Create key: shown once, in the same modal as every other new key.
    await row.getByRole("button", { name: `Create key for ${pool.name}` }).click();
    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    await expect(modal.getByRole("heading", { name: `Your new key for ${pool.name}` })).toBeVisible();
    await expect(modal).toContainText("It will not be shown again");
    await expect(modal.getByTestId("subscription-key-note")).toContainText(`It works during ${blockLabel(now)} every day until`);
    await expect(modal.getByTestId("subscription-key-note")).toContainText("for keygate/echo, one request at a time");
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^sk_pool_[0-9A-Za-z]{38}$/);
    await expect(modal.getByTestId("snippet-curl")).toContainText(`"model":"keygate/echo"`);
    await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
    await expect(modal.getByRole("status")).toHaveText("Copied to the clipboard.");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(secret);
    await saveScreenshot("subscription key modal");
    await modal.getByRole("button", { name: "I have saved this key" }).click();
    await expect(modal).toBeHidden();
    leaks.afterSecretShown();
    await expect(row.getByTestId("subscription-keys")).toHaveText("1");

    // The key works now: this is its block.
    const res = await request.post("/v1/chat/completions", {
      headers: { Authorization: `Bearer ${copied}` },
      data: { model: "keygate/echo", messages: [{ role: "user", content: "Hello from a pool" }] },
    });
    expect(res.status(), await res.text()).toBe(200);
    const completion = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0].message.content).toBe("Echo: Hello from a pool");
    // One request in flight per subscription key: while a stream is open (the echo model paces
    // its words 25 ms apart, so 20 words hold the slot for about half a second), a second request is refused.
    const long = { model: "keygate/echo", stream: true, messages: [{ role: "user", content: Array.from({ length: 20 }, (_, i) => `word${i}`).join(" ") }] };
    const [first, second] = await Promise.all(
      [0, 1].map((i) =>
        new Promise((r) => setTimeout(r, i * 100)).then(() =>
          request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${copied}` }, data: long }),
        ),
      ),
    );
    expect(first.status()).toBe(200);
    expect(await first.text()).toContain("data: [DONE]");
    expect(second.status()).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("concurrency_limit");
    expect(Number(second.headers()["retry-after"])).toBeGreaterThanOrEqual(1);
    // Once the stream is done, the slot is free again.
    expect(
      (
        await request.post("/v1/chat/completions", {
          headers: { Authorization: `Bearer ${copied}` },
          data: { model: "keygate/echo", messages: [{ role: "user", content: "again" }] },
        })
      ).status(),
    ).toBe(200);

    const keys = ((await (await api.as(user).get("/api/keys")).json()) as { data: ListedKey[] }).data;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ keyType: "subscription", subscriptionId: sub.id, subscriptionStatus: "active", isActive: true });
    expect(secret.startsWith(keys[0].keyPrefix)).toBe(true);
    await leaks.expectSecretGone(secret);
    await saveScreenshot("subscribed");

    // Billing: the charge in the history, and the balance it left.
    await nav.getByRole("link", { name: "Billing", exact: true }).click();
    await expect(page).toHaveURL("/billing");
    await expect(page.getByTestId("balance")).toHaveText("$4.00");
    const history = page.getByRole("table", { name: "Credit history" });
    const charge = history.locator('[data-testid="ledger-row"][data-kind="subscription"]');
    await expect(charge).toHaveCount(1);
    await expect(charge).toContainText("Subscription");
    await expect(charge).toContainText(pool.name);
    await expect(charge.getByTestId("ledger-amount")).toHaveText("−$1.00");
    // Newest first: the charge, then the credit it was paid from.
    await expect(history.getByTestId("ledger-row").first()).toHaveAttribute("data-kind", "subscription");
    await expect(history.getByTestId("ledger-row").nth(1).getByTestId("ledger-amount")).toHaveText("+$5.00");
    await expectNoSeriousViolations(page, "/billing with a subscription charge");
    await saveScreenshot("billing with the charge");
    // Billing's own /api answers were read too.
    expect(await leaks.expectSecretGone(secret)).toBeGreaterThan(0);
  });

  test("a block that fills up while you choose is named inline; nothing is charged and you can pick another", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const pool = await createPool(request, { capacity: 1 });
    const [alice, bob] = await Promise.all([users.create({ creditUsd: 5 }), users.create({ creditUsd: 5 })]);
    await alice.login();
    await page.goto("/pools");
    const card = poolCard(page, pool);
    const wanted = block(card, 2);
    await wanted.click();
    await expect(wanted).toHaveAttribute("aria-pressed", "true");

    // Bob takes the last seat of 12–18 while Alice is looking.
    expect((await api.as(bob).post(`/api/pools/${pool.id}/subscribe`, { blocks: [2] })).status()).toBe(201);

    await card.getByRole("button", { name: "Subscribe for $1" }).click();
    const refusal = card.getByRole("alert");
    await expect(refusal).toHaveText("Block 12–18 UTC just filled up; pick another. Nothing was charged.");
    // The strip has caught up: the block is full and no longer picked.
    await expect(wanted).toHaveAttribute("data-state", "full");
    // Between 12:00 and 18:00 UTC it is also the current block, and its name ends with ", now".
    await expect(wanted).toHaveAccessibleName(/^12–18 UTC, full(, now)?$/);
    await expect(wanted).toHaveAttribute("aria-disabled", "true");
    await expect(card.getByRole("button", { name: /^Subscribe/ })).toBeDisabled();
    // aria-disabled, so still focusable and announced; clicking it does nothing (force: Playwright itself honours aria-disabled).
    await wanted.click({ force: true });
    await expect(wanted).toHaveAttribute("aria-pressed", "false");
    await saveScreenshot("block full");
    await expectNoSeriousViolations(page, "/pools with a block_full refusal");

    const status = (await (await api.as(alice).get("/api/billing/status")).json()) as { data: { balance: number } };
    expect(status.data.balance).toBe(5);
    expect(((await (await api.as(alice).get("/api/subscriptions")).json()) as { data: unknown[] }).data).toEqual([]);

    // Another block clears the message and goes through.
    await block(card, 3).click();
    await expect(refusal).toBeHidden();
    await card.getByRole("button", { name: "Subscribe for $1" }).click();
    await expect(toast(page, "success", `Subscribed to ${pool.name}.`)).toBeVisible();
    await expect(subscriptionRow(page, pool).getByTestId("subscription-hours")).toHaveText("18–24 UTC");
  });

  test("a balance too low for the blocks is refused inline, with the way to Billing", async ({ page, users, api, request, saveScreenshot }) => {
    const pool = await createPool(request, { pricePerBlockUsd: 3 });
    const user = await users.create({ creditUsd: 2 });
    await user.login();
    await page.goto("/pools");
    const card = poolCard(page, pool);
    await block(card, 0).click();
    await expect(card.getByTestId("pool-total")).toContainText("1 block × $3 = $3 for 30 days");
    await expect(card.getByTestId("pool-total")).toContainText("Charged now to your credit balance ($2.00).");

    await card.getByRole("button", { name: "Subscribe for $3" }).click();
    const refusal = card.getByRole("alert");
    await expect(refusal).toContainText(`Reserving 1 block of "${pool.name}" costs $3.00 for 30 days, but your available credit is $2.00.`);
    await expect(refusal.getByRole("link", { name: "Add credit on the Billing page" })).toHaveAttribute("href", "/billing");
    // Still picked: with more credit, the same click goes through.
    await expect(block(card, 0)).toHaveAttribute("aria-pressed", "true");
    await saveScreenshot("insufficient balance");
    expect(((await (await api.as(user).get("/api/subscriptions")).json()) as { data: unknown[] }).data).toEqual([]);
  });

  test("auto-renew switches on and off; Renew asks first, naming the price, and extends the same subscription", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const pool = await createPool(request, { pricePerBlockUsd: 2 });
    const user = await users.create({ creditUsd: 10 });
    const created = await api.as(user).post(`/api/pools/${pool.id}/subscribe`, { blocks: [0, 1] });
    expect(created.status()).toBe(201);
    const sub = ((await created.json()) as { data: Subscription }).data;
    await user.login();
    await page.goto("/pools");

    const row = subscriptionRow(page, pool);
    await expect(row.getByTestId("subscription-hours")).toHaveText("00–12 UTC");
    // Both blocks are shown as yours in the pool's strip.
    const card = poolCard(page, pool);
    await expect(block(card, 0)).toHaveAttribute("data-state", "yours");
    await expect(block(card, 1)).toHaveAttribute("data-state", "yours");
    await expect(block(card, 2)).toHaveAttribute("data-state", "free");

    const autoRenew = row.getByRole("switch", { name: `Auto-renew ${pool.name}` });
    await autoRenew.click();
    await expect(autoRenew).toHaveAttribute("aria-checked", "true");
    await expect(toast(page, "success", `Auto-renew is on for ${pool.name}`)).toBeVisible();
    const listed = async () => ((await (await api.as(user).get("/api/subscriptions")).json()) as { data: Subscription[] }).data[0];
    expect((await listed()).autoRenew).toBe(true);
    await page.reload();
    await expect(autoRenew).toHaveAttribute("aria-checked", "true");
    await autoRenew.press("Space");
    await expect(autoRenew).toHaveAttribute("aria-checked", "false");
    await expect(toast(page, "success", `Auto-renew is off for ${pool.name}`)).toBeVisible();
    await expect.poll(async () => (await listed()).autoRenew).toBe(false);

    // Renew: a confirmation with the price, and Cancel is the safe default.
    await row.getByRole("button", { name: `Renew ${pool.name}` }).click();
    const dialog = page.getByRole("dialog", { name: `Renew ${pool.name}?` });
    await expect(dialog).toContainText("$4 (2 blocks × $2) is charged to your credit balance now, for another 30 days of 00–12 UTC.");
    await expect(dialog).toContainText("The new period starts when the current one ends");
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await expectNoSeriousViolations(page, "/pools renew dialog");
    await saveScreenshot("renew dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    expect((await listed()).periodEnd).toBe(sub.periodEnd);

    await row.getByRole("button", { name: `Renew ${pool.name}` }).click();
    await dialog.getByRole("button", { name: "Renew for $4" }).click();
    await expect(dialog).toBeHidden();
    await expect(toast(page, "success", `Renewed ${pool.name} until`)).toBeVisible();
    const renewed = await listed();
    expect(renewed.id).toBe(sub.id);
    expect(Date.parse(renewed.periodEnd) - Date.parse(sub.periodEnd)).toBe(30 * 24 * HOUR_MS);
    await expect(row.locator("time")).toHaveAttribute("datetime", renewed.periodEnd);
    const status = (await (await api.as(user).get("/api/billing/status")).json()) as { data: { balance: number } };
    expect(status.data.balance).toBe(2);

    // A renewal the balance cannot pay is refused inside the dialog.
    await row.getByRole("button", { name: `Renew ${pool.name}` }).click();
    await dialog.getByRole("button", { name: "Renew for $4" }).click();
    await expect(dialog.getByRole("alert")).toContainText("costs $4.00 for 30 days, but your available credit is $2.00");
    await expect(dialog).toBeVisible();
  });

  test.describe(() => {
    // No summer time there: the expected hours hold all year.
    test.use({ timezoneId: "Asia/Tokyo" });

    test("each block says its hours on the viewer's clock too", async ({ page, users, request }) => {
      const pool = await createPool(request);
      const user = await users.create({ creditUsd: 5 });
      await user.login();
      await page.goto("/pools");
      const card = poolCard(page, pool);
      await expect(block(card, 1)).toHaveAttribute("title", "06:00–12:00 UTC · 15:00–21:00 your time (Asia/Tokyo) · 5 of 5 seats left");
      await expect(block(card, 3)).toHaveAttribute("title", /^18:00–24:00 UTC · 03:00–09:00 your time/);
      await block(card, 1).click();
      await block(card, 3).click();
      await expect(card.getByTestId("pool-total")).toContainText("06–12 UTC is 15:00–21:00, 18–24 UTC is 03:00–09:00 in Asia/Tokyo.");
    });
  });

  test("Pools: no serious or critical axe violations, light or dark, and cards at phone width", async ({ page, users, api, request, saveScreenshot }) => {
    const pool = await createPool(request);
    const user = await users.create({ creditUsd: 5 });
    expect((await api.as(user).post(`/api/pools/${pool.id}/subscribe`, { blocks: [1] })).status()).toBe(201);
    await user.login();
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      await page.goto("/pools");
      const card = poolCard(page, pool);
      await block(card, 2).click();
      await expect(block(card, 2)).toHaveAttribute("aria-pressed", "true");
      await expect(subscriptionRow(page, pool)).toBeVisible();
      await expectNoSeriousViolations(page, `/pools (${colorScheme})`);
      await saveScreenshot(colorScheme);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/pools");
    const row = subscriptionRow(page, pool);
    await expect(row).toBeVisible();
    await expect(row.getByRole("button", { name: `Create key for ${pool.name}` })).toBeVisible();
    await expect(row.getByRole("switch", { name: `Auto-renew ${pool.name}` })).toBeVisible();
    await expectNoSeriousViolations(page, "/pools at phone width");
    await saveScreenshot("phone");
  });
});
