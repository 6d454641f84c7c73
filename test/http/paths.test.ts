import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson } from '../helpers';

/*
 * Every route answers the same with or without a trailing slash (the Open Inference Protocol's
 * own OpenAPI file lists `/v2/`; clients join paths both ways), and a 405 names only methods the
 * path really takes. Every path of the OpenAPI document is tried with every method.
 */

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
// Every path × method × both forms: about 900 requests, more than the default 5 s on a busy machine.
const MANY = { timeout: 60_000 };

/** What a response says, without what differs from call to call. */
async function outcome(res: Response) {
  const text = await res.text();
  let code: unknown = text.slice(0, 80);
  try {
    const body = JSON.parse(text);
    code = typeof body?.error === 'object' ? body.error.code : (body?.error ?? Object.keys(body ?? {}).join(','));
  } catch {
    // Not JSON (HTML pages, the metrics text): the start of the text tells them apart.
  }
  return { status: res.status, allow: res.headers.get('allow'), code };
}

describe('paths', () => {
  let paths: string[];
  beforeAll(async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    // Path parameters take a value no record has: routing, not data, is under test.
    paths = Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, 'zz-none'));
    expect(paths).toContain('/v2');
    expect(paths.length).toBeGreaterThan(40);
  });

  it('answer GET /v2/ as GET /v2 (server metadata)', async () => {
    const res = await call('GET', '/v2/', { token: null });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).extensions).toContain('binary_tensor_data');
  });

  it('answer every method the same with or without a trailing slash', MANY, async () => {
    const differ: string[] = [];
    for (const path of paths) {
      for (const method of METHODS) {
        const bare = await outcome(await call(method, path, { token: null }));
        const slash = await outcome(await call(method, `${path}/`, { token: null }));
        if (JSON.stringify(bare) !== JSON.stringify(slash)) {
          differ.push(`${method} ${path}: ${JSON.stringify(bare)} vs ${JSON.stringify(slash)}`);
        }
      }
    }
    expect(differ).toEqual([]);
  });

  it('answer reads by a signed-in caller the same with or without a trailing slash', MANY, async () => {
    const differ: string[] = [];
    for (const path of paths) {
      const bare = await outcome(await call('GET', path));
      const slash = await outcome(await call('GET', `${path}/`));
      if (JSON.stringify(bare) !== JSON.stringify(slash)) {
        differ.push(`GET ${path}: ${JSON.stringify(bare)} vs ${JSON.stringify(slash)}`);
      }
    }
    expect(differ).toEqual([]);
  });

  it('never name the refused method as allowed', MANY, async () => {
    const wrong: string[] = [];
    let refusals = 0;
    for (const path of paths) {
      for (const method of METHODS) {
        for (const form of [path, `${path}/`]) {
          const res = await call(method, form, { token: null });
          const text = await res.text();
          if (res.status !== 405) continue;
          refusals++;
          const allow = (res.headers.get('allow') ?? '').split(', ');
          // A HEAD answer has no body to read the message from.
          const named = method === 'HEAD' || text.includes(`method ${method} is not allowed`);
          if (allow.includes(method) || allow[0] === '' || !named) {
            wrong.push(`${method} ${form}: Allow '${allow.join(', ')}': ${text}`);
          }
        }
      }
    }
    expect(refusals).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });
});
