import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";
import { watchSecretLeaks } from "./leaks";

/**
 * Settings → Webhooks: add a webhook pointing at a receiver on this machine,
 * see its signing secret once, send a test event, see it delivered in the
 * log, and check the receiver got it signed with that secret.
 */

interface Received {
  headers: Record<string, string>;
  body: string;
}

async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keygate`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test.describe("webhooks", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("add a webhook → its secret is shown once → send a test event → delivered in the log, signed with that secret", async ({
    page,
    users,
    api,
    saveScreenshot,
  }) => {
    const receiver = await startReceiver();
    try {
      const user = await users.create();
      await user.login();
      const leaks = watchSecretLeaks(page);
      await page.goto("/account");
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
      await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
      await expect(page.getByText("No webhooks yet")).toBeVisible();
      await expectNoSeriousViolations(page, "the empty webhooks page");

      await page.getByRole("button", { name: "Add webhook" }).click();
      const dialog = page.getByTestId("webhook-dialog");
      // A URL that is not one is refused in the form, on the URL field.
      await dialog.getByLabel("URL").fill("not a url");
      await dialog.getByRole("button", { name: "Add webhook" }).click();
      await expect(dialog.getByLabel("URL")).toHaveAttribute("aria-invalid", "true");
      await dialog.getByLabel("URL").fill(receiver.url);
      await dialog.getByRole("checkbox", { name: /subscription\.expiring/ }).uncheck();
      await expectNoSeriousViolations(page, "the add webhook dialog");
      await dialog.getByRole("button", { name: "Add webhook" }).click();

      const modal = page.getByTestId("secret-modal");
      await expect(modal).toBeVisible();
      const secret = (await modal.getByTestId("secret-value").textContent()) ?? "";
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await expect(modal).toContainText("It will not be shown again");
      await modal.getByRole("button", { name: "Copy key to clipboard" }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
      await saveScreenshot("signing secret");
      await modal.getByRole("button", { name: "I have saved this key" }).click();
      await expect(modal).toBeHidden();
      leaks.afterSecretShown();

      const row = page.getByTestId("webhook-row");
      await expect(row).toHaveCount(1);
      await expect(row).toContainText(receiver.url);
      await expect(row).toContainText("key.budget.threshold, account.balance.low");

      await page.getByRole("button", { name: `Actions for the webhook to ${receiver.url}` }).click();
      await page.getByRole("menuitem", { name: "Send test event" }).click();
      await expect(page.getByTestId("toast-success")).toContainText("Test event delivered (HTTP 200)");

      expect(receiver.received).toHaveLength(1);
      const verified = new Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers) as { type: string };
      expect(verified.type).toBe("webhook.test");

      await page.getByRole("button", { name: `Actions for the webhook to ${receiver.url}` }).click();
      await page.getByRole("menuitem", { name: "Delivery log" }).click();
      const log = page.getByTestId("delivery-log");
      const delivery = log.getByTestId("delivery-row");
      await expect(delivery).toHaveCount(1);
      await expect(delivery).toContainText("webhook.test");
      await expect(delivery).toContainText("delivered");
      await expect(delivery).toContainText("200");
      await expectNoSeriousViolations(page, "the delivery log");
      await saveScreenshot("delivery log");
      await page.emulateMedia({ colorScheme: "dark" });
      await expectNoSeriousViolations(page, "the delivery log (dark)");
      await saveScreenshot("delivery log, dark");
      await log.getByRole("button", { name: "Done" }).click();
      await expectNoSeriousViolations(page, "the webhooks page (dark)");
      // On a phone the list is cards, with the same actions.
      await page.setViewportSize({ width: 390, height: 844 });
      await expect(page.getByTestId("webhook-row")).toHaveCount(1);
      await expectNoSeriousViolations(page, "the webhooks page at phone width (dark)");
      await saveScreenshot("phone, dark");
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 1280, height: 720 });

      await page.reload();
      await expect(page.getByTestId("webhook-row")).toHaveCount(1);

      // The low-balance threshold account.balance.low compares with (PUT /api/account).
      const threshold = page.getByLabel("Alert below (USD)");
      await expect(threshold).toHaveValue("1");
      await threshold.fill("5.5");
      await page.getByRole("button", { name: "Save" }).click();
      await expect(page.getByTestId("toast-success").filter({ hasText: "Low-balance alert set to $5.5" })).toBeVisible();
      expect(((await (await api.as(user).get("/api/account")).json()) as { data: { lowBalanceUsd: number } }).data.lowBalanceUsd).toBe(5.5);
      expect(await leaks.expectSecretGone(secret)).toBeGreaterThan(0);

      await page.getByRole("button", { name: `Actions for the webhook to ${receiver.url}` }).click();
      await page.getByRole("menuitem", { name: "Delete" }).click();
      await page.getByTestId("confirm-dialog").getByRole("button", { name: "Delete webhook" }).click();
      await expect(page.getByText("No webhooks yet")).toBeVisible();
    } finally {
      await receiver.close();
    }
  });
});
