import crypto from "node:crypto";
import { authSecret, env } from "@/lib/env";

/**
 * Secrets Keygate must send on (upstream API keys and header values) cannot
 * be hashed like our own keys, so they are encrypted at rest: AES-256-GCM
 * with a random 12-byte IV per value, under a key derived with HKDF-SHA256
 * from KEYGATE_ENCRYPTION_KEY, or from the session secret when that is unset.
 * A database dump or backup then holds no usable upstream credential.
 *
 * A stored value reads `v1.<key id>.<iv>.<ciphertext + tag>` (base64url). The
 * key id names the key that sealed it, so after a key change
 * (KEYGATE_ENCRYPTION_KEY_PREVIOUS set to the old one) each value is opened
 * with the right key, and is re-sealed with the current one on its next
 * write, or by `npm run secrets:reencrypt` (docs/operations.md).
 */

const VERSION = "v1";
const SALT = Buffer.from("keygate/secrets/v1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKey {
  /** 8 base64url characters derived from the key material; not secret, not the key. */
  id: string;
  key: Buffer;
}

/** A stored secret that cannot be opened: sealed under a key this server lacks, altered, or not ours at all. */
export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
}

function derive(material: string): SecretKey {
  const ikm = Buffer.from(material, "utf8");
  const key = Buffer.from(crypto.hkdfSync("sha256", ikm, SALT, "aes-256-gcm key", 32));
  const id = Buffer.from(crypto.hkdfSync("sha256", ikm, SALT, "key id", 6)).toString("base64url");
  return { id, key };
}

const derived = new Map<string, SecretKey>();
function keyFor(material: string): SecretKey {
  let k = derived.get(material);
  if (!k) derived.set(material, (k = derive(material)));
  return k;
}

/** The key new values are sealed with: KEYGATE_ENCRYPTION_KEY, else the session secret. */
export function currentSecretKey(): SecretKey {
  return keyFor(env().KEYGATE_ENCRYPTION_KEY ?? authSecret());
}

/** Every key a stored value may be opened with: the current one, then KEYGATE_ENCRYPTION_KEY_PREVIOUS. */
function openingKeys(): SecretKey[] {
  const keys = [currentSecretKey()];
  const previous = env().KEYGATE_ENCRYPTION_KEY_PREVIOUS;
  if (previous) keys.push(keyFor(previous));
  return keys;
}

/**
 * Seals `plaintext`. `context` (what the value is, e.g. "upstream.apiKey") is
 * authenticated with it, so a value copied into another field does not open.
 */
export function encryptSecret(plaintext: string, context: string): string {
  const { id, key } = currentSecretKey();
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(id, context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, id, iv.toString("base64url"), body.toString("base64url")].join(".");
}

/** Opens a value encryptSecret sealed; throws SecretDecryptionError (never a crypto internals error) when it cannot. */
export function decryptSecret(stored: string, context: string): string {
  const parts = stored.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new SecretDecryptionError(`A stored ${context} is not in Keygate's encrypted format (${VERSION}.<key id>.<iv>.<data>); it cannot be read.`);
  }
  const [, id, ivText, bodyText] = parts;
  const key = openingKeys().find((k) => k.id === id);
  if (!key) {
    throw new SecretDecryptionError(
      `A stored ${context} was encrypted with a key this server does not have (key id ${id}). Set KEYGATE_ENCRYPTION_KEY_PREVIOUS to the key it was written with (see docs/operations.md, "Changing the encryption key").`,
    );
  }
  const iv = Buffer.from(ivText, "base64url");
  const body = Buffer.from(bodyText, "base64url");
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
    throw new SecretDecryptionError(`A stored ${context} is truncated or malformed; it cannot be read.`);
  }
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", key.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(id, context));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretDecryptionError(
      `A stored ${context} failed its integrity check (AES-GCM authentication): it was altered, or belongs to another field. Enter the secret again.`,
    );
  }
}

/** The key id a stored value was sealed with, or null when it is not in our format. */
export function secretKeyId(stored: string): string | null {
  const parts = stored.split(".");
  return parts.length === 4 && parts[0] === VERSION ? parts[1] : null;
}

/** Whether the value is sealed with the current key (false: re-encrypt it). */
export function isCurrentSecret(stored: string): boolean {
  return secretKeyId(stored) === currentSecretKey().id;
}

function aad(id: string, context: string): Buffer {
  return Buffer.from(`${VERSION}.${id}.${context}`, "utf8");
}
