import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";

/**
 * Scalar's standalone browser bundle (one file, registers `window.Scalar`),
 * served from our own origin so /docs works with no internet access. The
 * Next.js adapter would load it from cdn.jsdelivr.net.
 *
 * The file is not in @scalar/api-reference's `exports`, so it is read from
 * node_modules by path; `npm start` runs in the project root.
 */
const BUNDLE_FILE = path.join(process.cwd(), "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");

export interface ScalarBundle {
  body: Uint8Array<ArrayBuffer>;
  /** Hex SHA-256 prefix of the file: part of its URL, so it can be cached forever. */
  hash: string;
}

const globalForBundle = globalThis as unknown as { keygateScalarBundle?: Promise<ScalarBundle> };

/** Read once per process (about 4 MB) and kept in memory. */
export function scalarBundle(): Promise<ScalarBundle> {
  const loading = (globalForBundle.keygateScalarBundle ??= readFile(BUNDLE_FILE).then((file) => ({
    body: Uint8Array.from(file),
    hash: createHash("sha256").update(file).digest("hex").slice(0, 16),
  })));
  // A failed read (a broken install) is retried on the next request, not cached.
  loading.catch(() => {
    if (globalForBundle.keygateScalarBundle === loading) delete globalForBundle.keygateScalarBundle;
  });
  return loading;
}

export const SCALAR_BUNDLE_PATH = "/docs/scalar.js";
