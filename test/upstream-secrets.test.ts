import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "@/lib/auth/actor";
import { closeDb, prisma } from "@/lib/db";
import { migrate } from "@/lib/migrate";
import { resetLogger } from "@/lib/ops/logger";
import { invalidateUpstreams, upstreamByName } from "@/lib/upstreams/registry";
import { reencryptUpstreamSecrets } from "@/lib/upstreams/service";
import { ADMIN_TOKEN, call, type ApiResponse } from "./api";
import { dumpAllTables } from "./fixtures";
import { setEnv } from "./gateway";

/**
 * Upstream credentials are write-only and encrypted at rest: after they are
 * entered, no table of a database dump, no file of the embedded database's
 * data directory, no response and no log line holds an API key or a header
 * value, while Keygate itself can still read them (and keeps reading them
 * across a change of encryption key).
 */

const logged: string[] = [];
const secrets: string[] = [];
const responses: Array<[string, ApiResponse]> = [];
let restoreLog: () => void;

/** A distinctive secret, remembered for the scans. */
function secret(label: string): string {
  const value = `${label}-${crypto.randomBytes(16).toString("hex")}`;
  secrets.push(value);
  return value;
}

/** The secret and every 12-character window of it. */
function fragments(value: string): string[] {
  return [value, ...Array.from({ length: value.length - 11 }, (_, i) => value.slice(i, i + 12))];
}

function expectNoSecrets(text: string, where: string) {
  for (const value of secrets) {
    for (const fragment of fragments(value)) expect(text.includes(fragment), `${where} contains (part of) ${value}`).toBe(false);
  }
}

async function record(what: string, res: Promise<ApiResponse>): Promise<ApiResponse> {
  const r = await res;
  responses.push([what, r]);
  return r;
}

const names: string[] = [];

beforeAll(async () => {
  restoreLog = setEnv({ LOG_LEVEL: "trace" });
  resetLogger({ write: (line: string) => void logged.push(line) });
  for (const protocol of ["openai", "anthropic"]) {
    const name = `secret-${protocol}-${crypto.randomBytes(4).toString("hex")}`;
    names.push(name);
    const body = {
      name,
      protocol,
      baseUrl: "https://llm.example.com/v1",
      apiKey: secret("UPKEY"),
      headers: { "x-tenant-token": secret("HDRVAL"), "x-other": secret("HDRVAL") },
    };
    const created = await record("POST /api/admin/upstreams", call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body }));
    expect(created.status, created.text).toBe(201);
    await record("PUT (new key)", call("PUT", `/api/admin/upstreams/${created.json.data.id}`, { token: ADMIN_TOKEN, body: { apiKey: secret("UPKEY2") } }));
    await record(
      "PUT (new headers)",
      call("PUT", `/api/admin/upstreams/${created.json.data.id}`, { token: ADMIN_TOKEN, body: { headers: { "x-new": secret("HDRVAL2") } } }),
    );
    // Refused requests carrying secrets must not echo them either.
    await record("POST duplicate", call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body: { ...body, apiKey: secret("UPKEY3") } }));
    await record("POST invalid", call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body: { ...body, name: "Bad Name", apiKey: secret("UPKEY4") } }));
    await record(
      "POST bad header",
      call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body: { ...body, headers: { "x-a": `${secret("HDRVAL3")}\n` } } }),
    );
    await record("POST bad JSON", call("POST", "/api/admin/upstreams", { token: ADMIN_TOKEN, body: `{"apiKey": "${secret("UPKEY5")}"` }));
  }
  const model = `secret-model-${crypto.randomBytes(4).toString("hex")}`;
  await record(
    "POST /api/admin/models",
    call("POST", "/api/admin/models", {
      token: ADMIN_TOKEN,
      body: { model, provider: "openai", inputUsdPerMTok: 1, outputUsdPerMTok: 1, maxOutputTokens: 10, routes: [{ upstream: names[0] }] },
    }),
  );
  await record("GET /api/admin/upstreams", call("GET", "/api/admin/upstreams", { token: ADMIN_TOKEN }));
  await record("GET /api/admin/models", call("GET", "/api/admin/models", { token: ADMIN_TOKEN }));
});

afterAll(() => {
  resetLogger();
  restoreLog();
});

