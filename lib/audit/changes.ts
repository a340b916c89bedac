/**
 * The `changes` of an audit row: each changed field → [before, after], as
 * JSON. Secrets never get in: every value passes through `auditChanges`,
 * the one place that filters them, by field name (an explicit denylist) and,
 * in case a secret travels under another name, by shape.
 */

export type AuditValue = string | number | boolean | null | AuditValue[] | { [k: string]: AuditValue };
export type Changes = Record<string, [AuditValue, AuditValue]>;

/** Shown instead of a secret's value: the row still says that it changed. */
export const REDACTED = "[secret]";

/**
 * Fields whose values are secrets or derive from one: key hashes, password
 * (hashes), upstream API keys and header values, webhook signing secrets,
 * key material shown once, anything encrypted. Matched case-insensitively on
 * the field name.
 */
const SECRET_FIELDS = /^(keyhash|password|passwordhash|apikey|key|secret|token|headers|.*ciphertext|.*encrypted.*|.*secret)$/i;

/** Values that look like secrets whatever their field: Keygate keys, webhook secrets, argon2 hashes, bare SHA-256 hex. */
const SECRET_VALUES = [/\b(sk_live|sk_pool|mk)_[A-Za-z0-9]{20,}/, /\bwhsec_[A-Za-z0-9+/=]{16,}/, /\$argon2/, /^[0-9a-f]{64}$/i];

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.test(name);
}

function toValue(v: unknown): AuditValue {
  if (v === undefined || v === null) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "string") return SECRET_VALUES.some((re) => re.test(v)) ? REDACTED : v;
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map(toValue);
  if (typeof v === "object") {
    const out: Record<string, AuditValue> = {};
    for (const [k, inner] of Object.entries(v)) out[k] = isSecretField(k) ? REDACTED : toValue(inner);
    return out;
  }
  return String(v);
}

/** `changes` as stored: JSON values, secrets replaced by REDACTED. */
export function auditChanges(changes: Record<string, [unknown, unknown]>): Changes {
  const out: Changes = {};
  for (const [field, [before, after]] of Object.entries(changes)) {
    out[field] = isSecretField(field) ? [before == null ? null : REDACTED, after == null ? null : REDACTED] : [toValue(before), toValue(after)];
  }
  return out;
}

/**
 * The fields that differ between two states of a row ([before, after] each),
 * among `fields` (default: every field of either). A create is diff(null,
 * row), a delete diff(row, null). Fields are compared as stored JSON, so a
 * Date and its ISO string, or a bigint and its number, are the same.
 */
export function diff(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  fields?: readonly string[],
): Record<string, [unknown, unknown]> {
  const names = fields ?? [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of names) {
    const b = before?.[f] ?? null;
    const a = after?.[f] ?? null;
    if (JSON.stringify(toValue(b)) !== JSON.stringify(toValue(a))) out[f] = [b, a];
  }
  return out;
}

/** Only the named fields of a row: what a create or delete records (never the whole row, which may hold a hash). */
export function pick<T extends object, K extends keyof T>(row: T, fields: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const f of fields) out[f] = row[f];
  return out;
}
