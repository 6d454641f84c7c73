import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import * as schema from './schema';

export type Db = DrizzleD1Database<typeof schema>;

const cache = new WeakMap<D1Database, Db>();

/** One drizzle instance per D1 binding per isolate. */
export function database(d1: D1Database): Db {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    cache.set(d1, db);
  }
  return db;
}

/**
 * D1 reports constraint violations only through the message text, which names the columns
 * (`UNIQUE constraint failed: model_versions.model_id, model_versions.sha256`).
 */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const text = err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : String(err);
  if (!text.includes('UNIQUE constraint failed')) return false;
  return column === undefined || text.includes(column);
}
