import crypto from "node:crypto";
import { startFakeUpstream } from "../test/fake-upstream";
import { expectNoSeriousViolations } from "./a11y";
import { expect, test } from "./fixtures";

/**
 * The Admin section of the dashboard: an operator (KEYGATE_ADMIN_EMAILS, see
 * playwright.config.ts) manages upstreams and model routes in the browser,
 * and the gateway serves through what they set; for everyone else the
 * section does not exist.
 */

test.describe("admin", () => {
  test("an operator adds an upstream, a model routed to it and a customer's credit in the dashboard; the gateway then serves the model through that upstream, and its key never shows again", async ({
    page,
    users,
    api,
    request,
    saveScreenshot,
  }) => {
    const secretKey = `sk-e2e-${crypto.randomBytes(12).toString("hex")}`;
    const headerValue = `tenant-${crypto.randomBytes(8).toString("hex")}`;
    const fake = await startFakeUpstream();
    try {
      const suffix = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
      const upstreamName = `e2e-up-${suffix}`;
      const model = `e2e-routed-${suffix}`;
      const operator = await users.operator();
      await operator.login();
      await page.goto("/keys");
      const nav = page.getByRole("navigation", { name: "Main" });
      await nav.getByRole("link", { name: "Upstreams", exact: true }).click();
      await expect(page).toHaveURL("/admin/upstreams");
      await expect(page).toHaveTitle("Upstreams · Keygate");
      await expect(page.getByRole("heading", { level: 1, name: "Upstreams" })).toBeVisible();

      // Add it.
      await page.getByRole("button", { name: "Add upstream" }).click();
      const form = page.getByRole("dialog", { name: "Add an upstream" });
      await form.getByLabel("Name").fill(upstreamName);
      await expect(form.getByLabel("Protocol")).toHaveValue("openai");
      await form.getByLabel("Base URL").fill(fake.openaiBaseUrl);
      await form.getByLabel("API key").fill(secretKey);
      await form.getByRole("button", { name: "Add header" }).click();
      await form.getByLabel("Header 1 name").fill("X-E2E-Tenant");
      await form.getByLabel("Header 1 value").fill(headerValue);
      await form.getByRole("button", { name: "Add upstream" }).click();
      await expect(form).toBeHidden();

      const row = page.locator(`[data-testid="upstream-row"][data-upstream-name="${upstreamName}"]`);
      await expect(row).toBeVisible();
      await expect(row.getByTestId("upstream-key")).toHaveText(`…${secretKey.slice(-4)}`);
      await expect(row).toContainText("X-E2E-Tenant");
      await expect(row.getByTestId("upstream-health")).toHaveText("OK");
      await expectNoSecrets();

      // Edit it: the key field starts empty and says a blank keeps the key.
      await row.getByRole("button", { name: `Actions for ${upstreamName}` }).click();
      await page.getByRole("menuitem", { name: "Edit" }).click();
      const edit = page.getByRole("dialog", { name: `Edit upstream “${upstreamName}”` });
      await expect(edit.getByLabel("API key")).toHaveValue("");
      await expect(edit.getByText(`Leave blank to keep the current key (…${secretKey.slice(-4)})`)).toBeVisible();
      await expect(edit.getByTestId("current-header-names")).toContainText("X-E2E-Tenant (values hidden)");
      await edit.getByLabel("Timeout (ms)").fill("30000");
      await edit.getByRole("button", { name: "Save changes" }).click();
      await expect(edit).toBeHidden();
      await expect(row.getByRole("cell").nth(7)).toHaveText("30 s");
      await expect(row.getByTestId("upstream-key")).toHaveText(`…${secretKey.slice(-4)}`);

      // Test the connection: one request for the upstream's model list, with the stored key and header; the result shows neither.
      await row.getByRole("button", { name: `Actions for ${upstreamName}` }).click();
      await page.getByRole("menuitem", { name: "Test connection" }).click();
      const tested = page.getByRole("dialog", { name: `Test “${upstreamName}”` });
      const result = tested.getByTestId("upstream-test-result");
      await expect(result).toContainText("Connected");
      await expect(result).toContainText("HTTP 200");
      await expect(result).toContainText("the upstream lists 3 models");
      await expect(result).toContainText(`GET ${fake.openaiBaseUrl}/models`);
      const listed = fake.requests.filter((r) => r.path === "/v1/models");
      expect(listed.map((r) => [r.headers.authorization, r.headers["x-e2e-tenant"]])).toEqual([[`Bearer ${secretKey}`, headerValue]]);
      await expectNoSecrets();
      await tested.getByRole("button", { name: "Done" }).click();
      await expect(tested).toBeHidden();

      await expectNoSeriousViolations(page, "/admin/upstreams");
      await saveScreenshot("upstreams");

      // Add the model with its prices, then route it to the upstream.
      await nav.getByRole("link", { name: "Models & prices", exact: true }).click();
      await expect(page).toHaveURL("/admin/models");
      await expect(page.getByRole("heading", { level: 1, name: "Models and prices" })).toBeVisible();
      await page.getByRole("button", { name: "Add model" }).click();
      const addModel = page.getByRole("dialog", { name: "Add a model" });
      await addModel.getByLabel("Model", { exact: true }).fill(model);
      await addModel.getByLabel("Input price (USD per 1M tokens)").fill("1");
      await addModel.getByLabel("Output price (USD per 1M tokens)").fill("2");
      await addModel.getByLabel("Max output tokens").fill("256");
      await addModel.getByRole("button", { name: "Add model" }).click();
      await expect(addModel).toBeHidden();
      const modelRow = page.locator(`[data-testid="admin-model-row"][data-model-name="${model}"]`);
      await expect(modelRow.getByRole("cell")).toHaveText([model, "OpenAI", "Chat", "$1", "$2", "256", "environment upstream (openai)", /Edit/]);

      await modelRow.getByRole("button", { name: `Edit routes of ${model}` }).click();
      const routes = page.getByRole("dialog", { name: `Routes of “${model}”` });
      await routes.getByRole("button", { name: "Add route" }).click();
      await routes.getByLabel("Route 1 upstream", { exact: true }).selectOption(upstreamName);
      await routes.getByLabel("Route 1 upstream model").fill("gpt-4o-mini");
      await routes.getByRole("button", { name: "Save routes" }).click();
      await expect(routes).toBeHidden();
      await expect(modelRow.getByTestId("model-routes")).toHaveText(`${upstreamName} as gpt-4o-mini · priority 0 · weight 1`);
      // Routes and prices are saved apart: a price change keeps the route.
      await modelRow.getByRole("button", { name: `Edit ${model}`, exact: true }).click();
      const editModel = page.getByRole("dialog", { name: `Edit “${model}”` });
      await editModel.getByLabel("Output price (USD per 1M tokens)").fill("3");
      await editModel.getByRole("button", { name: "Save changes" }).click();
      await expect(editModel).toBeHidden();
      await expect(modelRow.getByRole("cell").nth(4)).toHaveText("$3");
      await expect(modelRow.getByTestId("model-routes")).toHaveText(`${upstreamName} as gpt-4o-mini · priority 0 · weight 1`);
      await expectNoSeriousViolations(page, "/admin/models");

      // Credit for a customer, granted in the dashboard.
      const customer = await users.create();
      await nav.getByRole("link", { name: "Credits", exact: true }).click();
      await expect(page).toHaveURL("/admin/credits");
      await page.getByLabel("Email").fill(customer.email);
      await page.getByLabel("Amount (USD)").fill("5");
      await page.getByLabel("Note").fill("admin e2e");
      await page.getByRole("button", { name: "Grant credit" }).click();
      await expect(page.getByTestId("grant-result")).toHaveText(`Granted $5.00 to ${customer.email}; their balance is now $5.00.`);
      await expect(page.getByLabel("Email")).toHaveValue("");

      // A consumption key's request for the model goes through the upstream, with its key and header.
      const created = await api.as(customer).post("/api/keys/credit", { name: "admin e2e" });
      expect(created.status(), await created.text()).toBe(201);
      const { apiKey } = ((await created.json()) as { data: { apiKey: string } }).data;
      const answer = await request.post("/v1/chat/completions", {
        headers: { Authorization: `Bearer ${apiKey}` },
        data: { model, messages: [{ role: "user", content: "hello upstream" }] },
      });
      expect(answer.status(), await answer.text()).toBe(200);
      expect(answer.headers()["x-keygate-upstream"]).toBe(upstreamName);
      const sent = fake.requests.filter((r) => r.path.endsWith("/chat/completions"));
      expect(sent).toHaveLength(1);
      expect(sent[0].body.model).toBe("gpt-4o-mini");
      expect(sent[0].headers.authorization).toBe(`Bearer ${secretKey}`);
      expect(sent[0].headers["x-e2e-tenant"]).toBe(headerValue);

      // Back on Upstreams: the request is counted, and the upstream cannot be deleted while the route uses it.
      await nav.getByRole("link", { name: "Upstreams", exact: true }).click();
      await expect(page).toHaveURL("/admin/upstreams");
      // The list read on arrival may predate the request's count (the gateway records it as the answer ends): read it afresh.
      await page.reload();
      await expect(row.getByTestId("upstream-traffic")).toContainText("1 request");
      await row.getByRole("button", { name: `Actions for ${upstreamName}` }).click();
      await page.getByRole("menuitem", { name: "Delete" }).click();
      const confirm = page.getByRole("dialog", { name: `Delete upstream “${upstreamName}”?` });
      await confirm.getByRole("button", { name: "Delete upstream" }).click();
      await expect(confirm.getByRole("alert")).toContainText(model);
      await confirm.getByRole("button", { name: "Cancel" }).click();
      await expect(confirm).toBeHidden();
      await expect(row).toBeVisible();
      await expectNoSecrets();
    } finally {
      await fake.close();
    }

    /** Neither the typed API key nor the header value is anywhere in the page (text, attributes, inputs). */
    async function expectNoSecrets() {
      const html = await page.content();
      const inputs = await page.locator("input").evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value));
      for (const secret of [secretKey, headerValue]) {
        expect(html).not.toContain(secret);
        expect(inputs).not.toContain(secret);
      }
    }
  });

  test("an operator adds an embedding model with the Kind select, after the server refuses one an Anthropic upstream would serve", async ({ page, users }) => {
    const model = `e2e-embed-${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
    const operator = await users.operator();
    await operator.login();
    await page.goto("/admin/models");
    await page.getByRole("button", { name: "Add model" }).click();
    const add = page.getByRole("dialog", { name: "Add a model" });
    await add.getByLabel("Model", { exact: true }).fill(model);
    await add.getByLabel("Provider").selectOption("anthropic");
    await add.getByLabel("Kind").selectOption("embedding");
    await add.getByLabel("Input price (USD per 1M tokens)").fill("0.02");
    await add.getByLabel("Output price (USD per 1M tokens)").fill("0");
    await add.getByLabel("Max output tokens").fill("1");
    await add.getByRole("button", { name: "Add model" }).click();
    await expect(add.getByRole("alert")).toContainText("embeddings exist only on OpenAI-protocol upstreams");
    await add.getByLabel("Provider").selectOption("openai");
    await add.getByRole("button", { name: "Add model" }).click();
    await expect(add).toBeHidden();
    const row = page.locator(`[data-testid="admin-model-row"][data-model-name="${model}"]`);
    await expect(row.getByRole("cell")).toHaveText([model, "OpenAI", "Embedding", "$0.02", "$0", "1", "environment upstream (openai)", /Edit/]);
  });

  test("an operator creates a pool in the dashboard, then changes its price and takes it off sale", async ({ page, users, api }) => {
    const name = `E2E pool ${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
    const operator = await users.operator();
    await operator.login();
    await page.goto("/admin/pools");
    await expect(page.getByRole("heading", { level: 1, name: "Pools (admin)" })).toBeVisible();
    await page.getByRole("button", { name: "Create pool" }).click();
    const create = page.getByRole("dialog", { name: "Create a pool" });
    await create.getByLabel("Name").fill(name);
    await create.getByLabel("Models").fill("keygate/echo");
    await create.getByLabel("Block length").selectOption("6");
    await create.getByLabel("Seats per block").fill("3");
    await create.getByLabel("Price per block (USD)").fill("1");
    await create.getByRole("button", { name: "Create pool" }).click();
    await expect(create).toBeHidden();
    const row = page.locator(`[data-testid="admin-pool-row"][data-pool-name="${name}"]`);
    await expect(row.getByRole("cell")).toHaveText([name, "keygate/echo", "4 × 6 h", "0 of 3", "$1", "Edit"]);
    const onSale = async () => ((await (await api.as(operator).get("/api/pools")).json()) as { data: Array<{ name: string }> }).data.map((p) => p.name);
    expect(await onSale()).toContain(name);

    await row.getByRole("button", { name: `Edit pool ${name}` }).click();
    const edit = page.getByRole("dialog", { name: `Edit pool “${name}”` });
    await edit.getByLabel("Price per block (USD)").fill("1.5");
    await edit.getByLabel("On sale").uncheck();
    await edit.getByRole("button", { name: "Save changes" }).click();
    await expect(edit).toBeHidden();
    await expect(row.getByRole("cell")).toHaveText([`${name}off sale`, "keygate/echo", "4 × 6 h", "0 of 3", "$1.50", "Edit"]);
    expect(await onSale()).not.toContain(name);
    await expectNoSeriousViolations(page, "/admin/pools");
  });

  test("a signed-in user who is not an operator sees no Admin tabs, and the Admin pages and API answer 404", async ({ page, users, api }) => {
    const user = await users.create();
    await user.login();
    await page.goto("/keys");
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "API Keys" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Upstreams" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Models & prices" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Credits" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Pools (admin)" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Audit (all)" })).toHaveCount(0);

    for (const url of ["/admin/upstreams", "/admin/models", "/admin/pools", "/admin/credits", "/admin/audit"]) {
      const res = await page.goto(url);
      expect(res?.status(), url).toBe(404);
      await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
    }
    // By cookie (the browser's own request) and by session token alike.
    expect((await page.request.get("/api/admin/upstreams")).status()).toBe(404);
    expect((await api.as(user).get("/api/admin/upstreams")).status()).toBe(404);
    expect((await api.as(user).get("/api/admin/audit")).status()).toBe(404);
    expect((await api.as(user).post("/api/admin/credits", { email: user.email, amountUsd: 1 })).status()).toBe(404);
  });

  test("sends a visitor who is not signed in to sign-in, and back to the Admin page afterwards", async ({ page }) => {
    await page.goto("/admin/upstreams");
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Fadmin%2Fupstreams$/);
  });
});
