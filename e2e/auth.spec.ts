import type { Page } from "@playwright/test";
import { expectNoSeriousViolations } from "./a11y";
import { expect, SESSION_COOKIE, test } from "./fixtures";

const SIGN_IN_URL = /\/sign-in(\?.*)?$/;

/**
 * The signed-in home: "/" or the dashboard page it leads to. The email in the
 * header is what proves whose session the page was rendered for.
 */
async function expectSignedInHome(page: Page, email: string) {
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
  // The first page after sign-in is the Overview.
  await expect(page).toHaveURL(/\/overview$/);
}

/** The form's own alert; Next's route announcer is an (empty) alert too, outside <main>. */
function formAlert(page: Page) {
  return page.getByRole("main").getByRole("alert");
}

async function fillForm(page: Page, values: { name?: string; email: string; password: string }) {
  if (values.name !== undefined) await page.getByLabel("Name (optional)").fill(values.name);
  await page.getByLabel("Email").fill(values.email);
  await page.getByLabel("Password").fill(values.password);
}

test.describe("sign-up form", () => {
  test("signing up through the form lands on the home page showing the new email", async ({ page, users, saveScreenshot }) => {
    const email = users.freshEmail();
    await page.goto("/sign-up");
    await expect(page).toHaveTitle("Create account · Keygate");
    await expect(page.getByRole("heading", { name: "Create your Keygate account" })).toBeVisible();
    await saveScreenshot("sign-up form");

    await fillForm(page, { name: "Ada Lovelace", email, password: users.freshPassword() });
    await page.getByRole("button", { name: "Create account" }).click();

    await expectSignedInHome(page, email);
    await saveScreenshot("home after sign-up");
  });

  test("signing up with a taken email shows the API's message and stays signed out", async ({ page, users, saveScreenshot }) => {
    const existing = await users.create();
    await page.goto("/sign-up");
    await fillForm(page, { email: existing.email, password: users.freshPassword() });
    await page.getByRole("button", { name: "Create account" }).click();

    await expect(formAlert(page)).toBeVisible();
    await saveScreenshot("sign-up taken email");
    await expect(page).toHaveURL(/\/sign-up(\?.*)?$/);
    expect(await page.context().cookies(), "no session after a refused sign-up").toEqual([]);
    await expect(formAlert(page)).toHaveText("An account with this email already exists. Sign in instead.");
  });

  test("a short password shows the inline validation error and sends no request", async ({ page, users, saveScreenshot }) => {
    await page.goto("/sign-up");
    const apiRequests: string[] = [];
    page.on("request", (req) => {
      if (new URL(req.url()).pathname.startsWith("/api/")) apiRequests.push(`${req.method()} ${req.url()}`);
    });

    await fillForm(page, { email: users.freshEmail(), password: "short" });
    await page.getByRole("button", { name: "Create account" }).click();

    const password = page.getByLabel("Password");
    await expect(page.getByText("Password must be at least 10 characters")).toBeVisible();
    await expect(password).toHaveAttribute("aria-invalid", "true");
    // Screen readers announce the error with the field, not only as loose text.
    await expect(password).toHaveAccessibleDescription("Password must be at least 10 characters");
    await expect(page.getByLabel("Email")).not.toHaveAttribute("aria-invalid", "true");
    // Focus goes to the field to fix, so keyboard users need not hunt for it.
    await expect(password).toBeFocused();
    await saveScreenshot("sign-up short password");

    // Give a stray request time to show up before asserting there was none.
    await page.waitForTimeout(500);
    expect(apiRequests).toEqual([]);
    await expect(page).toHaveURL(/\/sign-up(\?.*)?$/);
  });
});

