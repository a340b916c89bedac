import { prisma } from "@/lib/db";
import type { LedgerKind, Prisma } from "@/generated/prisma/client.ts";
import { NotFoundError } from "@/lib/http/errors";
import { accountBalanceChanged } from "@/lib/gateway/limits";

/**
 * The credit balance comes from an append-only ledger of grants, top-ups,
 * usage debits and subscription charges. User.balanceMicros is the ledger's
 * sum, updated in the same transaction as every append, so reading a balance
 * never sums the ledger.
 */

type Tx = Prisma.TransactionClient;

export async function balanceMicros(userId: string, tx?: Tx): Promise<bigint> {
  const db = tx ?? (await prisma());
  const user = await db.user.findUnique({ where: { id: userId }, select: { balanceMicros: true } });
  return user?.balanceMicros ?? BigInt(0);
}

/**
 * Appends an entry and moves the balance row with it. The caller must call
 * accountBalanceChanged(userId, amount) after its transaction commits, so the
 * gateway's cached balance follows (appendAndCommit does both).
 */
export async function appendEntry(
  tx: Tx,
  entry: { userId: string; kind: LedgerKind; amountMicros: bigint; note?: string | null; apiKeyId?: string | null; idempotencyKey?: string | null },
) {
  const row = await tx.ledgerEntry.create({ data: { ...entry, note: entry.note ?? null } });
  await tx.user.update({ where: { id: entry.userId }, data: { balanceMicros: { increment: entry.amountMicros } } });
  return row;
}

/** An operator's grant (POST /api/admin/credits). Returns the new balance. */
export async function grantCredit(input: { email: string; amountMicros: bigint; note?: string }) {
  const db = await prisma();
  const result = await db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { email: input.email }, select: { id: true, email: true } });
    if (!user) throw new NotFoundError(`No account uses the email ${input.email}. Check the spelling, or ask them to sign up first.`);
    const entry = await appendEntry(tx, {
      userId: user.id,
      kind: "grant",
      amountMicros: input.amountMicros,
      note: input.note ?? "Operator grant",
    });
    return { user, entry, balance: await balanceMicros(user.id, tx) };
  });
  accountBalanceChanged(result.user.id, input.amountMicros);
  return result;
}
