import { integer } from 'drizzle-orm/sqlite-core';

/** Times are Unix milliseconds throughout the schema. */
export const createdAt = () => integer('created_at').notNull();
