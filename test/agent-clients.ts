import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

/**
 * The coding agents people point at a gateway, for the tests that run them
 * against Keygate: Claude Code (Anthropic Messages) and Codex CLI (the
 * Responses API). They are large (about 0.8 GB with their binaries), so
 * they stay out of package.json: installed on demand, at pinned versions,
 * into .cache/agent-clients (ignored by git), and reused after that.
 */

const run = promisify(execFile);

export const AGENT_CLIENTS = { "@anthropic-ai/claude-code": "2.1.332", "@openai/codex": "0.171.0" } as const;
const DIR = path.resolve(import.meta.dirname, "..", ".cache", "agent-clients");

export interface AgentClients {
  claude: string;
  codex: string;
}

function installedVersion(pkg: string): string | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(DIR, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** The two agents' executables, installing them first if needed; or why they cannot run here (no registry, no disk). */
export async function agentClients(): Promise<AgentClients | { unavailable: string }> {
  const missing = Object.entries(AGENT_CLIENTS).filter(([pkg, version]) => installedVersion(pkg) !== version);
  if (missing.length) {
    fs.mkdirSync(DIR, { recursive: true });
    try {
      await run("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefix", DIR, ...missing.map(([pkg, v]) => `${pkg}@${v}`)], {
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      return { unavailable: `npm could not install ${missing.map(([p, v]) => `${p}@${v}`).join(" and ")}: ${(err as Error).message.split("\n")[0]}` };
    }
  }
  const bin = (name: string) => path.join(DIR, "node_modules", ".bin", name);
  for (const name of ["claude", "codex"]) {
    try {
      await run(bin(name), ["--version"], { timeout: 60_000 });
    } catch (err) {
      return { unavailable: `${name} does not run on this machine: ${(err as Error).message.split("\n")[0]}` };
    }
  }
  return { claude: bin("claude"), codex: bin("codex") };
}
