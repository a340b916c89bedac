import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { resetEnvCache } from "@/lib/env";
import { forgetFailures } from "@/lib/gateway/routing";
import { limits } from "@/lib/limits";
import { createKeygateServer } from "@/lib/http/front";

/**
 * Keygate's front server (lib/http/front.ts, as server.ts runs it) on a real
 * socket, with a stand-in for Next, so tests drive the gateway with the
 * official SDKs.
 */

export interface TestGateway {
  url: string;
  openai(apiKey: string): OpenAI;
  anthropic(apiKey: string): Anthropic;
  close(): Promise<void>;
}

export async function startGateway(): Promise<TestGateway> {
  // The real front of server.ts, with a stand-in for Next that answers 404.
  const server = createKeygateServer(async (_req, res) => void res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openai: (apiKey) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }),
    anthropic: (apiKey) => new Anthropic({ baseURL: url, apiKey, maxRetries: 0 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sets environment variables (undefined unsets one) for the gateway under test; returns what puts them back. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetEnvCache();
  };
  apply(vars);
  return () => apply(saved);
}

/** Forgets upstream failure streaks and ends every cooldown: for tests that make an upstream fail on purpose, so the next test starts afresh. */
export async function resetRouting(): Promise<void> {
  forgetFailures();
  for (const key of (await limits().cooldowns()).keys()) await limits().endCooldown(key);
}
