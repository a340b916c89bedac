import { expect, test } from "./fixtures";

/**
 * Keygate runs without NEXTAUTH_URL here (as `npm start` does by default), so
 * NextAuth and the pages take their address from each request. A user who
 * browses by another name than localhost must stay on that name.
 */

test("signing in at 127.0.0.1 stays on 127.0.0.1, and the account page's curl example uses that address", async ({ page, users, baseURL }) => {
  const user = await users.create();
  const origin = `http://127.0.0.1:${new URL(baseURL!).port}`;

  await page.goto(`${origin}/sign-in?callbackUrl=%2Faccount`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL(`${origin}/account`);
  const example = page.getByRole("region", { name: "Getting a session token with curl" });
  await expect(example).toContainText(`curl -X POST ${origin}/api/auth/token`);
  await expect(example).not.toContainText("localhost");
});

test("a signed-out visit by another address is redirected to sign-in on that same address", async ({ page, baseURL }) => {
  const origin = `http://127.0.0.1:${new URL(baseURL!).port}`;
  await page.goto(`${origin}/keys`);
  await expect(page).toHaveURL(new RegExp(`^${origin.replaceAll(".", "\\.")}/sign-in\\?callbackUrl=%2Fkeys`));
});

test("a billing key created at 127.0.0.1 comes with a curl example for 127.0.0.1", async ({ page, users, baseURL }) => {
  const user = await users.create();
  const origin = `http://127.0.0.1:${new URL(baseURL!).port}`;
  await page.goto(`${origin}/sign-in?callbackUrl=%2Fbilling-keys`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${origin}/billing-keys`);

  await page.getByRole("button", { name: "Create billing key" }).click();
  const dialog = page.getByTestId("create-billing-key-dialog");
  await dialog.getByLabel("Name").fill("from the LAN");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("curl-example")).toContainText(`curl ${origin}/api/keys \\`);
});
