import { NotFoundError } from "@/lib/http/errors";

/**
 * Keyset paging, newest first: rows are ordered by (createdAt, id)
 * descending, and a page's cursor is the ID of its last row. The anchor is
 * looked up by the caller with the owner in its filter, so another account's
 * row is as unknown a cursor as a made-up ID (404 invalid_cursor).
 */

export interface PageRequest {
  /** Rows per page; undefined: every row at once. */
  limit?: number;
  cursor?: string;
}

/** The order every keyset page is read in. */
export const NEWEST_FIRST = [{ createdAt: "desc" }, { id: "desc" }] as const satisfies ReadonlyArray<Record<string, "desc">>;

export async function keysetPage<T extends { id: string }>(
  page: PageRequest,
  read: {
    /** The row the cursor names, scoped by owner; null when it is not the caller's. */
    anchor: (id: string) => Promise<{ id: string; createdAt: Date } | null>;
    /** The rows after the anchor (`after` is {} without one), NEWEST_FIRST, at most `take`. */
    rows: (after: object, take: number | undefined) => Promise<T[]>;
  },
  unknownCursor: string,
): Promise<{ items: T[]; nextCursor: string | null }> {
  let after = {};
  if (page.cursor) {
    const anchor = await read.anchor(page.cursor);
    if (!anchor) throw new NotFoundError(unknownCursor, "invalid_cursor");
    after = { OR: [{ createdAt: { lt: anchor.createdAt } }, { createdAt: anchor.createdAt, id: { lt: anchor.id } }] };
  }
  const take = page.limit;
  // One row more than the page says whether there is a next one.
  const rows = await read.rows(after, take === undefined ? undefined : take + 1);
  const hasMore = take !== undefined && rows.length > take;
  const items = hasMore ? rows.slice(0, take) : rows;
  return { items, nextCursor: hasMore ? items[items.length - 1].id : null };
}
