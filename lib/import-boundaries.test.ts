import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The import boundaries live in eslint.config.mjs. These tests lint small
 * snippets as if they sat in lib/ or components/, so deleting or loosening a
 * boundary fails here rather than going unnoticed.
 */

const root = path.resolve(import.meta.dirname, "..");
let eslint: ESLint;

beforeAll(() => {
  // import/no-cycle reads the files it follows from disk, so it is off for these in-memory probes (the last test checks it is on).
  eslint = new ESLint({ cwd: root, overrideConfig: { rules: { "import/no-cycle": "off" } } });
});

async function restrictedImports(file: string, code: string, rule = "no-restricted-imports"): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}

describe("import boundaries", () => {
  it("forbids lib/ from importing Next, app/ or components/, but allows next-auth", async () => {
    const file = "lib/boundary-probe.ts";
    expect(
      await restrictedImports(file, 'export { redirect } from "next/navigation";\nimport { redirect as r } from "next/navigation";\nr("/");\n'),
    ).not.toEqual([]);
    expect(await restrictedImports(file, 'import type { Metadata } from "next";\nexport type M = Metadata;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { POST } from "@/app/api/keys/route";\nexport const p = POST;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { KeysPage } from "@/components/keys/keys-page";\nexport const k = KeysPage;\n')).not.toEqual([]);
    expect(
      await restrictedImports(
        file,
        'import { getServerSession } from "next-auth";\nimport { decode } from "next-auth/jwt";\nexport const s = [getServerSession, decode];\n',
      ),
    ).toEqual([]);
  }, 30_000);

  it("forbids components/ from importing the database or any lib module outside the schemas, client helpers and money", async () => {
    const file = "components/boundary-probe.tsx";
    const db = await restrictedImports(file, 'import { prisma } from "@/lib/db";\nexport const p = prisma;\n');
    expect(db).toHaveLength(1);
    expect(db[0]).toMatch(/never import the database/);
    expect(await restrictedImports(file, 'import type { ApiKeyView } from "@/lib/keys/service";\nexport type V = ApiKeyView;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { listKeys } from "../lib/keys/service";\nexport const l = listKeys;\n')).not.toEqual([]);
    const allowed = [
      'import { keyNameSchema } from "@/lib/keys/schemas";',
      'import { signInSchema } from "@/lib/auth/schemas";',
      'import { apiFetch } from "@/lib/client/api";',
      'import { formatUsd } from "@/lib/billing/money";',
      "export const all = [keyNameSchema, signInSchema, apiFetch, formatUsd];",
    ].join("\n");
    expect(await restrictedImports(file, allowed)).toEqual([]);
  }, 30_000);

  it("forbids the domains from importing the gateway, and shared state from importing the domains", async () => {
    const gatewayImport = 'import { handleGateway } from "@/lib/gateway/router";\nexport const h = handleGateway;\n';
    for (const file of [
      "lib/billing/probe.ts",
      "lib/pools/probe.ts",
      "lib/subscriptions/probe.ts",
      "lib/keys/probe.ts",
      "lib/usage/probe.ts",
      "lib/limits/probe.ts",
    ]) {
      expect(await restrictedImports(file, gatewayImport), file).not.toEqual([]);
    }
    expect(await restrictedImports("lib/http/front-probe.ts", gatewayImport)).toEqual(
      expect.arrayContaining([expect.stringMatching(/never import the gateway/)]),
    );
    expect(await restrictedImports("lib/http/front.ts", gatewayImport)).toEqual([]);
    expect(await restrictedImports("lib/gateway/probe.ts", 'import { admit } from "@/lib/gateway/admission";\nexport const a = admit;\n')).toEqual([]);
    const domainImport = 'import { verifyKey } from "@/lib/keys/verify";\nexport const v = verifyKey;\n';
    for (const file of ["lib/limits/probe.ts", "lib/cache/probe.ts", "lib/cluster/probe.ts"]) {
      expect(await restrictedImports(file, domainImport), file).toEqual([expect.stringMatching(/below the domains/)]);
    }
    expect(await restrictedImports("lib/gateway/probe.ts", domainImport)).toEqual([]);
  }, 30_000);

  it("lets only the protocol adapters branch on a protocol's name, and checks lib/ for import cycles", async () => {
    const branch = 'export const isOpenAi = (p: string) => p === "openai";\n';
    expect(await restrictedImports("lib/gateway/probe.ts", branch, "no-restricted-syntax")).toHaveLength(1);
    expect(await restrictedImports("app/probe.ts", 'export const f = (p: string) => p !== "anthropic";\n', "no-restricted-syntax")).toHaveLength(1);
    expect(await restrictedImports("lib/gateway/protocols/probe.ts", branch, "no-restricted-syntax")).toEqual([]);
    const config = await new ESLint({ cwd: root }).calculateConfigForFile(path.join(root, "lib/keys/service.ts"));
    expect(config.rules["import/no-cycle"]?.[0]).toBe(2);
  }, 30_000);

  it("lets the browser-side helpers in lib/client/ import the pure block arithmetic, and nothing that reaches the database or Next", async () => {
    const file = "lib/client/boundary-probe.ts";
    expect(await restrictedImports(file, 'import { prisma } from "@/lib/db";\nexport const p = prisma;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { listPools } from "@/lib/pools/service";\nexport const l = listPools;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { prisma } from "../db";\nexport const p = prisma;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { redirect } from "next/navigation";\nexport const r = redirect;\n')).not.toEqual([]);
    expect(await restrictedImports(file, 'import { cn } from "@/components/ui/cn";\nexport const c = cn;\n')).not.toEqual([]);
    const allowed = [
      'import { blockIndexAt } from "@/lib/pools/blocks";',
      'import { dayBlocks } from "../pools/blocks";',
      'import { createPoolSchema } from "@/lib/pools/schemas";',
      'import { formatUsd } from "@/lib/billing/money";',
      'import { apiFetch } from "@/lib/client/api";',
      'import { ApiError } from "./api";',
      "export const all = [blockIndexAt, dayBlocks, createPoolSchema, formatUsd, apiFetch, ApiError];",
    ].join("\n");
    expect(await restrictedImports(file, allowed)).toEqual([]);
  }, 30_000);
});
