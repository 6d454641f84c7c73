import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ADD_MODEL, call, callJson, fixture, sha256Hex, uniqueName, uploadRaw } from '../helpers';

const MODELS = [
  ADD_MODEL,
  'models/onnx-node.test_matmul_2d.onnx',
  'models/onnx-node.test_sigmoid.onnx',
  'models/onnx-node.test_tanh.onnx',
];

async function modelWithVersions(count: number): Promise<string> {
  const name = uniqueName();
  for (let i = 0; i < count; i++) expect((await uploadRaw(name, fixture(MODELS[i]!))).status).toBe(201);
  return name;
}

describe('versions', () => {
  it('lists newest first with pagination and gets one by number, latest or alias', async () => {
    const name = await modelWithVersions(3);
    const first = await callJson('GET', `/v1/models/${name}/versions?limit=2`, 200);
    expect(first.versions.map((v: any) => v.version)).toEqual([3, 2]);
    const second = await callJson('GET', `/v1/models/${name}/versions?limit=2&cursor=${first.next_cursor}`, 200);
    expect(second.versions.map((v: any) => v.version)).toEqual([1]);
    expect(second.next_cursor).toBeNull();
    expect((await callJson('GET', `/v1/models/${name}/versions/2`, 200)).version).toBe(2);
    expect((await callJson('GET', `/v1/models/${name}/versions/latest`, 200)).version).toBe(3);
    await callJson('PUT', `/v1/models/${name}/aliases/staging`, 200, { body: { version: 1 } });
    const staged = await callJson('GET', `/v1/models/${name}/versions/staging`, 200);
    expect(staged.version).toBe(1);
    expect(staged.aliases).toEqual(['staging']);
  });

  it('answers 404 for unknown models, versions and aliases', async () => {
    const name = await modelWithVersions(1);
    expect((await callJson('GET', `/v1/models/nope-${uniqueName()}/versions/1`, 404)).error.code).toBe(
      'model_not_found',
    );
    const missing = await callJson('GET', `/v1/models/${name}/versions/9`, 404);
    expect(missing.error).toMatchObject({ code: 'version_not_found', message: `model '${name}' has no version 9` });
    expect((await callJson('GET', `/v1/models/${name}/versions/canary`, 404)).error.message).toContain(
      "alias 'canary'",
    );
  });

  it('keeps the file immutable but lets metadata change', async () => {
    const name = await modelWithVersions(1);
    const before = await callJson('GET', `/v1/models/${name}/versions/1`, 200);
    const after = await callJson('PATCH', `/v1/models/${name}/versions/1`, 200, {
      body: { description: 'retrained', metrics: { auc: 0.91 }, tags: { data: '2026-11' } },
    });
    expect(after).toMatchObject({ description: 'retrained', metrics: { auc: 0.91 }, tags: { data: '2026-11' } });
    expect(after.sha256).toBe(before.sha256);
    const refused = await callJson('PATCH', `/v1/models/${name}/versions/1`, 400, { body: { sha256: 'abc' } });
    expect(refused.error.message).toContain('sha256');
  });

  it('downloads the artifact with its sha256 as ETag and honours If-None-Match', async () => {
    const name = await modelWithVersions(1);
    const res = await call('GET', `/v1/models/${name}/versions/1/artifact`);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const sha = await sha256Hex(bytes);
    expect(sha).toBe(await sha256Hex(fixture(ADD_MODEL)));
    expect(res.headers.get('etag')).toBe(`"${sha}"`);
    expect(res.headers.get('content-length')).toBe(String(bytes.byteLength));
    expect(res.headers.get('content-disposition')).toContain(`${name}-v1.onnx`);
    const cached = await call('GET', `/v1/models/${name}/versions/latest/artifact`, {
      headers: { 'if-none-match': `"${sha}"` },
    });
    expect(cached.status).toBe(304);
  });

  describe('latest and archiving', () => {
    it('latest skips archived versions and falls back as they are archived', async () => {
      const name = await modelWithVersions(3);
      await callJson('DELETE', `/v1/models/${name}/versions/3`, 200);
      expect((await callJson('GET', `/v1/models/${name}/versions/latest`, 200)).version).toBe(2);
      expect((await callJson('GET', `/v1/models/${name}`, 200)).latest_version).toBe(2);
      await callJson('PATCH', `/v1/models/${name}/versions/2`, 200, { body: { archived: true } });
      await callJson('PATCH', `/v1/models/${name}/versions/1`, 200, { body: { archived: true } });
      expect((await callJson('GET', `/v1/models/${name}/versions/latest`, 404)).error.code).toBe('version_not_found');
      expect((await callJson('GET', `/v1/models/${name}`, 200)).latest_version).toBeNull();
      await callJson('PATCH', `/v1/models/${name}/versions/3`, 200, { body: { archived: false } });
      expect((await callJson('GET', `/v1/models/${name}/versions/latest`, 200)).version).toBe(3);
      // archived versions stay readable by number and are hidden from the list unless asked
      expect((await callJson('GET', `/v1/models/${name}/versions/1`, 200)).archived_at).not.toBeNull();
      const list = await callJson('GET', `/v1/models/${name}/versions`, 200);
      expect(list.versions.map((v: any) => v.version)).toEqual([3]);
      const all = await callJson('GET', `/v1/models/${name}/versions?include_archived=true`, 200);
      expect(all.versions.map((v: any) => v.version)).toEqual([3, 2, 1]);
    });

    it('a new upload after archived ones takes the next number, never a reused one', async () => {
      const name = await modelWithVersions(2);
      await callJson('DELETE', `/v1/models/${name}/versions/2`, 200);
      expect((await (await uploadRaw(name, fixture(MODELS[2]!))).json<any>()).version).toBe(3);
    });
  });

  describe('aliases', () => {
    it('set, move and delete; the model lists them', async () => {
      const name = await modelWithVersions(3);
      const set = await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
      expect(set).toMatchObject({ model: name, alias: 'production', version: 1, previous_version: null, routes: null });
      expect(set.state).toMatchObject({ status: 'plain', revision: 1 });
      const moved = await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 3 } });
      expect(moved).toMatchObject({ model: name, alias: 'production', version: 3, previous_version: 1 });
      expect(moved.state.revision).toBe(2);
      await callJson('PUT', `/v1/models/${name}/aliases/staging`, 200, { body: { version: 2 } });
      expect((await callJson('GET', `/v1/models/${name}`, 200)).aliases).toEqual({ production: 3, staging: 2 });
      expect((await callJson('GET', `/v1/models/${name}/versions/production`, 200)).version).toBe(3);
      const removed = await callJson('DELETE', `/v1/models/${name}/aliases/staging`, 200);
      expect(removed).toEqual({ model: name, alias: 'staging', version: null, previous_version: 2 });
      expect((await callJson('GET', `/v1/models/${name}`, 200)).aliases).toEqual({ production: 3 });
      expect((await callJson('DELETE', `/v1/models/${name}/aliases/staging`, 404)).error.code).toBe('alias_not_found');
    });

    it('cannot point at an archived version, and a targeted version cannot be archived', async () => {
      const name = await modelWithVersions(2);
      await callJson('DELETE', `/v1/models/${name}/versions/1`, 200);
      const refused = await callJson('PUT', `/v1/models/${name}/aliases/production`, 409, { body: { version: 1 } });
      expect(refused.error.message).toContain('archived');
      await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 2 } });
      const blocked = await callJson('DELETE', `/v1/models/${name}/versions/2`, 409);
      expect(blocked.error).toMatchObject({ code: 'version_has_aliases' });
      expect(blocked.error.message).toContain("'production'");
    });

    it('refuses alias names that are numbers, reserved or malformed, and missing versions', async () => {
      const name = await modelWithVersions(1);
      for (const alias of ['123', 'latest', 'Prod', '-x']) {
        const err = await callJson('PUT', `/v1/models/${name}/aliases/${alias}`, 400, { body: { version: 1 } });
        expect(err.error.message).toContain('an alias is not only digits and is not "latest"');
      }
      expect((await callJson('PUT', `/v1/models/${name}/aliases/prod`, 404, { body: { version: 7 } })).error.code).toBe(
        'version_not_found',
      );
      expect(
        (await callJson('PUT', `/v1/models/${name}/aliases/prod`, 400, { body: { version: 'one' } })).error.message,
      ).toContain("'version'");
    });
  });

  it('stores the artifact under a key that only this version uses', async () => {
    const name = await modelWithVersions(2);
    const rows = await env.DB.prepare(
      'select v.artifact_key as k from model_versions v join models m on m.id = v.model_id where m.name = ? order by v.version',
    )
      .bind(name)
      .all<{ k: string }>();
    const keys = rows.results.map((r) => r.k);
    expect(new Set(keys).size).toBe(2);
    for (const key of keys) expect(await env.BUCKET.head(key)).not.toBeNull();
  });
});
