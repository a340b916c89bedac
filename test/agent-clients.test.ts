import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { invalidateCatalogue } from "@/lib/models/catalogue";
import { flushUsage } from "@/lib/usage/writer";
import { createUser, type TestUser } from "./api";
import { agentClients } from "./agent-clients";
import { createCreditKey } from "./fixtures";
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from "./fake-upstream";
import { setEnv, startGateway, type TestGateway } from "./gateway";

/**
 * The clients people actually point at a gateway, with their default
 * settings, against Keygate: Claude Code (Anthropic Messages, streamed, with
 * its dozen tools, thinking and system reminders) and Codex CLI (the
 * Responses API, with developer messages, reasoning items and built-in
 * tools), each on a model of either protocol, with a tool round trip: the
 * upstream asks for a file to be read, the agent reads it and sends the
 * result back, and the upstream's final answer is what the agent prints.
 * Skipped, with the reason, only where the agents cannot be installed or run.
 */

const clients = await agentClients();
const why = "unavailable" in clients ? clients.unavailable : "";

let up: FakeUpstream;
let gw: TestGateway;
let restoreEnv: () => void;
let user: TestUser;
let apiKey: string;

const MODELS = [
  {
    model: "claude-agent",
    provider: "anthropic" as const,
    upstreamModel: "claude-test",
    inputMicrosPerMTok: BigInt(3_000_000),
    outputMicrosPerMTok: BigInt(15_000_000),
    maxOutputTokens: 32000,
  },
  {
    model: "gpt-agent",
    provider: "openai" as const,
    upstreamModel: "gpt-4o-mini",
    inputMicrosPerMTok: BigInt(1_000_000),
    outputMicrosPerMTok: BigInt(2_000_000),
    maxOutputTokens: 32000,
  },
];
const SECRET = "The secret word is pelican.";

beforeAll(async () => {
  up = await startFakeUpstream();
  restoreEnv = setEnv({
    OPENAI_BASE_URL: up.openaiBaseUrl,
    OPENAI_API_KEY: "upstream-openai-secret",
    ANTHROPIC_BASE_URL: up.anthropicBaseUrl,
    ANTHROPIC_API_KEY: "upstream-anthropic-secret",
  });
  const db = await prisma();
  for (const m of MODELS) await db.model.upsert({ where: { model: m.model }, create: m, update: m });
  invalidateCatalogue();
  gw = await startGateway();
  user = await createUser({ creditUsd: 50 });
  apiKey = (await createCreditKey(user, { rpm: 1000 })).apiKey;
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  restoreEnv?.();
});

afterEach(() => {
  up.options.respond = undefined;
  up.reset();
});

/** A working directory with the file the upstream will ask for. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-agent-"));
  fs.writeFileSync(path.join(dir, "note.txt"), SECRET);
  return dir;
}

/** Runs an agent to its end (stdin closed at once, as a script would), with only the environment given. */
function runAgent(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      // Only what is given: no key or setting of the test run's own leaks into the agent.
      { cwd, env: { PATH: process.env.PATH ?? "", ...env } as unknown as NodeJS.ProcessEnv, timeout: 150_000, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (err: Error | null, stdout: string, stderr: string) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** Whether a request (in either protocol) already carries a tool's result. */
function hasToolResult(body: Record<string, unknown>): boolean {
  const text = JSON.stringify(body.messages ?? body.input ?? []);
  return text.includes('"role":"tool"') || text.includes('"type":"tool_result"') || text.includes('"type":"function_call_output"');
}

/** Until the agent sends a tool's result, the upstream asks for `call`; then it answers in words. */
function toolRoundTrip(call: { name: string; arguments: Record<string, unknown> }): FakeUpstreamOptions["respond"] {
  return (body) => (hasToolResult(body) ? { outputTokens: 3 } : { toolCalls: [call], outputTokens: 0 });
}

/** The requests the upstream got, and the tool result text the last one carried. */
function sentToolResult(): string {
  const last = up.requests.filter((r) => r.body && typeof r.body === "object" && hasToolResult(r.body)).at(-1);
  return last ? JSON.stringify(last.body) : "";
}

async function usageFor(model: string) {
  await flushUsage();
  return (await prisma()).usageRecord.findMany({ where: { userId: user.id, model } });
}

describe.skipIf(why)(`Claude Code against Keygate${why ? ` (skipped: ${why})` : ""}`, () => {
  for (const m of MODELS) {
    it(`runs a tool round trip on ${m.provider === "anthropic" ? "an Anthropic model (passed through)" : "an OpenAI model (translated)"} with its default settings`, async () => {
      if ("unavailable" in clients) return;
      const dir = workspace();
      up.options.respond = toolRoundTrip({ name: "Read", arguments: { file_path: path.join(dir, "note.txt") } });
      const out = await runAgent(clients.claude, ["-p", "What is the secret word in note.txt?", "--model", m.model], dir, {
        HOME: dir,
        ANTHROPIC_BASE_URL: gw.url,
        ANTHROPIC_API_KEY: apiKey,
        DISABLE_TELEMETRY: "1",
        DISABLE_AUTOUPDATER: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      });
      expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
      expect(out.stdout.trim()).toBe("w0 w1 w2");
      expect(sentToolResult()).toContain("pelican");
      const first = up.requests[0].body;
      // What Claude Code really sends: a stream, many tools, a large output cap.
      expect(first.stream).toBe(true);
      expect(first.tools.length).toBeGreaterThanOrEqual(8);
      const records = await usageFor(m.model);
      expect(records.length).toBeGreaterThanOrEqual(2);
      expect(records.every((r) => r.status === 200 && r.costMicros > BigInt(0))).toBe(true);
    }, 180_000);
  }
});

describe.skipIf(why)(`Codex CLI against Keygate${why ? ` (skipped: ${why})` : ""}`, () => {
  for (const m of MODELS) {
    it(`runs a tool round trip on ${m.provider === "anthropic" ? "an Anthropic model" : "an OpenAI model"} through /v1/responses with its default settings`, async () => {
      if ("unavailable" in clients) return;
      const dir = workspace();
      const codexHome = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-codex-"));
      fs.writeFileSync(
        path.join(codexHome, "config.toml"),
        [
          `model = "${m.model}"`,
          `model_provider = "keygate"`,
          "",
          "[model_providers.keygate]",
          `name = "Keygate"`,
          `base_url = "${gw.url}/v1"`,
          `env_key = "KEYGATE_API_KEY"`,
          `wire_api = "responses"`,
          "",
        ].join("\n"),
      );
      up.options.respond = toolRoundTrip({ name: "exec_command", arguments: { cmd: "cat note.txt", workdir: dir } });
      const out = await runAgent(clients.codex, ["exec", "--skip-git-repo-check", "What is the secret word in note.txt?"], dir, {
        HOME: dir,
        CODEX_HOME: codexHome,
        KEYGATE_API_KEY: apiKey,
      });
      expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
      expect(out.stdout.trim()).toBe("w0 w1 w2");
      expect(sentToolResult()).toContain("pelican");
      // What Codex really sends, as the route got it: streamed, its function tools kept (its built-in ones dropped).
      const first = up.requests[0].body;
      expect(first.stream).toBe(true);
      const names = (first.tools as Array<{ name?: string; function?: { name: string } }>).map((t) => t.name ?? t.function?.name);
      expect(names).toContain("exec_command");
      const records = await usageFor(m.model);
      expect(records.length).toBeGreaterThanOrEqual(2);
      expect(records.every((r) => r.status === 200 && r.costMicros > BigInt(0))).toBe(true);
    }, 180_000);
  }
});
