import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authSecret, ConfigError, env, listenHost, publicOrigin, resetEnvCache } from "@/lib/env";

const saved = { ...process.env };

function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetEnvCache();
}

describe("configuration", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-env-"));
  });
  afterEach(() => {
    process.env = { ...saved };
    resetEnvCache();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("generates a session secret once and keeps it in the data directory across restarts", () => {
    setEnv({ NEXTAUTH_SECRET: undefined, KEYGATE_DATA_DIR: dir, DATABASE_URL: undefined });
    const first = authSecret();
    expect(first.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, "auth-secret");
    expect(fs.readFileSync(file, "utf8").trim()).toBe(first);
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    resetEnvCache();
    expect(authSecret()).toBe(first);
  });

  it("refuses a short or placeholder NEXTAUTH_SECRET with a message saying how to make one", () => {
    setEnv({ NEXTAUTH_SECRET: "too-short" });
    expect(() => env()).toThrow(ConfigError);
    expect(() => env()).toThrow(/at least 32 characters.*openssl rand/);
    setEnv({ NEXTAUTH_SECRET: "changeme".padEnd(8) });
    expect(() => env()).toThrow(ConfigError);
  });

  it("refuses to run in production on a shared database without an explicit NEXTAUTH_SECRET", () => {
    setEnv({ NODE_ENV: "production", NEXTAUTH_SECRET: undefined, DATABASE_URL: "postgresql://u@127.0.0.1:5432/db", KEYGATE_DATA_DIR: dir });
    expect(() => authSecret()).toThrow(/NEXTAUTH_SECRET is required when DATABASE_URL is set in production/);
    expect(fs.existsSync(path.join(dir, "auth-secret"))).toBe(false);
  });

  it("names every invalid variable at once, and treats blank values as unset", () => {
    setEnv({ DATABASE_URL: "mysql://x", PORT: "99999", ADMIN_API_TOKEN: "short", NEXTAUTH_URL: "" });
    let message = "";
    try {
      env();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/DATABASE_URL: DATABASE_URL must be a postgresql:\/\/ connection string/);
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/ADMIN_API_TOKEN must be at least 24 characters/);
    expect(message).not.toMatch(/NEXTAUTH_URL/);
  });

  it("listens on this machine only while a demo login is printed at start, unless HOST says otherwise", () => {
    setEnv({ DATABASE_URL: undefined, KEYGATE_DEMO_ACCOUNT: "auto", HOST: undefined, NEXTAUTH_URL: undefined, PORT: "3000" });
    expect(listenHost()).toBe("127.0.0.1");
    expect(publicOrigin()).toBe("http://127.0.0.1:3000");
    setEnv({ HOST: "0.0.0.0" });
    expect(listenHost()).toBe("0.0.0.0");
    expect(publicOrigin()).toBe("http://localhost:3000");
    setEnv({ HOST: undefined, KEYGATE_DEMO_ACCOUNT: "off" });
    expect(listenHost()).toBeUndefined();
    setEnv({ KEYGATE_DEMO_ACCOUNT: "auto", DATABASE_URL: "postgresql://u@127.0.0.1:5432/db" });
    expect(listenHost()).toBeUndefined();
    setEnv({ NEXTAUTH_URL: "https://keys.example.com/some/path" });
    expect(publicOrigin()).toBe("https://keys.example.com");
  });

  it("reads TRUST_PROXY as addresses, CIDRs and the loopback/private shorthands, IPv4 and IPv6; unset trusts no proxy", () => {
    setEnv({ TRUST_PROXY: undefined });
    expect(env().TRUST_PROXY).toEqual([]);
    setEnv({ TRUST_PROXY: " 127.0.0.1, 10.0.0.0/8 ,::1,2001:db8::/32" });
    expect(env().TRUST_PROXY).toEqual([
      { address: "127.0.0.1", prefix: 32, family: "ipv4" },
      { address: "10.0.0.0", prefix: 8, family: "ipv4" },
      { address: "::1", prefix: 128, family: "ipv6" },
      { address: "2001:db8::", prefix: 32, family: "ipv6" },
    ]);
    setEnv({ TRUST_PROXY: "loopback,private" });
    expect(env().TRUST_PROXY.map((n) => `${n.address}/${n.prefix}`)).toEqual([
      "127.0.0.0/8",
      "::1/128",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "fc00::/7",
    ]);
  });

  it("refuses a malformed TRUST_PROXY entry, naming the entry", () => {
    for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.1/", "::1/129", "300.1.1.1", "true"]) {
      setEnv({ TRUST_PROXY: `127.0.0.1,${bad}` });
      expect(() => env(), bad).toThrow(ConfigError);
      expect(() => env(), bad).toThrow(`TRUST_PROXY entry "${bad}" is not an IP address`);
    }
  });

  it("refuses the retired KEYGATE_TRUST_PROXY, whatever its value, with a message saying how to write TRUST_PROXY", () => {
    for (const value of ["true", "false", "1"]) {
      setEnv({ KEYGATE_TRUST_PROXY: value });
      expect(() => env()).toThrow(/KEYGATE_TRUST_PROXY was replaced by TRUST_PROXY.*TRUST_PROXY=loopback/);
    }
    setEnv({ KEYGATE_TRUST_PROXY: "" });
    expect(() => env()).not.toThrow();
  });

  it("accepts the pino levels in LOG_LEVEL, and refuses a short METRICS_TOKEN", () => {
    setEnv({ LOG_LEVEL: "Debug" });
    expect(env().LOG_LEVEL).toBe("debug");
    setEnv({ LOG_LEVEL: "loud" });
    expect(() => env()).toThrow(/LOG_LEVEL must be one of/);
    setEnv({ LOG_LEVEL: undefined, METRICS_TOKEN: "short" });
    expect(() => env()).toThrow(/METRICS_TOKEN must be at least 16 characters/);
  });
});
