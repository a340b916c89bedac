import crypto from "node:crypto";
import zlib from "node:zlib";

/**
 * Key format (GitHub's token scheme): a type prefix, 32 random base62
 * characters, then a 6-character base62 CRC32 of everything before it.
 * The checksum lets us reject a mistyped or made-up key without a database
 * read, and lets secret scanners recognise a leaked Keygate key.
 * Only sha256(key) and a short display prefix are ever stored.
 */

export const KEY_PREFIXES = {
  credit: "sk_live_",
  subscription: "sk_pool_",
  management: "mk_",
} as const;

export type KeyKind = keyof typeof KEY_PREFIXES;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
/** Random characters kept in the display prefix (47 of 190 bits; the rest stay secret). */
const DISPLAY_RANDOM_CHARS = 8;

function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      // 248 = 4 * 62: rejecting the top bytes keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function toBase62(n: number, width: number): string {
  let out = "";
  let rest = n;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, "0");
}

export function checksum(body: string): string {
  return toBase62(zlib.crc32(body) >>> 0, CHECKSUM_LENGTH);
}

export function hashKey(key: string): string {
  return crypto.createHash("sha256").update(key).digest("hex");
}

export interface NewKey {
  /** The plaintext: returned to the caller once, never stored or logged. */
  key: string;
  hash: string;
  /** Safe to store and show: the type prefix and the first random characters. */
  prefix: string;
}

export function newKey(kind: KeyKind): NewKey {
  const body = KEY_PREFIXES[kind] + randomBase62(RANDOM_LENGTH);
  const key = body + checksum(body);
  return { key, hash: hashKey(key), prefix: displayPrefix(key, kind) };
}

function displayPrefix(key: string, kind: KeyKind): string {
  return key.slice(0, KEY_PREFIXES[kind].length + DISPLAY_RANDOM_CHARS);
}

const BASE62_RE = /^[0-9A-Za-z]+$/;

/**
 * The kind of a well-formed key whose checksum matches, or null. Pure: no I/O,
 * so a forged or mistyped key costs nothing to refuse.
 */
export function parseKey(candidate: string): KeyKind | null {
  for (const kind of Object.keys(KEY_PREFIXES) as KeyKind[]) {
    const prefix = KEY_PREFIXES[kind];
    if (!candidate.startsWith(prefix)) continue;
    if (candidate.length !== prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH) return null;
    const rest = candidate.slice(prefix.length);
    if (!BASE62_RE.test(rest)) return null;
    const body = candidate.slice(0, candidate.length - CHECKSUM_LENGTH);
    const sum = candidate.slice(candidate.length - CHECKSUM_LENGTH);
    if (!crypto.timingSafeEqual(Buffer.from(sum), Buffer.from(checksum(body)))) return null;
    return kind;
  }
  return null;
}

/** Matches anything that looks like Keygate key material (for log redaction and leak scans). */
export const KEY_MATERIAL_RE = /\b(?:sk_live_|sk_pool_|mk_)[0-9A-Za-z]{20,}/g;
