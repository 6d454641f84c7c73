import { desc, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { decodeCursor, encodeCursor, invalidCursor } from '../core/cursor';

/*
 * Keyset pages, newest first, over (created_at, id): stable while rows are added, and each
 * page is one indexed range scan however deep the client pages.
 */

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function newestFirst(createdAt: SQLiteColumn, id: SQLiteColumn, cursor: string | undefined) {
  let after: SQL | undefined;
  if (cursor) {
    const key = decodeCursor<string>(cursor, 'string');
    const split = key.indexOf('~');
    const time = Number(key.slice(0, split));
    if (split < 1 || !Number.isSafeInteger(time)) throw invalidCursor();
    after = sql`(${createdAt}, ${id}) < (${time}, ${key.slice(split + 1)})`;
  }
  return { after, orderBy: [desc(createdAt), desc(id)] };
}

/** Rows fetched with `limit + 1`: the extra one only says whether there is a next page. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => [createdAt: number, id: string]): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor(key(last).join('~')) : null,
  };
}
