import { describe, expect, it } from "vitest";
import { call, createUser, expectError } from "./api";

describe("consumption keys", () => {
  it("creates a credit key whose secret is returned once and never listed", async () => {
    const user = await createUser({ creditUsd: 10 });
    const created = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "client_42" } });
    expect(created.status, created.text).toBe(201);
    const apiKey: string = created.json.data.apiKey;
    expect(apiKey).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(created.json.data).toMatchObject({ name: "client_42", keyType: "credit", keyPlan: "credits", isActive: true, rpmLimit: 60 });

    const list = await call("GET", "/api/keys", { token: user.token });
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    expect(list.json.data[0].keyPrefix).toBe(apiKey.slice(0, 16));
    expect(list.text).not.toContain(apiKey.slice(16));
    expect(list.json.data[0]).not.toHaveProperty("apiKey");
  });

  it("refuses a credit key with a clear 402 while the balance is zero", async () => {
    const user = await createUser();
    const res = await call("POST", "/api/keys/credit", { token: user.token, body: { name: "k" } });
    expectError(res, 402, "insufficient_balance");
  });
});
