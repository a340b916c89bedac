// The embedded database's own thread (lib/pglite-thread.ts starts it): PGlite
// runs here, so its work (a usage batch's inserts, a migration) never stops
// the gateway's event loop. Plain JavaScript, loaded by Node as it is, so it
// runs the same under tsx, Next's server bundle and Vitest.
//
// Messages in: {id, op, …}; out: {id, ok: true, value} or {id, ok: false,
// error}. Values come back as PostgreSQL's text (every parser is the
// identity here): the caller parses them with the parsers it asked for, which
// are functions and cannot cross threads.
import { parentPort, workerData } from "node:worker_threads";
import { messages, PGlite } from "@electric-sql/pglite";

const db = new PGlite(workerData.dataDir ?? undefined);

/**
 * Ready once PGlite is: its array types are read (the caller builds the same
 * array parsers PGlite would), then every parser PGlite holds becomes the
 * identity, so rows leave this thread as PostgreSQL's text.
 */
const ready = db.waitReady.then(async () => {
  const { rows } = await db.query(`
    SELECT b.oid, b.typarray
    FROM pg_catalog.pg_type a
    LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
    WHERE a.typcategory = 'A'
    GROUP BY b.oid, b.typarray
    ORDER BY b.oid
  `);
  for (const type of Object.keys(db.parsers)) db.parsers[type] = (x) => x;
  return rows.map((r) => [r.oid, r.typarray]);
});

/** Open transactions by id: PGlite's transaction object, the ops queued on it, and how to end it. */
const transactions = new Map();

class RolledBack extends Error {}

function errorOf(err) {
  if (err instanceof Error) {
    const fields = {};
    for (const [k, v] of Object.entries(err)) if (typeof v !== "function" && typeof v !== "object") fields[k] = v;
    return { name: err.name, message: err.message, database: err instanceof messages.DatabaseError, fields };
  }
  return { name: "Error", message: String(err), database: false, fields: {} };
}

function reply(id, run) {
  Promise.resolve()
    .then(run)
    .then(
      (value) => parentPort.postMessage({ id, ok: true, value }),
      (err) => parentPort.postMessage({ id, ok: false, error: errorOf(err) }),
    );
}

const shape = (r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows });

function begin(id, txId) {
  let started;
  const startedPromise = new Promise((resolve) => (started = resolve));
  const state = { tx: null, chain: Promise.resolve(), end: null, ended: null, began: null };
  state.ended = db
    .transaction(async (tx) => {
      state.tx = tx;
      const outcome = new Promise((resolve) => (state.end = resolve));
      started();
      if (!(await outcome)) throw new RolledBack("rolled back by the caller");
    })
    .catch((err) => {
      if (!(err instanceof RolledBack)) throw err;
    })
    .finally(() => transactions.delete(txId));
  transactions.set(txId, state);
  // Settles once the transaction is open (BEGIN ran), or with BEGIN's failure.
  state.began = Promise.race([startedPromise, state.ended.then(() => Promise.reject(new Error("the transaction ended before it began")))]);
  reply(id, () => state.began);
}

/**
 * Rolls back every transaction still open, after what was already sent for it.
 * PGlite's close() waits for the open transaction, and a transaction can lose
 * its owner: Prisma, disconnected while a transaction was still beginning,
 * never ends it. Without this, closing would wait forever.
 */
async function rollBackOpen() {
  const open = [...transactions.values()].map(async (s) => {
    try {
      await s.began;
    } catch {
      return; // BEGIN failed: nothing is open.
    }
    const run = s.chain.then(() => s.end(false));
    s.chain = run.catch(() => {});
    await s.ended.catch(() => {});
  });
  await Promise.all(open);
}

/** Runs `fn(tx)` after every earlier op of the same transaction, in the order they were sent. */
function inTransaction(id, txId, fn) {
  const state = transactions.get(txId);
  if (!state) return reply(id, () => Promise.reject(new Error(`no open transaction ${txId}`)));
  const run = state.chain.then(() => fn(state));
  state.chain = run.catch(() => {});
  reply(id, () => run);
}

parentPort.on("message", (m) => {
  switch (m.op) {
    case "ready":
      return reply(m.id, () => ready);
    case "query":
      if (m.txId !== undefined) return inTransaction(m.id, m.txId, (s) => s.tx.query(m.sql, m.params, { rowMode: m.rowMode }).then(shape));
      return reply(m.id, () => db.query(m.sql, m.params, { rowMode: m.rowMode }).then(shape));
    case "exec":
      if (m.txId !== undefined) return inTransaction(m.id, m.txId, (s) => s.tx.exec(m.sql).then((rs) => rs.map(shape)));
      return reply(m.id, () => db.exec(m.sql).then((rs) => rs.map(shape)));
    case "begin":
      return begin(m.id, m.txId);
    case "rollback":
      return inTransaction(m.id, m.txId, (s) => s.tx.rollback().then(() => null));
    case "end":
      return inTransaction(m.id, m.txId, (s) => {
        s.end(m.commit);
        return s.ended.then(() => null);
      });
    case "close":
      return reply(m.id, () => rollBackOpen().then(() => db.close().then(() => null)));
    default:
      return reply(m.id, () => Promise.reject(new Error(`unknown op ${m.op}`)));
  }
});
