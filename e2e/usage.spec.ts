import fs from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test, type AuthedApi, type KeygateUser, type UsersFixture, type ApiFixture } from "./fixtures";
import { formatDollars, formatSpend } from "../lib/client/money";
import { parseCsv } from "../test/csv";

/**
 * The usage screens with real usage: a user's two credit keys call the
 * built-in demo model through the gateway, and the Overview, the Usage page
 * and a key's detail page show what they spent. Every test makes its own
 * user, so the figures are only that user's.
 */

interface ListedKey {
  id: string;
  name: string;
  spend: number;
  maxBudget: number | null;
  budgetPeriod: "day" | "week" | "month" | null;
  budgetResetsAt: string | null;
}

interface Seeded {
  user: KeygateUser;
  asUser: AuthedApi;
  alpha: ListedKey;
  beta: ListedKey;
  /** Every request's usage ID (the answer's x-keygate-usage-id), by key name. */
  usageIds: Record<"alpha" | "beta", string[]>;
  balance: number;
}

const chat = { model: "keygate/echo", messages: [{ role: "user", content: "how much did this cost?" }] };

async function listKeys(api: AuthedApi): Promise<ListedKey[]> {
  const res = await api.get("/api/keys");
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { data: ListedKey[] }).data;
}

/**
 * A user with $5, key "alpha" (a $1 monthly budget) sending 3 requests and
 * key "beta" (no budget) sending 2. Waits until the usage writer has written
 * all 5 (about a second) and the keys' spend with them.
 */
