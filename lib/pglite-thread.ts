import path from "node:path";
import { Worker } from "node:worker_threads";
import { messages, types } from "@electric-sql/pglite";

/**
 * The embedded database on a thread of its own (issue 20): PGlite is
 * PostgreSQL compiled to WebAssembly, and it runs wherever it is called. In
 * the gateway's thread, every usage batch's inserts stopped the event loop
 * for as long as they took, and every request in flight waited. Here PGlite
 * lives in a worker (lib/pglite-worker.mjs), and this proxy offers the part
 * of PGlite's interface that pglite-prisma-adapter and lib/db.ts use: query,
 * exec, transaction (with query, exec and rollback), close.
 *
 * Rows cross the thread as PostgreSQL's text and are parsed here, with the
 * parsers the caller asked for (functions cannot be sent to a worker), so the
 * values are exactly what PGlite in this thread would have returned. A
 * DatabaseError is rebuilt as PGlite's own class, which the adapter checks
 * for (a unique violation stays SQLSTATE 23505).
 */

type Parsers = Record<number | string, (x: string, typeId?: number) => unknown>;
interface QueryOptions {
  rowMode?: "array" | "object";
  parsers?: Parsers;
}
interface Field {
  name: string;
  dataTypeID: number;
}
interface RawResults {
  rows: unknown[];
  fields: Field[];
  affectedRows?: number;
}
interface WorkerError {
  name: string;
  message: string;
  database: boolean;
  fields: Record<string, unknown>;
}
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerError };

export interface ThreadTransaction {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<{ rows: T[]; fields: Field[]; affectedRows?: number }>;
  exec(sql: string): Promise<Array<{ rows: unknown[]; fields: Field[]; affectedRows?: number }>>;
  rollback(): Promise<void>;
  readonly closed: boolean;
}

/** The worker's file: plain JavaScript beside this module's source, found from the project root (Next bundles this module elsewhere). */
export const PGLITE_WORKER_FILE = path.join(process.cwd(), "lib", "pglite-worker.mjs");

export class PGliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private nextTx = 1;
  private failure: Error | null = null;
  /** PGlite's parsers as an instance in this thread would hold them: its defaults, and one per array type of the database. */
  private readonly parsers: Parsers = { ...(types.parsers as Parsers) };
  readonly waitReady: Promise<void>;

  constructor(dataDir: string | undefined) {
    this.worker = new Worker(PGLITE_WORKER_FILE, { workerData: { dataDir: dataDir ?? null } });
    // The thread keeps the process alive only while a call is waiting for it, as a socket to a database server would.
    this.worker.unref();
    this.worker.on("message", (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(rebuild(m.error));
    });
    const die = (err: Error) => {
      this.failure ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", (err) => die(err));
    this.worker.on("exit", (code) => die(new Error(`the embedded database's thread exited (code ${code})`)));
    this.waitReady = this.call({ op: "ready" }).then((arrays) => {
      // As PGlite does for each array type: parse the elements with the element type's parser.
      for (const [oid, typarray] of arrays as Array<[number, number]>) {
        this.parsers[typarray] = (x) => types.arrayParser(x, this.parsers[oid], typarray);
      }
    });
  }

  private call(message: Record<string, unknown>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  async query<T>(sql: string, params: unknown[] = [], options: QueryOptions = {}, txId?: number) {
    const raw = (await this.call({ op: "query", sql, params, rowMode: options.rowMode, txId })) as RawResults;
    return parse<T>(raw, options, this.parsers);
  }

  async exec(sql: string, txId?: number) {
    const raw = (await this.call({ op: "exec", sql, txId })) as RawResults[];
    return raw.map((r) => parse(r, {}, this.parsers));
  }

  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws or calls `rollback()`. */
  async transaction<T>(fn: (tx: ThreadTransaction) => Promise<T>): Promise<T> {
    const txId = this.nextTx++;
    await this.call({ op: "begin", txId });
    let closed = false;
    const tx: ThreadTransaction = {
      query: (sql, params, options) => this.query(sql, params, options, txId),
      exec: (sql) => this.exec(sql, txId),
      rollback: async () => {
        closed = true;
        await this.call({ op: "rollback", txId });
      },
      get closed() {
        return closed;
      },
    };
    let value: T;
    try {
      value = await fn(tx);
    } catch (err) {
      await this.call({ op: "end", txId, commit: false }).catch(() => {});
      throw err;
    }
    closed = true;
    await this.call({ op: "end", txId, commit: true });
    return value;
  }

  async close(): Promise<void> {
    try {
      await this.call({ op: "close" });
    } finally {
      await this.worker.terminate();
    }
  }
}

/** Parses raw text rows as PGlite's own parseResults does: the query's parsers over the instance's. */
function parse<T>(raw: RawResults, options: QueryOptions, instance: Parsers): { rows: T[]; fields: Field[]; affectedRows?: number } {
  const parsers = options.parsers;
  const value = (x: unknown, type: number) => {
    if (x === null || typeof x !== "string") return x;
    const parser = parsers?.[type] ?? instance[type];
    return parser ? parser(x, type) : x;
  };
  const fields = raw.fields;
  const rows =
    options.rowMode === "array"
      ? raw.rows.map((r) => (r as unknown[]).map((x, i) => value(x, fields[i].dataTypeID)))
      : raw.rows.map((r) => {
          const row = r as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const f of fields) out[f.name] = value(row[f.name], f.dataTypeID);
          return out;
        });
  return { rows: rows as T[], fields, affectedRows: raw.affectedRows };
}

function rebuild(e: WorkerError): Error {
  const err = e.database ? new messages.DatabaseError(e.message, 0, "error") : new Error(e.message);
  Object.assign(err, e.fields);
  return err;
}
