import { describe, expect, it } from 'vitest';
import { call, sha256Hex, uniqueName, uploadRaw } from '../helpers';
import { artifactObjects, storageViolations, storedModel } from './registry-invariants';
import { regressorWithBias } from './regressor-versions';

/*
 * Uploads racing each other on one model. Numbers are taken inside D1 (max + 1 in the insert
 * itself), duplicates are caught by a unique index: these tests hold that to account.
 */

const AT_ONCE = 20;

async function uploadAll(name: string, files: Uint8Array[]) {
  const responses = await Promise.all(files.map((bytes) => uploadRaw(name, bytes)));
  return Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json<any>() })));
}

describe('simultaneous uploads', { timeout: 120_000 }, () => {
  for (const existing of [false, true]) {
    it(`gives ${AT_ONCE} distinct files to ${existing ? 'an existing' : 'a new'} model gapless numbers, each with its own file`, async () => {
      const name = uniqueName('uploads');
      const first = existing ? 1 : 0;
      if (existing) expect((await uploadRaw(name, regressorWithBias(-1))).status).toBe(201);
      const files = Array.from({ length: AT_ONCE }, (_, i) => regressorWithBias(1000 + i));
      const results = await uploadAll(name, files);

      // A loser of a race may be refused cleanly (409/503), never a 500; none was, here.
      const statuses = results.map((r) => r.status);
      expect(
        statuses.filter((s) => s !== 201 && s !== 409 && s !== 503),
        JSON.stringify(results),
      ).toEqual([]);
      const won = results.filter((r) => r.status === 201);
      expect(won).toHaveLength(AT_ONCE);
      const numbers = won.map((r) => r.body.version).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: AT_ONCE }, (_, i) => first + i + 1));

      for (const [i, r] of results.entries()) {
        expect(r.body.sha256).toBe(await sha256Hex(files[i]!));
        const artifact = await call('GET', `/v1/models/${name}/versions/${r.body.version}/artifact`);
        expect(await sha256Hex(await artifact.arrayBuffer())).toBe(r.body.sha256);
      }
      expect(await storageViolations(name)).toEqual([]);
      expect(await artifactObjects(name)).toHaveLength(first + AT_ONCE);
    });

    it(`lets exactly one of ${AT_ONCE} identical uploads to ${existing ? 'an existing' : 'a new'} model win, the others 409 duplicate_version`, async () => {
      const name = uniqueName('dupes');
      if (existing) expect((await uploadRaw(name, regressorWithBias(-1))).status).toBe(201);
      const bytes = regressorWithBias(77);
      const results = await uploadAll(
        name,
        Array.from({ length: AT_ONCE }, () => bytes),
      );
      const won = results.filter((r) => r.status === 201);
      const lost = results.filter((r) => r.status !== 201);
      expect(won, JSON.stringify(results.map((r) => r.status))).toHaveLength(1);
      for (const r of lost) {
        expect(r.status, JSON.stringify(r.body)).toBe(409);
        expect(r.body.error.code).toBe('duplicate_version');
        expect(r.body.error.details).toEqual({ version: won[0]!.body.version, sha256: await sha256Hex(bytes) });
      }
      const stored = await storedModel(name);
      expect(stored.versions.map((v) => v.version)).toEqual(existing ? [1, 2] : [1]);
      // The losers wrote their files before losing: each must have removed its own.
      expect(stored.objects).toHaveLength(stored.versions.length);
      expect(await storageViolations(name, stored)).toEqual([]);
    });
  }
});
