import { KEY_MATERIAL_RE } from "@/lib/keys/format";

/** Strips anything shaped like a Keygate key before text reaches a log. */
export function redact(text: string): string {
  return text.replace(KEY_MATERIAL_RE, (m) => `${m.slice(0, m.indexOf("_", 3) + 1 || 3)}[redacted]`);
}
