import { defineConfig } from 'drizzle-kit';

// drizzle-kit writes SQL migrations into the folder wrangler applies and the tests read.
export default defineConfig({
  dialect: 'sqlite',
  schema: './workers/storage/schema/index.ts',
  out: './migrations',
});
