import { prisma } from "@/lib/db";
import type { LedgerKind } from "@/generated/prisma/client.ts";
import type { Actor, UserActor } from "@/lib/auth/actor";
import { NotFoundError } from "@/lib/http/errors";
import { keysetPage, NEWEST_FIRST, type PageRequest } from "@/lib/paging";
import { write, type After, type Tx } from "@/lib/writes/unit";
import { microsToUsd } from "@/lib/billing/money";
import { recordLowBalance } from "@/lib/webhooks/events";
import { LEDGER_PAGE_SIZE, type LedgerEntryView } from "@/lib/billing/schemas";

/**
 * The credit balance comes from an append-only ledger of grants, top-ups,
 * usage debits and subscription charges. User.balanceMicros is the ledger's
 * sum, updated in the same transaction as every append, so reading a balance
 * never sums the ledger.
 */

export async function balanceMicros(userId: string, tx?: Tx): Promise<bigint> {
  const db = tx ?? (await prisma());
  const user = await db.user.findUnique({ where: { id: userId }, select: { balanceMicros: true } });
  return user?.balanceMicros ?? BigInt(0);
}

/**
 * Appends an entry and moves the balance row with it, inside a write: once
 * that write commits, the gateway's view of the balance follows.
 */
export async function appendEntry(
  tx: Tx,
  after: After,
  entry: { userId: string; kind: LedgerKind; amountMicros: bigint; note?: string | null; apiKeyId?: string | null; idempotencyKey?: string | null },
) {
  const row = await tx.ledgerEntry.create({ data: { ...entry, note: entry.note ?? null } });
  await tx.user.update({ where: { id: entry.userId }, data: { balanceMicros: { increment: entry.amountMicros } } });
  // A charge (a subscription) can take the balance below the account's low-balance alert, like usage does.
  if (entry.amountMicros < BigInt(0)) await recordLowBalance(tx, [{ userId: entry.userId, micros: -entry.amountMicros }], new Date());
  after.balanceChanged(entry.userId, entry.amountMicros);
  return row;
}

/** An operator's grant (POST /api/admin/credits). Returns the new balance. */
export async function grantCredit(actor: Actor, input: { email: string; amountMicros: bigint; note?: string }, outer?: Tx) {
  return write(
    actor,
    async (tx, after) => {
      const user = await tx.user.findUnique({ where: { email: input.email }, select: { id: true, email: true, balanceMicros: true } });
      if (!user) throw new NotFoundError(`No account uses the email ${input.email}. Check the spelling, or ask them to sign up first.`);
      const entry = await appendEntry(tx, after, {
        userId: user.id,
        kind: "grant",
        amountMicros: input.amountMicros,
        note: input.note ?? "Operator grant",
      });
      const balance = await balanceMicros(user.id, tx);
      // In the credited account's log: its owner sees who granted what.
      after.audit({ targetId: user.id, accountId: user.id, changes: balanceChange(user.balanceMicros, balance, entry.note) });
      return { user: { id: user.id, email: user.email }, entry, balance };
    },
    outer,
  );
}

/** An audit row's changes for a credit: the balance before and after, and the ledger entry's note. */
export function balanceChange(before: bigint, after: bigint, note: string | null) {
  return { balanceUsd: [microsToUsd(before), microsToUsd(after)] as [number, number], note: [null, note] as [null, string | null] };
}

/** The caller's ledger, newest first, a page at a time (GET /api/billing/ledger). */
export async function listLedger(actor: UserActor, page: PageRequest) {
  const { userId } = actor;
  const db = await prisma();
  const { items, nextCursor } = await keysetPage(
    { limit: page.limit ?? LEDGER_PAGE_SIZE, cursor: page.cursor },
    {
      // Scoped by owner: another account's entry ID is as unknown as a made-up one.
      anchor: (id) => db.ledgerEntry.findFirst({ where: { id, userId }, select: { id: true, createdAt: true } }),
      rows: (after, take) => db.ledgerEntry.findMany({ where: { userId, ...after }, orderBy: [...NEWEST_FIRST], take }),
    },
    "The cursor does not match any of your ledger entries; start again without it.",
  );
  const view = (e: (typeof items)[number]): LedgerEntryView => ({
    id: e.id,
    kind: e.kind,
    amount: microsToUsd(e.amountMicros),
    note: e.note,
    createdAt: e.createdAt.toISOString(),
  });
  return { items: items.map(view), nextCursor };
}
