import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { freePort } from "./free-port";

/**
 * A private redis-server for one test file (Debian's, as .ci/run installs
 * it): its own port, nothing on disk, so tests can stop and restart it, or
 * flush it, without touching anything else.
 */

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGKILL: what a crash or a network cut looks like to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        if (up) resolve();
        else retry();
      });
      socket.once("error", () => {
        socket.destroy();
        if (!up) resolve();
        else retry();
      });
    };
    const retry = () => (Date.now() > deadline ? reject(new Error(`redis on ${port} did not go ${up ? "up" : "down"}`)) : setTimeout(attempt, 25));
    attempt();
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"], {
      stdio: "ignore",
    });
    await waitForPort(port, true);
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = null;
    const exited = new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once("exit", () => resolve())));
    c.kill("SIGKILL");
    await exited;
    await waitForPort(port, false);
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, start, stop, close: stop };
}
