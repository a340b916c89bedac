import { describe, expect, it } from "vitest";
import { closeDb, prisma } from "@/lib/db";

/**
 * Shutdown must not wait forever. Prisma, disconnected while one of its
 * transactions is still beginning, abandons it without ending it, and
 * PGlite's close() waited for that transaction. A background write (the
 * usage writer's tick, a sweep) starting as the process stops is exactly
 * that; it hung a test file's teardown in CI.
 */
describe("closing the database", () => {
  it("finishes while a transaction that Prisma abandoned was still beginning", async () => {
    const db = await prisma();
    await db.$queryRawUnsafe("SELECT 1");
    // Starts a transaction and closes in the same tick, so Prisma disconnects before BEGIN has answered.
    // Its timeout, longer than the test's, keeps Prisma's own expiry from ending it for us.
    void db.$transaction(async (t) => void (await t.$queryRawUnsafe("SELECT 1")), { maxWait: 60_000, timeout: 60_000 }).catch(() => {});
    // The test's own timeout is the bound: before the fix this did not return on the embedded database.
    await closeDb();
    // A new handle opens and answers: nothing of the old one is held.
    expect(await (await prisma()).$queryRawUnsafe<Array<{ one: number }>>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});
