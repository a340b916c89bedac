import { spawn, type ChildProcess } from "node:child_process";
import OpenAI from "openai";

/**
 * Another Keygate instance for multi-instance tests: test/instance.ts (the
 * real front server, gateway and key routes) in a process of its own, with
 * `env` over this process's environment.
 */

export interface Instance {
  url: string;
  child: ChildProcess;
  openai(apiKey: string): OpenAI;
  post(path: string, token: string, body: unknown): Promise<Response>;
  put(path: string, token: string, body: unknown): Promise<Response>;
  /** Stops it (SIGTERM by default: a graceful stop; SIGKILL for a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startInstance(env: Record<string, string>): Promise<Instance> {
  // node itself, with tsx as a loader: tsx's CLI would run the server in a child process that a SIGKILL of the CLI leaves alive.
  const child = spawn(process.execPath, ["--import", "tsx", "test/instance.ts"], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`instance did not start: ${out}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`instance exited (${code}): ${out}`)));
  });
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const send = (method: string) => (p: string, token: string, body: unknown) =>
    fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return {
    url,
    child,
    openai: (apiKey) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }),
    post: send("POST"),
    put: send("PUT"),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(signal);
      await exited;
    },
  };
}
