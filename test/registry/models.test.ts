import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ADD_MODEL, call, callJson, fixture, uniqueName, uploadRaw } from '../helpers';

describe('models', () => {
  it('creates a model with metadata and reads it back', async () => {
    const name = uniqueName('iris');
    const created = await callJson('POST', '/v1/models', 201, {
      body: {
        name,
        description: 'iris classifier',
        task: 'classification',
        tags: { team: 'ds' },
        feature_names: ['a', 'b', 'c', 'd'],
        class_labels: ['x', 'y', 'z'],
        cache: { enabled: false, ttl_seconds: 120 },
      },
    });
    expect(created).toMatchObject({
      name,
      task: 'classification',
      tags: { team: 'ds' },
      feature_names: ['a', 'b', 'c', 'd'],
      class_labels: ['x', 'y', 'z'],
      cache: { enabled: false, ttl_seconds: 120 },
      latest_version: null,
      aliases: {},
      archived_at: null,
      created_by: 'admin',
    });
    expect(Date.parse(created.created_at)).toBeGreaterThan(0);
    expect(await callJson('GET', `/v1/models/${name}`, 200)).toEqual(created);
  });

  it('refuses to create a model twice', async () => {
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { body: { name } });
    const err = await callJson('POST', '/v1/models', 409, { body: { name } });
    expect(err.error.code).toBe('model_exists');
  });

  it('updates metadata and keeps what was not sent', async () => {
    const name = uniqueName();
    await callJson('POST', '/v1/models', 201, { body: { name, description: 'old', tags: { a: '1' } } });
    const updated = await callJson('PATCH', `/v1/models/${name}`, 200, {
      body: { description: 'new', cache: { ttl_seconds: 600 } },
    });
    expect(updated).toMatchObject({ description: 'new', tags: { a: '1' }, cache: { enabled: true, ttl_seconds: 600 } });
  });

  it('validates bodies and names every problem', async () => {
    const bad = await callJson('POST', '/v1/models', 400, {
      body: { name: 'Bad Name', task: 'clustering', cache: { ttl_seconds: 10 } },
    });
    expect(bad.error.code).toBe('invalid_argument');
    expect(bad.error.message).toContain("request body 'name': invalid model name: names use lowercase letters");
    expect(bad.error.message).toContain("request body 'task'");
    expect(bad.error.message).toContain("request body 'cache.ttl_seconds'");
    const unknown = await callJson('POST', '/v1/models', 400, { body: { name: uniqueName(), colour: 'red' } });
    expect(unknown.error.message).toContain('colour');
  });

  it('answers malformed JSON and a missing content type with the envelope', async () => {
    const malformed = await call('POST', '/v1/models', {
      body: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    const body = await malformed.json<any>();
    expect(body.error.code).toBe('invalid_argument');
    expect(body.error.message).toMatch(/JSON/);
    const noType = await call('POST', '/v1/models', {
      body: '{"name":"x"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(noType.status).toBe(415);
    expect((await noType.json<any>()).error.message).toMatch(/application\/json/);
  });

  describe('names', () => {
    const bad = ['Upper', '-dash-first', '.dot', 'a'.repeat(65), 'sp ace', 'ünï', 'semi;colon'];
    for (const name of bad) {
      it(`refuses ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}… (${name.length})` : name)} with the rule`, async () => {
        const res = await uploadRaw(encodeURIComponent(name), fixture(ADD_MODEL));
        expect(res.status).toBe(400);
        const err = await res.json<any>();
        expect(err.error.message).toContain(
          'names use lowercase letters, digits, "-", "_" and ".", are 1 to 64 characters long',
        );
      });
    }
    it('accepts the longest and the odd-but-valid', async () => {
      for (const name of ['a'.repeat(64), '0', 'x.y_z-1']) {
        const unique =
          name.length === 64 ? `${uniqueName('n')}`.padEnd(64, 'q') : `${name}-${crypto.randomUUID().slice(0, 6)}`;
        expect((await uploadRaw(unique, fixture(ADD_MODEL))).status).toBe(201);
      }
    });
  });

  describe('listing', () => {
    it('pages with a cursor in name order without repeats or gaps', async () => {
      const prefix = `pg-${crypto.randomUUID().slice(0, 6)}-`;
      const names = Array.from({ length: 7 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
      for (const name of [...names].reverse()) await callJson('POST', '/v1/models', 201, { body: { name } });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `name_prefix=${prefix}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const page: any = await callJson('GET', `/v1/models?${query}`, 200);
        expect(page.models.length).toBeLessThanOrEqual(3);
        seen.push(...page.models.map((m: any) => m.name));
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual(names);
      expect(pages).toBe(3);
    });

    it('filters by tag presence, tag value and task, and hides archived models unless asked', async () => {
      const prefix = `flt-${crypto.randomUUID().slice(0, 6)}-`;
      await callJson('POST', '/v1/models', 201, {
        body: { name: `${prefix}a`, tags: { team: 'fraud', tier: 'gold' }, task: 'classification' },
      });
      await callJson('POST', '/v1/models', 201, {
        body: { name: `${prefix}b`, tags: { team: 'search' }, task: 'regression' },
      });
      await callJson('POST', '/v1/models', 201, { body: { name: `${prefix}c`, tags: { team: 'fraud' } } });
      const names = async (query: string) =>
        (await callJson('GET', `/v1/models?name_prefix=${prefix}&${query}`, 200)).models.map((m: any) => m.name);
      expect(await names('tag=team=fraud')).toEqual([`${prefix}a`, `${prefix}c`]);
      expect(await names('tag=tier')).toEqual([`${prefix}a`]);
      expect(await names('tag=team=fraud&tag=tier=gold')).toEqual([`${prefix}a`]);
      expect(await names('task=regression')).toEqual([`${prefix}b`]);
      await callJson('DELETE', `/v1/models/${prefix}b`, 200);
      expect(await names('')).toEqual([`${prefix}a`, `${prefix}c`]);
      expect(await names('include_archived=true')).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`]);
    });

    it('refuses a forged cursor and an out-of-range limit', async () => {
      expect((await callJson('GET', '/v1/models?cursor=not-a-cursor', 400)).error.code).toBe('invalid_cursor');
      const limit = await callJson('GET', '/v1/models?limit=1000', 400);
      expect(limit.error.message).toContain("query parameter 'limit'");
    });
  });

  it('archives on DELETE and purges with ?purge=true, freeing the name and the files', async () => {
    const name = uniqueName();
    const v1 = await (await uploadRaw(name, fixture(ADD_MODEL))).json<any>();
    await uploadRaw(name, fixture('models/onnx-node.test_matmul_2d.onnx'));
    await callJson('PUT', `/v1/models/${name}/aliases/production`, 200, { body: { version: 1 } });
    const archived = await callJson('DELETE', `/v1/models/${name}`, 200);
    expect(archived.archived_at).not.toBeNull();
    expect((await call('GET', v1.artifact_url)).status).toBe(200);
    const keys = await env.DB.prepare(
      'select v.artifact_key as k from model_versions v join models m on m.id = v.model_id where m.name = ?',
    )
      .bind(name)
      .all<{ k: string }>();
    expect(keys.results).toHaveLength(2);
    const purged = await call('DELETE', `/v1/models/${name}?purge=true`);
    expect(purged.status).toBe(204);
    expect((await call('GET', `/v1/models/${name}`)).status).toBe(404);
    for (const { k } of keys.results) expect(await env.BUCKET.head(k)).toBeNull();
    const rows = await env.DB.prepare('select count(*) as n from models where name = ?')
      .bind(name)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
    const again = await (await uploadRaw(name, fixture(ADD_MODEL))).json<any>();
    expect(again.version).toBe(1);
  });
});
