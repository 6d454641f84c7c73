import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SNAPSHOT, TYPES, renderTypes } from '../../scripts/api/generate-types.mjs';

// The server's document is compared with the snapshot inside workerd (test/http/openapi.test.ts);
// this closes the chain: the snapshot and the types the CLI compiles against agree.
it('schema.d.ts is generated from the current OpenAPI snapshot (npm run api:refresh)', async () => {
  expect(readFileSync(TYPES, 'utf8')).toBe(await renderTypes(readFileSync(SNAPSHOT, 'utf8')));
});