test.describe("sign-in form", () => {
  test("signing in through the form opens the home page, and signing out returns to /sign-in", async ({ page, users, saveScreenshot }) => {
    const user = await users.create();
    await page.goto("/sign-in");
    await expect(page).toHaveTitle("Sign in · Keygate");
    await saveScreenshot("sign-in form");

    await fillForm(page, { email: user.email, password: user.password });
    await page.getByRole("button", { name: "Sign in" }).click();

    await expectSignedInHome(page, user.email);
    await saveScreenshot("home after sign-in");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(SIGN_IN_URL);
    await expect(page.getByRole("heading", { name: "Sign in to Keygate" })).toBeVisible();
    await saveScreenshot("sign-in after sign-out");

    // The session is really gone, not just the page changed.
    await page.goto("/");
    await expect(page).toHaveURL(SIGN_IN_URL);
  });

  test("a wrong password shows 'Email or password is incorrect.' and stays signed out", async ({ page, users, saveScreenshot }) => {
    const user = await users.create();
    await page.goto("/sign-in");
    await fillForm(page, { email: user.email, password: `${user.password}-wrong` });
    await page.getByRole("button", { name: "Sign in" }).click();

    await expect(formAlert(page)).toHaveText("Email or password is incorrect.");
    await expect(page).toHaveURL(SIGN_IN_URL);
    await saveScreenshot("sign-in wrong password");

    await page.goto("/");
    await expect(page).toHaveURL(SIGN_IN_URL);
  });
});

test.describe("sessions", () => {
  test("a signed-out visit to the home page redirects to /sign-in", async ({ page, saveScreenshot }) => {
    const response = await page.goto("/");
    await expect(page).toHaveURL(SIGN_IN_URL);
    expect(response?.ok()).toBe(true);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await saveScreenshot("sign-in after redirect");
  });

  test("a session cookie from the API login shows the home page", async ({ page, users, saveScreenshot }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/");

    await expectSignedInHome(page, user.email);
    await saveScreenshot("home via api login");
  });

  test("a cookie-authenticated mutation is accepted from Keygate's pages and refused cross-site", async ({ page, request, users, api }) => {
    const user = await users.create({ creditUsd: 5 });
    await user.login();
    await page.goto("/");

    // Same origin: the browser sends Origin and Sec-Fetch-Site: same-origin.
    const sameOrigin = await page.evaluate(async () => {
      const res = await fetch("/api/keys/credit", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "from the dashboard" }),
      });
      return { status: res.status, body: await res.json() };
    });
    expect(sameOrigin.status, JSON.stringify(sameOrigin.body)).toBe(201);

    // The same cookie, sent by another site.
    const cookie = `${SESSION_COOKIE}=${user.token}`;
    const forged: Array<Record<string, string>> = [
      { Cookie: cookie, Origin: "http://evil.example" },
      { Cookie: cookie, "Sec-Fetch-Site": "cross-site" },
    ];
    for (const headers of forged) {
      const res = await request.post("/api/keys/credit", { headers, data: { name: "forged" } });
      expect(res.status(), `${JSON.stringify(headers)} → ${await res.text()}`).toBe(403);
      expect((await res.json()).error.code).toBe("cross_site_request");
    }

    const list = await api.as(user).get("/api/keys");
    expect(list.status()).toBe(200);
    const keys = ((await list.json()) as { data: Array<{ name: string }> }).data;
    expect(keys.map((k) => k.name)).toEqual(["from the dashboard"]);
  });
});

test.describe("accessibility", () => {
  for (const path of ["/sign-in", "/sign-up"]) {
    test(`${path} has no serious or critical axe violations, blank or showing errors, light or dark`, async ({ page, saveScreenshot }) => {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme });
        await page.goto(path);
        await expectNoSeriousViolations(page, `${path} (${colorScheme}, blank)`);
        await saveScreenshot(`${colorScheme} blank`);

        // An empty submit shows every inline error at once.
        await page.getByRole("button", { name: path === "/sign-in" ? "Sign in" : "Create account" }).click();
        await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
        await expect(page.getByLabel("Email"), "focus moves to the first invalid field").toBeFocused();
        await expectNoSeriousViolations(page, `${path} (${colorScheme}, errors)`);
        await saveScreenshot(`${colorScheme} errors`);
      }
    });
  }

  test("/sign-in shows the error passed in the URL, accessibly", async ({ page, saveScreenshot }) => {
    await page.goto("/sign-in?error=CredentialsSignin");
    await expect(formAlert(page)).toHaveText("Email or password is incorrect.");
    await expectNoSeriousViolations(page, "/sign-in?error=CredentialsSignin");
    await saveScreenshot("url error");
  });
});
