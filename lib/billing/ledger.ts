import { prisma } from "@/lib/db";
import type { LedgerKind, Prisma } from "@/generated/prisma/client.ts";
import { NotFoundError } from "@/lib/http/errors";

/**
 * The credit balance is never stored: it is the sum of an append-only ledger
 * of grants, top-ups, usage debits and subscription charges.
 */

type Tx = Prisma.TransactionClient;

export async function balanceMicros(userId: string, tx?: Tx): Promise<bigint> {
  const db = tx ?? (await prisma());
  const agg = await db.ledgerEntry.aggregate({ where: { userId }, _sum: { amountMicros: true } });
  return agg._sum.amountMicros ?? BigInt(0);
}

export async function appendEntry(
  tx: Tx,
  entry: { userId: string; kind: LedgerKind; amountMicros: bigint; note?: string | null; apiKeyId?: string | null },
) {
  return tx.ledgerEntry.create({ data: { ...entry, note: entry.note ?? null } });
}

/** An operator's grant (POST /api/admin/credits). Returns the new balance. */
export async function grantCredit(input: { email: string; amountMicros: bigint; note?: string }) {
  const db = await prisma();
  return db.$transaction(async (tx) => {
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
}
