import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures";

/**
 * A new credit key, end to end: the show-once modal hands over ready-to-paste
 * calls to /v1/chat/completions; the key works there against the built-in
 * demo model (the e2e server has no upstream); and the open API Keys table
 * shows what that call cost and when, without a reload.
 */

interface ListedKey {
  name: string;
  spend: number;
  lastUsedAt: string | null;
}

function keyRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="key-row"][data-key-name="${name}"]`);
}

test.describe("a new credit key's snippets and live usage", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("the modal shows curl, Python and TypeScript with the key; a call with it shows its spend and last use in the open table", async ({
    page,
    users,
    api,
    request,
    baseURL,
    saveScreenshot,
  }) => {
    const origin = new URL(baseURL!).origin;
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/keys");

    await page.getByRole("button", { name: "Create credit key" }).click();
    const dialog = page.getByTestId("create-key-dialog");
    await dialog.getByLabel("Name").fill("live key");
    await dialog.getByRole("button", { name: "Create key" }).click();

    const modal = page.getByTestId("secret-modal");
    await expect(modal).toBeVisible();
    const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);

    // curl first, with this key, this origin and the demo model.
    const tabs = modal.getByRole("tablist", { name: "Example language" });
    await expect(tabs.getByRole("tab")).toHaveText(["curl", "Python", "TypeScript"]);
    await expect(tabs.getByRole("tab", { name: "curl" })).toHaveAttribute("aria-selected", "true");
    const curl = modal.getByTestId("snippet-curl");
    await expect(curl).toBeVisible();
    const curlText = (await curl.textContent()) ?? "";
    expect(curlText).toContain(`curl ${origin}/v1/chat/completions`);
    expect(curlText).toContain(`-H "Authorization: Bearer ${secret}"`);
    expect(curlText).toContain(`"model":"keygate/echo"`);
    await saveScreenshot("secret modal with snippets");

    // The snippet's copy button copies the snippet exactly, says so in the modal's status line,
    // and counts as saving the key (Escape will not ask).
    await modal.getByRole("button", { name: "Copy curl example" }).click();
    await expect(modal.getByRole("status")).toHaveText("Copied the curl example to the clipboard.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(curlText);

    // Arrow keys move between tabs, as in any tab list.
    await tabs.getByRole("tab", { name: "curl" }).focus();
    await page.keyboard.press("ArrowRight");
    await expect(tabs.getByRole("tab", { name: "Python" })).toHaveAttribute("aria-selected", "true");
    const python = modal.getByTestId("snippet-python");
    await expect(python).toContainText(`OpenAI(base_url="${origin}/v1", api_key="${secret}")`);
    await expect(python).toContainText(`model="keygate/echo"`);
    await expect(modal.getByTestId("snippet-curl")).toHaveCount(0);

    await tabs.getByRole("tab", { name: "TypeScript" }).click();
    const typescript = modal.getByTestId("snippet-typescript");
    await expect(typescript).toContainText(`new OpenAI({ baseURL: "${origin}/v1", apiKey: "${secret}" })`);
    await expect(typescript).toContainText(`model: "keygate/echo"`);
    await modal.getByRole("button", { name: "Copy TypeScript example" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await typescript.textContent());

    await page.keyboard.press("Escape");
    await expect(modal).toBeHidden();

    const row = keyRow(page, "live key");
    const spend = row.getByTestId("key-spend");
    const lastUsed = row.getByTestId("key-last-used");
    await expect(spend).toHaveText("$0.00");
    await expect(lastUsed).toHaveText("never");

    // A reload would lose this; it must still be here at the end.
    await page.evaluate(() => Object.assign(window, { __keygateNoReload: true }));

    // The call the snippet makes, with the key the modal showed.
    const res = await request.post("/v1/chat/completions", {
      headers: { Authorization: `Bearer ${secret}` },
      data: { model: "keygate/echo", messages: [{ role: "user", content: "Hello from the keys screen" }] },
    });
    expect(res.status(), await res.text()).toBe(200);
    const completion = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(completion.choices[0].message.content).toBe("Echo: Hello from the keys screen");
    expect(completion.usage.completion_tokens).toBeGreaterThan(0);

    // Usage is flushed within about a second; the open table refreshes every few seconds.
    await expect(spend).not.toHaveText("$0.00", { timeout: 20_000 });
    await expect(lastUsed.locator("time")).toHaveText(/^(just now|1 minute ago)$/);

    const listed = (await (await api.as(user).get("/api/keys")).json()) as { data: ListedKey[] };
    const key = listed.data.find((k) => k.name === "live key")!;
    expect(key.spend).toBeGreaterThan(0);
    // One demo call costs micro-dollars: shown to the micro-dollar, as the API has it (e.g. "$0.000021").
    expect(key.spend).toBeLessThan(0.001);
    await expect(spend).toHaveText(`$${key.spend}`);
    await expect(lastUsed.locator("time")).toHaveAttribute("datetime", key.lastUsedAt!);

    expect(await page.evaluate(() => (window as unknown as { __keygateNoReload?: boolean }).__keygateNoReload)).toBe(true);
    await saveScreenshot("keys table after a call");
  });
});