async function seedUsage(users: UsersFixture, api: ApiFixture, request: APIRequestContext): Promise<Seeded> {
  const user = await users.create({ creditUsd: 5 });
  const asUser = api.as(user);
  const secrets: Record<string, string> = {};
  for (const body of [{ name: "alpha", maxBudget: 1, budgetPeriod: "month" }, { name: "beta" }]) {
    const res = await asUser.post("/api/keys/credit", body);
    expect(res.status(), await res.text()).toBe(201);
    secrets[body.name] = ((await res.json()) as { data: { apiKey: string } }).data.apiKey;
  }
  const usageIds: Seeded["usageIds"] = { alpha: [], beta: [] };
  for (const [name, times] of [
    ["alpha", 3],
    ["beta", 2],
  ] as const) {
    for (let i = 0; i < times; i++) {
      const res = await request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${secrets[name]}` }, data: chat });
      expect(res.status(), await res.text()).toBe(200);
      usageIds[name].push(res.headers()["x-keygate-usage-id"]);
    }
  }
  // What the user waits for: the log has the five requests and the keys their spend.
  await expect
    .poll(async () => {
      const log = ((await (await asUser.get("/api/usage/requests")).json()) as { data: unknown[] }).data.length;
      const keys = await listKeys(asUser);
      return { log, spent: keys.every((k) => k.spend > 0) };
    })
    .toEqual({ log: 5, spent: true });
  const keys = await listKeys(asUser);
  const status = (await (await asUser.get("/api/billing/status")).json()) as { data: { balance: number } };
  return {
    user,
    asUser,
    alpha: keys.find((k) => k.name === "alpha")!,
    beta: keys.find((k) => k.name === "beta")!,
    usageIds,
    balance: status.data.balance,
  };
}

async function expectNoHorizontalOverflow(page: Page, where: string) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth, `${where} scrolls sideways at ${clientWidth}px`).toBeLessThanOrEqual(clientWidth);
}

const requestRows = (page: Page) => page.getByTestId("request-row");

test.describe("usage screens", () => {
  test("sign-in lands on the Overview, which shows the balance, spend today, a 30-day chart and the top keys as they spent", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const s = await seedUsage(users, api, request);
    const total = s.alpha.spend + s.beta.spend;
    const apiCalls: string[] = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/auth/")) apiCalls.push(url.pathname + url.search);
    });
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(s.user.email);
    await page.getByLabel("Password").fill(s.user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/overview$/);
    await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");

    await expect(page.getByTestId("overview-balance")).toHaveText(formatDollars(s.balance, { max: 2 }));
    await expect(page.getByTestId("overview-spend-today")).toHaveText(formatSpend(total));
    await expect(page.getByTestId("overview-spend-month")).toHaveText(formatSpend(total));

    const chart = page.getByTestId("daily-chart");
    await expect(
      chart.getByRole("img", { name: `Spend per day, last 30 days: ${formatSpend(total)} in all; the most, ${formatSpend(total)}, on ${shortToday()}.` }),
    ).toBeVisible();
    // The drawing itself: one bar for today, the other 29 days at zero.
    await expect(chart.locator(".recharts-bar-rectangle path")).toHaveCount(1);
    // The text alternative: a row per day, today's with the total.
    await expect(chart.getByRole("table")).toHaveAccessibleName("Spend per day, last 30 days");
    await expect(chart.getByRole("row", { name: new RegExp(`^${shortToday()} `) })).toContainText(formatSpend(total));

    const top = page.getByTestId("top-key");
    await expect(top.getByRole("link")).toHaveText(["alpha", "beta"]);
    await expect(top.getByTestId("top-key-spend")).toHaveText([formatSpend(s.alpha.spend), formatSpend(s.beta.spend)]);
    await expect(top.first()).toContainText("3 requests");
    await expect(page.getByTestId("budget-banner")).toHaveCount(0);
    // One request per widget, none repeated (the keys list polls every 5 s, hence "at most twice").
    expect(apiCalls.filter((u) => u.startsWith("/api/usage")).sort()).toEqual(["/api/usage?groupBy=day", "/api/usage?groupBy=key"]);
    expect(apiCalls.filter((u) => u === "/api/billing/status")).toHaveLength(1);
    expect(apiCalls.filter((u) => u === "/api/keys").length).toBeLessThanOrEqual(2);
    expect(new Set(apiCalls)).toEqual(new Set(["/api/usage?groupBy=day", "/api/usage?groupBy=key", "/api/billing/status", "/api/keys"]));
    await saveScreenshot("overview");
  });

  test("the Usage page logs each request with its key and status, the filters narrow it, and the CSV download holds the rows shown", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const s = await seedUsage(users, api, request);
    await s.user.login();
    await page.goto("/overview");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage" }).click();
    await expect(page.getByRole("heading", { name: "Usage", level: 1 })).toBeVisible();

    await expect(page.getByTestId("key-chart").getByRole("table").getByRole("row")).toHaveCount(3);
    await expect(page.getByTestId("model-chart").getByRole("img")).toHaveAccessibleName(/^Spend by model, last 30 days: /);
    await expect(page.getByTestId("usage-totals")).toContainText("5 requests");

    // Newest first: beta's two, then alpha's three, each with its own usage ID.
    await expect(requestRows(page)).toHaveCount(5);
    await expect(page.getByTestId("request-key")).toHaveText(["beta", "beta", "alpha", "alpha", "alpha"]);
    await expect(page.getByTestId("request-status")).toHaveText(["200", "200", "200", "200", "200"]);
    const shownIds = await requestRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-request-id")));
    expect(shownIds).toEqual([...s.usageIds.beta].reverse().concat([...s.usageIds.alpha].reverse()));
    await saveScreenshot("usage");

    // The window: 7 days draws 7 days (a row each in the chart's table, plus its header).
    const dailyRows = page.getByTestId("daily-chart").getByRole("table").getByRole("row");
    await expect(dailyRows).toHaveCount(31);
    await page.getByRole("radio", { name: "7 days" }).click();
    await expect(page.getByRole("heading", { name: "Spend per day, last 7 days" })).toBeVisible();
    await expect(dailyRows).toHaveCount(8);
    await expect(page.getByTestId("usage-totals")).toContainText("5 requests");

    await page.getByRole("combobox", { name: "Key", exact: true }).selectOption({ label: "beta" });
    await expect(requestRows(page)).toHaveCount(2);
    await expect(page.getByTestId("request-key")).toHaveText(["beta", "beta"]);

    await page.getByRole("combobox", { name: "Status", exact: true }).selectOption("500");
    await expect(page.getByText("No requests", { exact: true })).toBeVisible();
    await expect(requestRows(page)).toHaveCount(0);
    await page.getByRole("combobox", { name: "Status", exact: true }).selectOption("200");
    await expect(requestRows(page)).toHaveCount(2);

    // The download is the same filter: beta's two rows, as shown.
    const downloading = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download CSV" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe("keygate-requests.csv");
    const csv = parseCsv(fs.readFileSync((await download.path())!, "utf8"));
    const [header, ...lines] = csv;
    expect(header.slice(0, 7)).toEqual(["id", "at", "keyId", "keyName", "model", "upstream", "status"]);
    const shownNow = await requestRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-request-id")));
    const col = (name: string) => header.indexOf(name);
    expect(lines.map((l) => l[col("id")])).toEqual(shownNow);
    expect(lines.map((l) => l[col("keyName")])).toEqual(["beta", "beta"]);
    expect(lines.map((l) => l[col("status")])).toEqual(["200", "200"]);
    const shownCosts = await page.getByTestId("request-cost").allTextContents();
    expect(lines.map((l) => formatSpend(Number(l[col("costUsd")])))).toEqual(shownCosts);
  });

  test('the request log shows 50 requests and "Load more" adds the older ones, each once, until there are no more', async ({ page, users, api, request }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    const created = await asUser.post("/api/keys/credit", { name: "bulk", rpm: 1000 });
    expect(created.status(), await created.text()).toBe(201);
    const { apiKey } = ((await created.json()) as { data: { apiKey: string } }).data;
    const total = 53;
    for (let sent = 0; sent < total; sent += 10) {
      const batch = Array.from({ length: Math.min(10, total - sent) }, () =>
        request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${apiKey}` }, data: chat }),
      );
      for (const res of await Promise.all(batch)) expect(res.status()).toBe(200);
    }
    await expect.poll(async () => ((await (await asUser.get("/api/usage/requests?limit=500")).json()) as { data: unknown[] }).data.length).toBe(total);
    const all = ((await (await asUser.get("/api/usage/requests?limit=500")).json()) as { data: Array<{ id: string }> }).data.map((r) => r.id);

    await user.login();
    await page.goto("/usage");
    await expect(requestRows(page)).toHaveCount(50);
    await expect(page.getByText("50 requests shown")).toBeVisible();
    await page.getByRole("button", { name: "Load more" }).click();
    await expect(requestRows(page)).toHaveCount(total);
    await expect(page.getByText(`${total} requests shown`)).toBeVisible();
    await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
    expect(await requestRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-request-id")))).toEqual(all);
  });

  test("a credit key's detail page shows its 30-day sparkline and its budget bar with the period and when it resets", async ({ page, users, api, request }) => {
    const s = await seedUsage(users, api, request);
    await s.user.login();
    await page.goto("/keys");
    await page.getByTestId("key-row").filter({ hasText: "alpha" }).getByRole("link", { name: "alpha" }).click();
    await expect(page).toHaveURL(`/keys/${s.alpha.id}`);
    await expect(page.getByRole("heading", { name: "alpha", level: 1 })).toBeVisible();

    const spark = page.getByTestId("key-sparkline");
    await expect(spark.getByRole("img")).toHaveAccessibleName(
      `alpha: spend per day, last 30 days: ${formatSpend(s.alpha.spend)} in all; the most, ${formatSpend(s.alpha.spend)}, on ${shortToday()}.`,
    );
    await expect(spark.locator(".recharts-area-area")).toHaveCount(1);
    await expect(page.getByTestId("key-30-day-spend")).toHaveText(formatSpend(s.alpha.spend));

    const budget = page.getByTestId("key-budget");
    await expect(budget).toContainText(`${formatSpend(s.alpha.spend)} of $1 monthly budget (0 %)`);
    await expect(budget.getByRole("progressbar", { name: "Budget used: monthly budget" })).toHaveAttribute("aria-valuenow", "0");
    await expect(page.getByTestId("key-budget-resets")).toHaveText(`Resets ${utcDay(s.alpha.budgetResetsAt!)} (00:00 UTC)`);
    await expectNoSeriousViolations(page, "the key detail page");
  });

  test("a key past 80 % of its budget is named in a banner on the Overview that links to its detail page", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const s = await seedUsage(users, api, request);
    // A budget its spend is 85 % of, to the micro-dollar.
    const maxBudget = Math.ceil((s.beta.spend / 0.85) * 1e6) / 1e6;
    const put = await s.asUser.put(`/api/keys/${s.beta.id}`, { maxBudget });
    expect(put.status(), await put.text()).toBe(200);
    const percent = Math.floor((s.beta.spend / maxBudget) * 100);
    expect(percent).toBeGreaterThanOrEqual(80);

    await s.user.login();
    await page.goto("/");
    const banner = page.getByTestId("budget-banner");
    await expect(banner.getByRole("heading", { name: "A key is close to its budget" })).toBeVisible();
    await expect(banner.getByRole("listitem")).toHaveCount(1);
    await expect(banner).toContainText(`beta has used ${percent} % of its`);
    await saveScreenshot("budget banner");
    await banner.getByRole("link", { name: "beta" }).click();
    await expect(page).toHaveURL(`/keys/${s.beta.id}`);
    await expect(page.getByTestId("key-budget")).toContainText(`(${percent} %)`);
    await expect(page.getByRole("progressbar")).toHaveAttribute("aria-valuenow", String(percent));
  });

  test("at phone width (390 px) the Overview, Usage and key pages do not scroll sideways", async ({ page, users, api, request, saveScreenshot }) => {
    const s = await seedUsage(users, api, request);
    await s.user.login();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/overview");
    await expect(page.getByTestId("daily-chart").locator(".recharts-bar-rectangle path")).toHaveCount(1);
    await expectNoHorizontalOverflow(page, "the Overview");
    await saveScreenshot("overview phone");
    await page.goto("/usage");
    await expect(requestRows(page)).toHaveCount(5);
    await expect(page.getByTestId("key-chart").locator(".recharts-bar-rectangle path")).toHaveCount(2);
    await expectNoHorizontalOverflow(page, "the Usage page");
    await saveScreenshot("usage phone");
    await page.goto(`/keys/${s.alpha.id}`);
    await expect(page.getByTestId("key-sparkline").locator(".recharts-area-area")).toHaveCount(1);
    await expectNoHorizontalOverflow(page, "the key page");
  });

  test("the Overview and the Usage page with data have no serious or critical axe violations, light or dark", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const s = await seedUsage(users, api, request);
    await s.user.login();
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      await page.goto("/overview");
      await expect(page.getByTestId("top-key")).toHaveCount(2);
      await expect(page.getByTestId("daily-chart").locator(".recharts-bar-rectangle path")).toHaveCount(1);
      await expectNoSeriousViolations(page, `the Overview (${colorScheme})`);
      await saveScreenshot(`overview ${colorScheme}`);
      await page.goto("/usage");
      await expect(requestRows(page)).toHaveCount(5);
      await expect(page.getByTestId("model-chart").locator(".recharts-bar-rectangle path")).toHaveCount(1);
      await expectNoSeriousViolations(page, `the Usage page (${colorScheme})`);
      await saveScreenshot(`usage ${colorScheme}`);
    }
  });
});

/** "Dec 7": how the charts name today (UTC). */
function shortToday(): string {
  return new Date().toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** "Jan 1, 2027": how a budget's reset is dated (a UTC day). */
function utcDay(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}
