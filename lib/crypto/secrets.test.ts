import { afterEach, describe, expect, it } from "vitest";
import { currentSecretKey, decryptSecret, encryptSecret, isCurrentSecret, SecretDecryptionError, secretKeyId } from "@/lib/crypto/secrets";
import { setEnv } from "@/test/gateway";

/**
 * Upstream secrets at rest: AES-256-GCM under an HKDF-derived key, a fresh IV
 * per value, the key's id in the value so a key change can be rolled out.
 */

const KEY_A = "key-a-0123456789abcdefghijklmnopqrstuvwxyz";
const KEY_B = "key-b-0123456789abcdefghijklmnopqrstuvwxyz";

let restore: (() => void) | undefined;
function use(vars: Record<string, string | undefined>) {
  restore?.();
  restore = setEnv(vars);
}
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Flips one character of the base64url part at `index` of a stored value. */
function flip(stored: string, index: number): string {
  const parts = stored.split(".");
  const part = parts[index];
  const at = Math.floor(part.length / 2);
  parts[index] = part.slice(0, at) + (part[at] === "A" ? "B" : "A") + part.slice(at + 1);
  return parts.join(".");
}

describe("encrypted secrets", () => {
  it("round-trips a value, and never stores the plaintext or the same ciphertext twice (random IV)", () => {
    use({ KEYGATE_ENCRYPTION_KEY: KEY_A });
    const secret = "sk-upstream-ROUNDTRIP-ünïcødé-0123456789";
    const a = encryptSecret(secret, "upstream.apiKey");
    const b = encryptSecret(secret, "upstream.apiKey");
    expect(a).not.toContain("ROUNDTRIP");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(decryptSecret(a, "upstream.apiKey")).toBe(secret);
    expect(decryptSecret(b, "upstream.apiKey")).toBe(secret);
  });

  it("derives the key from the session secret when KEYGATE_ENCRYPTION_KEY is unset, and a different key when it is set", () => {
    use({ KEYGATE_ENCRYPTION_KEY: undefined });
    const fromSession = currentSecretKey().id;
    const sealed = encryptSecret("v", "ctx");
    use({ KEYGATE_ENCRYPTION_KEY: KEY_A });
    expect(currentSecretKey().id).not.toBe(fromSession);
    expect(() => decryptSecret(sealed, "ctx")).toThrow(SecretDecryptionError);
  });

  it("detects tampering (GCM authentication) with a clear SecretDecryptionError, not a crash", () => {
    use({ KEYGATE_ENCRYPTION_KEY: KEY_A });
    const sealed = encryptSecret("sk-tamper-me-0123456789", "upstream.apiKey");
    for (const altered of [flip(sealed, 3), flip(sealed, 2)]) {
      expect(() => decryptSecret(altered, "upstream.apiKey")).toThrow(SecretDecryptionError);
      expect(() => decryptSecret(altered, "upstream.apiKey")).toThrow(/integrity check|malformed/);
    }
    // A value moved to another field does not open there either.
    expect(() => decryptSecret(sealed, "upstream.headers")).toThrow(/integrity check/);
    for (const junk of ["", "plaintext", "v1.x.y", `v2${sealed.slice(2)}`, sealed.split(".").slice(0, 3).join(".") + ".AAAA"]) {
      expect(() => decryptSecret(junk, "upstream.apiKey"), junk).toThrow(SecretDecryptionError);
    }
  });

  it("rotates: after a key change, values sealed with the old key open only while it is KEYGATE_ENCRYPTION_KEY_PREVIOUS", () => {
    use({ KEYGATE_ENCRYPTION_KEY: KEY_A });
    const old = encryptSecret("sk-rotate-0123456789", "upstream.apiKey");
    const oldId = secretKeyId(old);

    use({ KEYGATE_ENCRYPTION_KEY: KEY_B });
    expect(() => decryptSecret(old, "upstream.apiKey")).toThrow(/KEYGATE_ENCRYPTION_KEY_PREVIOUS/);

    use({ KEYGATE_ENCRYPTION_KEY: KEY_B, KEYGATE_ENCRYPTION_KEY_PREVIOUS: KEY_A });
    expect(decryptSecret(old, "upstream.apiKey")).toBe("sk-rotate-0123456789");
    expect(isCurrentSecret(old)).toBe(false);
    const resealed = encryptSecret(decryptSecret(old, "upstream.apiKey"), "upstream.apiKey");
    expect(isCurrentSecret(resealed)).toBe(true);
    expect(secretKeyId(resealed)).not.toBe(oldId);

    use({ KEYGATE_ENCRYPTION_KEY: KEY_B });
    expect(decryptSecret(resealed, "upstream.apiKey")).toBe("sk-rotate-0123456789");
  });

  it("refuses a placeholder or short KEYGATE_ENCRYPTION_KEY at start-up", () => {
    use({ KEYGATE_ENCRYPTION_KEY: "changeme" });
    expect(() => currentSecretKey()).toThrow(/KEYGATE_ENCRYPTION_KEY/);
  });
});
