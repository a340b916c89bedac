import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { messages, PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGliteThread } from "@/lib/pglite-thread";

/**
 * The embedded database on its own thread (lib/pglite-thread.ts) must answer
 * exactly as PGlite in the caller's thread does, for what the Prisma adapter
 * and lib/db.ts use, while leaving the caller's event loop free.
 */

let thread: PGliteThread;
let local: PGlite;

beforeAll(async () => {
  thread = new PGliteThread(undefined);
  local = new PGlite();
  await Promise.all([thread.waitReady, local.waitReady]);
  const schema = `
    CREATE TYPE kind AS ENUM ('credit', 'subscription');
    CREATE TABLE t (id text PRIMARY KEY, n int8, amount numeric, at timestamptz, day date, doc jsonb, bytes bytea, tags text[], kinds kind[], flag boolean, ratio float8, small int2);
    INSERT INTO t VALUES ('a', 9007199254740993, 1.25, '2026-02-28T23:59:59.123456Z', '2026-02-28', '{"models":["keygate/echo"],"n":1}', '\\x00ff', ARRAY['x','y,z','"q"'], ARRAY['credit','subscription']::kind[], true, 0.5, 7);
    INSERT INTO t (id) VALUES ('nulls');
  `;
  await thread.exec(schema);
  await local.exec(schema);
});

afterAll(async () => {
  await thread.close();
  await local.close();
});

/** The adapter's kind of parsers: some types to strings its own way. */
const adapterLike = {
  20: (x: string) => `int8:${x}`,
  1700: (x: string) => `numeric:${x}`,
  1184: (x: string) => `tz:${x}`,
  3802: (x: string) => `jsonb:${x}`,
};

describe("the embedded database's thread", () => {
  it("returns the same rows and fields as PGlite in this thread, with default and caller-given parsers, as objects and as arrays", async () => {
    const sql = "SELECT *, tags[2] AS second, array_length(kinds, 1) AS kinds_n FROM t ORDER BY id";
    for (const options of [{}, { rowMode: "array" as const }, { parsers: adapterLike }, { rowMode: "array" as const, parsers: adapterLike }]) {
      const there = await thread.query(sql, [], options);
      const here = await local.query(sql, [], options);
      expect(there.fields).toEqual(here.fields);
      expect(there.rows).toEqual(here.rows);
    }
  });

  it("sends parameters as PGlite does: bytes, dates, big integers, arrays and null", async () => {
    const sql = "SELECT $1::bytea AS b, $2::timestamptz AS at, $3::int8 AS n, $4::text[] AS tags, $5::text AS nothing";
    const params = [Buffer.from([1, 2, 3]), new Date("2026-12-07T00:00:00Z"), 9007199254740993n, ["a", "b"], null];
    expect((await thread.query(sql, params)).rows).toEqual((await local.query(sql, params)).rows);
  });

  it("rebuilds a database error as PGlite's DatabaseError with its SQLSTATE, which the Prisma adapter maps", async () => {
    const err = await thread.query("INSERT INTO t (id) VALUES ('a')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(messages.DatabaseError);
    expect(err).toMatchObject({ code: "23505", constraint: "t_pkey" });
  });

  it("commits a transaction whose function resolves, and rolls back one that throws or calls rollback()", async () => {
    expect(await thread.transaction(async (tx) => (await tx.query("INSERT INTO t (id) VALUES ('committed') RETURNING id")).rows)).toEqual([
      { id: "committed" },
    ]);
    await expect(
      thread.transaction(async (tx) => {
        await tx.query("INSERT INTO t (id) VALUES ('thrown')");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await thread.transaction(async (tx) => {
      await tx.query("INSERT INTO t (id) VALUES ('rolled-back')");
      await tx.rollback();
      expect(tx.closed).toBe(true);
    });
    const ids = (await thread.query<{ id: string }>("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id);
    expect(ids).toEqual(["a", "committed", "nulls"]);
  });

  it("runs a query sent outside a transaction only after the open transaction ends, as PGlite's one connection does", async () => {
    let insideDone = false;
    const tx = thread.transaction(async (t) => {
      await t.query("UPDATE t SET small = 8 WHERE id = 'a'");
      await new Promise((resolve) => setImmediate(resolve));
      insideDone = true;
    });
    const outside = thread.query<{ small: number }>("SELECT small FROM t WHERE id = 'a'").then((r) => ({ small: r.rows[0].small, insideDone }));
    await tx;
    expect(await outside).toEqual({ small: 8, insideDone: true });
  });

  it("leaves this thread's event loop free while the database works", async () => {
    let turns = 0;
    let working = true;
    const spin = () => {
      turns++;
      if (working) setImmediate(spin);
    };
    setImmediate(spin);
    await thread.query("SELECT count(*) FROM generate_series(1, 1000000)");
    working = false;
    // PGlite in this thread runs the whole query in one synchronous WebAssembly call: the loop turns a handful of times.
    expect(turns).toBeGreaterThan(100);
  });

  it("closes with a transaction whose owner never ends it, rolling it back (nothing of it is on disk after)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keygate-pglite-"));
    try {
      const own = new PGliteThread(dir);
      await own.waitReady;
      await own.exec("CREATE TABLE kept (id text)");
      let inside!: () => void;
      const began = new Promise<void>((resolve) => (inside = resolve));
      // The owner writes, then never resolves: Prisma does this to a transaction it abandons on disconnect.
      void own
        .transaction(async (tx) => {
          await tx.query("INSERT INTO kept VALUES ('abandoned')");
          inside();
          await new Promise(() => {});
        })
        .catch(() => {});
      await began;
      await own.close(); // Bounded by the test's timeout: PGlite's own close() waits for the transaction forever.
      const reopened = new PGlite(dir);
      expect((await reopened.query("SELECT id FROM kept")).rows).toEqual([]);
      await reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
