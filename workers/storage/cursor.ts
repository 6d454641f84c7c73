import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { invalidInput } from '../core/errors';

/*
 * Opaque pagination cursors: the sort key of the last item, base64url-encoded so clients treat
 * it as a token rather than something to construct.
 */
export function encodeCursor(key: unknown): string {
  return btoa(JSON.stringify(key)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function invalid(): never {
  throw invalidInput('invalid cursor: pass the next_cursor value of the previous page unchanged', {
    code: 'invalid_cursor',
  });
}

export function decodeCursor<T extends string | number>(cursor: string, type: 'string' | 'number'): T {
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll('-', '+').replaceAll('_', '/')));
    if (typeof value === type) return value as T;
  } catch {
    // fall through
  }
  return invalid();
}

/** Newest-first pages keyed by (time, id): ids break ties between rows of the same millisecond. */
export function olderThan(cursor: string, time: SQLiteColumn, id: SQLiteColumn): SQL {
  let key: unknown;
  try {
    key = JSON.parse(atob(cursor.replaceAll('-', '+').replaceAll('_', '/')));
  } catch {
    invalid();
  }
  if (!Array.isArray(key) || typeof key[0] !== 'number' || typeof key[1] !== 'string') invalid();
  const [at, last] = key as [number, string];
  return or(lt(time, at), and(eq(time, at), lt(id, last)))!;
}

export const timeCursor = (row: { createdAt: number; id: string }) => encodeCursor([row.createdAt, row.id]);
