/*
 * The D1 schema, one file per area. drizzle-kit reads this index to generate migrations into
 * migrations/ (the folder wrangler applies and the tests read).
 */
export * from './accounts';
export * from './alerts';
export * from './batch';
export * from './monitoring';
export * from './registry';
export * from './rollouts';
