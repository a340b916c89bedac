import { expect, test } from "./fixtures";

/**
 * The gateway in the production build (`npm start`): /v1 is answered by
 * server.ts's plain handler, while /api/keys/:id is a Next route handler with
 * its own bundled copy of lib/. A key paused through one must be refused by
 * the other on the very next request: the key cache lives on globalThis, not
 * in either copy's module state.
 */

const chat = (model = "keygate/echo") => ({ model, messages: [{ role: "user", content: "hello gateway" }] });

test.describe("gateway in the built server", () => {
  test("a key paused or deleted through the dashboard's API is refused by the gateway on the very next request", async ({ users, api, request }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    const created = await asUser.post("/api/keys/credit", { name: "gateway e2e" });
    expect(created.status()).toBe(201);
    const { id, apiKey } = ((await created.json()) as { data: { id: string; apiKey: string } }).data;
    const asKey = { Authorization: `Bearer ${apiKey}` };

    const first = await request.post("/v1/chat/completions", { headers: asKey, data: chat() });
    expect(first.status(), await first.text()).toBe(200);
    expect(((await first.json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe("Echo: hello gateway");

    for (let round = 0; round < 3; round++) {
      expect((await asUser.put(`/api/keys/${id}`, { isActive: false })).status()).toBe(200);
      const refused = await request.post("/v1/chat/completions", { headers: asKey, data: chat() });
      expect(refused.status()).toBe(401);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/paused/);
      expect((await asUser.put(`/api/keys/${id}`, { isActive: true })).status()).toBe(200);
      expect((await request.post("/v1/chat/completions", { headers: asKey, data: chat() })).status()).toBe(200);
    }

    expect((await asUser.delete(`/api/keys/${id}`)).status()).toBe(200);
    expect((await request.post("/v1/chat/completions", { headers: asKey, data: chat() })).status()).toBe(401);
  });

  test("streams the demo model as server-sent events and lists it in /v1/models", async ({ users, api, request }) => {
    const user = await users.create({ creditUsd: 5 });
    const created = await api.as(user).post("/api/keys/credit", { name: "stream e2e" });
    const { apiKey } = ((await created.json()) as { data: { apiKey: string } }).data;
    const models = await request.get("/v1/models", { headers: { Authorization: `Bearer ${apiKey}` } });
    expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toContain("keygate/echo");
    const stream = await request.post("/v1/chat/completions", { headers: { Authorization: `Bearer ${apiKey}` }, data: { ...chat(), stream: true } });
    expect(stream.headers()["content-type"]).toContain("text/event-stream");
    const text = await stream.text();
    expect(text).toContain("data: [DONE]");
    expect(text).not.toContain('"usage"');
  });

  test("a management key paused through the dashboard's API is refused on its next request, and verify answers from the gateway", async ({
    users,
    api,
    request,
  }) => {
    const user = await users.create({ creditUsd: 5 });
    const asUser = api.as(user);
    const mk = ((await (await asUser.post("/api/keys/management", { name: "e2e mk" })).json()) as { data: { id: string; apiKey: string } }).data;
    expect((await request.get("/api/keys", { headers: { Authorization: `Bearer ${mk.apiKey}` } })).status()).toBe(200);
    expect((await asUser.put(`/api/keys/management/${mk.id}`, { isActive: false })).status()).toBe(200);
    expect((await request.get("/api/keys", { headers: { Authorization: `Bearer ${mk.apiKey}` } })).status()).toBe(401);

    const sk = ((await (await asUser.post("/api/keys/credit", { name: "verify e2e" })).json()) as { data: { id: string; apiKey: string } }).data;
    const verdict = await request.post("/api/keys/verify", { data: { key: sk.apiKey } });
    expect(verdict.status()).toBe(200);
    expect(await verdict.json()).toMatchObject({ success: true, data: { valid: true, code: "valid", keyId: sk.id } });
    expect((await asUser.put(`/api/keys/${sk.id}`, { isActive: false })).status()).toBe(200);
    expect(await (await request.post("/api/keys/verify", { data: { key: sk.apiKey } })).json()).toMatchObject({ data: { valid: false, code: "key_inactive" } });
  });
});
