import { describe, expect, it } from "vitest";
import { checksum, hashKey, KEY_PREFIXES, newKey, parseKey } from "@/lib/keys/format";

describe("key format", () => {
  it("generates keys of the documented shape for every kind: prefix, 32 base62 characters, 6-character checksum", () => {
    for (const kind of ["credit", "subscription", "management"] as const) {
      const { key, prefix } = newKey(kind);
      expect(key).toMatch(new RegExp(`^${KEY_PREFIXES[kind]}[0-9A-Za-z]{38}$`));
      expect(key.slice(-6)).toBe(checksum(key.slice(0, -6)));
      expect(key.startsWith(prefix)).toBe(true);
      expect(prefix.length).toBe(KEY_PREFIXES[kind].length + 8);
    }
  });

  it("recognises its own keys and their kind", () => {
    expect(parseKey(newKey("credit").key)).toBe("credit");
    expect(parseKey(newKey("subscription").key)).toBe("subscription");
    expect(parseKey(newKey("management").key)).toBe("management");
  });

  it("rejects any single-character typo through the checksum", () => {
    const { key } = newKey("management");
    for (let i = 3; i < key.length; i++) {
      const c = key[i] === "a" ? "b" : "a";
      expect(parseKey(key.slice(0, i) + c + key.slice(i + 1))).toBeNull();
    }
  });

  it("rejects truncated, extended, foreign and non-base62 strings", () => {
    const { key } = newKey("credit");
    expect(parseKey(key.slice(0, -1))).toBeNull();
    expect(parseKey(key + "0")).toBeNull();
    expect(parseKey("sk-" + key.slice(3))).toBeNull();
    expect(parseKey(key.slice(0, 10) + "-" + key.slice(11))).toBeNull();
    expect(parseKey("")).toBeNull();
  });

  it("never produces the same key twice and hashes deterministically", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newKey("credit").key));
    expect(keys.size).toBe(1000);
    const { key, hash } = newKey("credit");
    expect(hashKey(key)).toBe(hash);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(key);
  });
});