describe("upstream secrets at rest and in transit", () => {
  it("keeps them readable by Keygate itself: the registry has the latest key and headers", async () => {
    invalidateUpstreams();
    const record = await upstreamByName(names[0]);
    expect(record?.apiKey).toMatch(/^UPKEY2-/);
    expect(Object.keys(record!.headers)).toEqual(["x-new"]);
    expect(record!.headers["x-new"]).toMatch(/^HDRVAL2-/);
  });

  it("stores none of them in any table of a database dump (which does hold the upstreams)", async () => {
    const dump = await dumpAllTables();
    expect(Object.keys(dump)).toEqual(expect.arrayContaining(["Upstream", "ModelRoute", "Model", "User"]));
    for (const [table, text] of Object.entries(dump)) expectNoSecrets(text, `table ${table}`);
    for (const name of names) expect(dump.Upstream).toContain(name);
    expect(dump.Upstream).toContain("x-new");
    expect(dump.ModelRoute).toContain(names[0]);
  });

  it("returns none of them in any response, success or error", () => {
    expect(responses.length).toBeGreaterThan(10);
    expect(responses.filter(([, r]) => r.status >= 400).length).toBeGreaterThanOrEqual(8);
    for (const [what, res] of responses) expectNoSecrets(res.text, `${what} (${res.status})`);
  });

  it("writes none of them to the log", () => {
    expectNoSecrets(logged.join("\n"), "the log");
  });

  it("keeps reading them across a key change, with the old key as KEYGATE_ENCRYPTION_KEY_PREVIOUS, and re-encrypts them for the new one", async () => {
    const oldKey = "old-encryption-key-0123456789abcdefghij";
    const newKey = "new-encryption-key-0123456789abcdefghij";
    let restore = setEnv({ KEYGATE_ENCRYPTION_KEY: oldKey });
    try {
      const name = `rotate-${crypto.randomBytes(4).toString("hex")}`;
      const apiKey = secret("ROTKEY");
      const res = await call("POST", "/api/admin/upstreams", {
        token: ADMIN_TOKEN,
        body: { name, protocol: "openai", baseUrl: "https://llm.example.com/v1", apiKey, headers: { "x-h": "v-rot" } },
      });
      expect(res.status, res.text).toBe(201);
      const db = await prisma();
      const before = await db.upstream.findUniqueOrThrow({ where: { name } });

      // The new key alone cannot read what the old one sealed: the upstream is left out, and said so in the log.
      restore();
      restore = setEnv({ KEYGATE_ENCRYPTION_KEY: newKey });
      invalidateUpstreams();
      expect(await upstreamByName(name)).toBeUndefined();
      expect(logged.some((l) => l.includes(name) && l.includes("KEYGATE_ENCRYPTION_KEY_PREVIOUS"))).toBe(true);

      restore();
      restore = setEnv({ KEYGATE_ENCRYPTION_KEY: newKey, KEYGATE_ENCRYPTION_KEY_PREVIOUS: oldKey });
      invalidateUpstreams();
      expect(await upstreamByName(name)).toMatchObject({ apiKey, headers: { "x-h": "v-rot" } });
      const result = await reencryptUpstreamSecrets(systemActor("test"));
      expect(result.reencrypted).toBeGreaterThanOrEqual(2);
      // Those sealed under the session secret's key, which is neither of these two, are reported rather than lost.
      expect(result.failed).toEqual(expect.arrayContaining(names));
      const after = await db.upstream.findUniqueOrThrow({ where: { name } });
      expect(after.apiKeyCiphertext).not.toBe(before.apiKeyCiphertext);
      expect(after.headersCiphertext).not.toBe(before.headersCiphertext);
      expect((await reencryptUpstreamSecrets(systemActor("test"))).reencrypted).toBe(0);

      // Now the previous key can go.
      restore();
      restore = setEnv({ KEYGATE_ENCRYPTION_KEY: newKey });
      invalidateUpstreams();
      expect(await upstreamByName(name)).toMatchObject({ apiKey, headers: { "x-h": "v-rot" } });
    } finally {
      restore();
      invalidateUpstreams();
    }
  });

  it("re-encrypts a value sealed with the previous key on any write to its upstream", async () => {
    const oldKey = "old-encryption-key-0123456789abcdefghij";
    const newKey = "new-encryption-key-0123456789abcdefghij";
    let restore = setEnv({ KEYGATE_ENCRYPTION_KEY: oldKey });
    try {
      const name = `rewrite-${crypto.randomBytes(4).toString("hex")}`;
      const res = await call("POST", "/api/admin/upstreams", {
        token: ADMIN_TOKEN,
        body: { name, protocol: "openai", baseUrl: "https://llm.example.com/v1", apiKey: secret("REWKEY") },
      });
      restore();
      restore = setEnv({ KEYGATE_ENCRYPTION_KEY: newKey, KEYGATE_ENCRYPTION_KEY_PREVIOUS: oldKey });
      expect((await call("PUT", `/api/admin/upstreams/${res.json.data.id}`, { token: ADMIN_TOKEN, body: { active: true } })).status).toBe(200);
      restore();
      restore = setEnv({ KEYGATE_ENCRYPTION_KEY: newKey });
      invalidateUpstreams();
      expect(await upstreamByName(name)).toMatchObject({ apiKey: expect.stringMatching(/^REWKEY-/) });
    } finally {
      restore();
      invalidateUpstreams();
    }
  });

  it.skipIf(!!process.env.DATABASE_URL)(
    "leaves none of them in the files of the embedded database's data directory",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-secrets-"));
      await closeDb();
      const restore = setEnv({ KEYGATE_DATA_DIR: dir });
      const name = `on-disk-${crypto.randomBytes(4).toString("hex")}`;
      try {
        await migrate();
        const res = await call("POST", "/api/admin/upstreams", {
          token: ADMIN_TOKEN,
          body: { name, protocol: "openai", baseUrl: "https://llm.example.com/v1", apiKey: secret("DISKKEY"), headers: { "x-disk": secret("DISKHDR") } },
        });
        expect(res.status, res.text).toBe(201);
        await closeDb();

        const files: string[] = [];
        const walk = (d: string) => {
          for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) files.push(full);
          }
        };
        walk(dir);
        const contents = files.map((f) => [f, fs.readFileSync(f).toString("latin1")] as const);
        // The scan sees what is there in the clear: the upstream's name is on disk.
        expect(
          contents.some(([, text]) => text.includes(name)),
          "the upstream's name should be in the data files",
        ).toBe(true);
        for (const [file, text] of contents) expectNoSecrets(text, path.relative(dir, file));
      } finally {
        await closeDb();
        restore();
        invalidateUpstreams();
        fs.rmSync(dir, { recursive: true, force: true });
        await migrate();
      }
      // Creating a PostgreSQL cluster on disk takes a while on a busy machine.
    },
    120_000,
  );
});
