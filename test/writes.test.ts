import { afterEach, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { createCreditKeySchema, updateKeySchema } from "@/lib/keys/schemas";
import { SCOPES } from "@/lib/keys/scopes";
import { createCreditKey as issueCreditKey, updateKey } from "@/lib/keys/service";
import { verifyKey } from "@/lib/keys/verify";
import { onCommitted, write, type CommittedWrite } from "@/lib/writes/unit";
import { call, createUser } from "./api";
import { createCreditKey, createManagementKey, testActor } from "./fixtures";

/**
 * The unit of work (lib/writes/unit.ts): a write's consequences (here, the
 * key cache following a key's row) are carried out after its transaction
 * commits and before the call returns, never for a write that rolled back;
 * listeners hear who acted; a service called inside another write joins it.
 */

let stopListening: (() => void) | undefined;
afterEach(() => {
  stopListening?.();
  stopListening = undefined;
});

function listen(): CommittedWrite[] {
  const heard: CommittedWrite[] = [];
  stopListening = onCommitted((committed) => void heard.push(committed));
  return heard;
}

/** A credit key's fields as the API would have parsed them. */
const creditKey = (name: string) => createCreditKeySchema.parse({ name });

/** Pauses the key's row behind the cache's back: no unit, so nothing tells the cache. */
async function pauseRowOnly(keyId: string): Promise<void> {
  await (await prisma()).apiKey.update({ where: { id: keyId }, data: { isActive: false } });
}

describe("the unit of work", () => {
  it("runs a write's consequences after commit, and not at all when its transaction rolls back", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    expect((await verifyKey(key.apiKey)).code).toBe("valid");
    await pauseRowOnly(key.id);
    // The cache still holds the key as it was: only a committed write's consequence may change that.
    expect((await verifyKey(key.apiKey)).code).toBe("valid");
    const heard = listen();

    const failing = write(testActor(user.id), async (tx, after) => {
      await tx.apiKey.update({ where: { id: key.id }, data: { name: "never" } });
      after.keyChanged(key.id);
      throw new Error("the write fails after declaring its consequence");
    });
    await expect(failing).rejects.toThrow("the write fails");
    expect((await verifyKey(key.apiKey)).code).toBe("valid");
    expect(heard).toEqual([]);
    const row = await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.name).toBe("test-key");

    let seenByListener: string | undefined;
    stopListening?.();
    stopListening = onCommitted(async () => {
      // Read outside the transaction: the change is already committed when listeners hear of it.
      seenByListener = (await (await prisma()).apiKey.findUniqueOrThrow({ where: { id: key.id } })).name;
    });
    await write(testActor(user.id), async (tx, after) => {
      await tx.apiKey.update({ where: { id: key.id }, data: { name: "renamed" } });
      after.keyChanged(key.id);
    });
    // Carried out before write() returned: the very next verification reads the paused row.
    expect((await verifyKey(key.apiKey)).code).toBe("key_inactive");
    expect(seenByListener).toBe("renamed");
  });

  it("tells listeners who acted: an mk_ key's via, managementKeyId, client address, user agent and request id", async () => {
    const user = await createUser({ creditUsd: 5 });
    const key = await createCreditKey(user);
    const mk = await createManagementKey(user);
    const heard = listen();
    const res = await call("PUT", `/api/keys/${key.id}`, {
      token: mk.apiKey,
      body: { isActive: false },
      headers: { "x-forwarded-for": "203.0.113.7", "user-agent": "keygate-test/1.0", "x-request-id": "req-writes-1" },
    });
    expect(res.status, res.text).toBe(200);
    expect(heard).toEqual([
      {
        actor: {
          userId: user.id,
          via: "management-key",
          managementKeyId: mk.id,
          scopes: SCOPES,
          clientAddress: "203.0.113.7",
          userAgent: "keygate-test/1.0",
          requestId: "req-writes-1",
          // The operation's declaration, for the audit row the unit wrote.
          audit: { action: "key.update", targetType: "key" },
        },
        consequences: [{ kind: "key.changed", keyId: key.id }],
      },
    ]);
  });

  it("tells listeners when a session or the operator acted, and an anonymous sign-up", async () => {
    const heard = listen();
    const user = await createUser({ creditUsd: 1 });
    // createUser signs up, takes a session token (a unit holding only its auth.sign_in audit row), then is granted credit.
    const [signUp, signIn, grant] = heard;
    expect(signUp.actor).toMatchObject({ userId: null, via: "anonymous" });
    expect(signUp.consequences).toEqual([]);
    expect(signIn.actor).toMatchObject({ userId: null, via: "anonymous", audit: { action: "auth.sign_in" } });
    expect(signIn.consequences).toEqual([]);
    expect(grant.actor).toMatchObject({ userId: null, via: "admin" });
    expect(grant.consequences).toEqual([{ kind: "balance.changed", userId: user.id, deltaMicros: BigInt(1_000_000) }]);
    await createCreditKey(user);
    expect(heard[3].actor).toMatchObject({ userId: user.id, via: "session", session: "session-token" });
    expect(heard[3].consequences).toMatchObject([{ kind: "key.created" }]);
  });

  it("registers a nested service call on the outer unit: its consequences run once, after the outer commit", async () => {
    const user = await createUser({ creditUsd: 5 });
    const actor = testActor(user.id);
    const heard = listen();
    let createdKey = "";
    const id = await write(actor, async (tx) => {
      const { record, apiKey } = await issueCreditKey(actor, creditKey("nested"), tx);
      createdKey = apiKey;
      await updateKey(actor, record.id, updateKeySchema.parse({ name: "nested, renamed" }), tx);
      // Nothing has been carried out yet: the outer transaction has not committed.
      expect(heard).toEqual([]);
      return record.id;
    });
    expect(heard).toHaveLength(1);
    expect(heard[0].actor).toBe(actor);
    expect(heard[0].consequences).toEqual([
      { kind: "key.created", keyId: id, keyHash: expect.any(String) },
      { kind: "key.changed", keyId: id },
    ]);
    expect((await verifyKey(createdKey)).code).toBe("valid");
  });

  it("rolls back a nested service call with its outer unit: no row, no consequence", async () => {
    const user = await createUser({ creditUsd: 5 });
    const actor = testActor(user.id);
    const heard = listen();
    let createdId = "";
    const outer = write(actor, async (tx) => {
      createdId = (await issueCreditKey(actor, creditKey("doomed"), tx)).record.id;
      throw new Error("the outer write fails");
    });
    await expect(outer).rejects.toThrow("the outer write fails");
    expect(createdId).not.toBe("");
    expect(await (await prisma()).apiKey.findUnique({ where: { id: createdId } })).toBeNull();
    expect(heard).toEqual([]);
  });

  it("refuses to join a transaction it did not open, whose consequences would be lost", async () => {
    const user = await createUser({ creditUsd: 5 });
    const db = await prisma();
    await expect(db.$transaction((tx) => issueCreditKey(testActor(user.id), creditKey("lost"), tx))).rejects.toThrow(/not opened by write/);
  });
});
