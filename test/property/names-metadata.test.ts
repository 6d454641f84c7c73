import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, newModel, registerUser, uniqueName, type TestUser } from '../helpers';
import {
  answer,
  check,
  expectEnvelope,
  expectNames,
  isWellFormed,
  oddString,
  pathSegment,
  type Answer,
} from './support';

/*
 * Property: a name or a piece of metadata (model names, model and version metadata on create,
 * upload and PATCH, alias names, API key names, workspace names) is accepted and read back
 * exactly as sent when the contract allows it, and refused with a 4xx envelope naming the field
 * when it does not. Never a 5xx.
 * Fields the schema documents as trimmed (API key and workspace names) read back trimmed.
 */

const TIMEOUT = 300_000;
const RUNS = { models: 300, versions: 300, uploads: 40, aliases: 150, apiKeys: 150, workspaces: 120 };

const validName = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,40}$/);
const nameArb = fc.oneof(validName, oddString(), fc.constantFrom('a'.repeat(64), 'a'.repeat(65), 'A', 'é', '-a', '1'));
const text = (max: number) => fc.oneof(oddString(), fc.string({ unit: 'grapheme', maxLength: max }));
const strings = fc.array(oddString(20), { maxLength: 6 });
const tags = fc.oneof(
  fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), oddString(30), { maxKeys: 5 }),
  fc.dictionary(oddString(10), oddString(10), { maxKeys: 3 }),
);
const metrics = fc.oneof(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.double({ noNaN: true, noDefaultInfinity: true }), {
    maxKeys: 4,
  }),
  fc.dictionary(oddString(10), fc.jsonValue(), { maxKeys: 3 }),
);

/** Boundaries as RFC 2046 allows them unquoted; browsers and libraries mix cases. */
const boundary = fc.stringMatching(/^[0-9A-Za-z'+_.-]{1,70}$/);

/** A multipart upload built by hand, so the boundary is the generated one; undefined if it collides. */
function multipart(b: string, file: Uint8Array, metadata: string, asFile: boolean): Uint8Array | undefined {
  const encoder = new TextEncoder();
  const part = (headers: string) => encoder.encode(`--${b}\r\n${headers}\r\n\r\n`);
  const metaHeaders = asFile
    ? 'Content-Disposition: form-data; name="metadata"; filename="metadata.json"\r\nContent-Type: application/json'
    : 'Content-Disposition: form-data; name="metadata"';
  const chunks = [
    part(
      'Content-Disposition: form-data; name="file"; filename="model.onnx"\r\nContent-Type: application/octet-stream',
    ),
    file,
    encoder.encode('\r\n'),
    part(metaHeaders),
    encoder.encode(metadata),
    encoder.encode(`\r\n--${b}--\r\n`),
  ];
  const delimiter = `\r\n--${b}`;
  const latin1 = (bytes: Uint8Array) => Array.from(bytes, (c) => String.fromCharCode(c)).join('');
  if (latin1(file).includes(delimiter) || metadata.includes(delimiter)) return undefined;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Optional fields: each present or absent, so PATCH sees partial bodies too. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/*
 * Which input is valid, written from the contract (README's name rule, the limits the OpenAPI
 * document states, no `__proto__` key in a record), not from the code under test: valid input
 * must be accepted, invalid refused.
 */
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const isAlias = (s: string) => NAME.test(s) && !/^\d+$/.test(s) && s !== 'latest';
const isText = (v: unknown, min: number, max: number) =>
  typeof v === 'string' && v.length >= min && v.length <= max && isWellFormed(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIELD_RULES: Record<string, (v: unknown) => boolean> = {
  description: (v) => isText(v, 0, 4096),
  tags: (v) =>
    isObject(v) &&
    Object.keys(v).length <= 50 &&
    Object.entries(v).every(([k, x]) => /^[A-Za-z0-9_.:-]{1,64}$/.test(k) && k !== '__proto__' && isText(x, 0, 256)),
  feature_names: (v) => v === null || (Array.isArray(v) && v.length <= 4096 && v.every((x) => isText(x, 1, 128))),
  class_labels: (v) => v === null || (Array.isArray(v) && v.length <= 4096 && v.every((x) => isText(x, 1, 128))),
  metrics: (v) =>
    isObject(v) &&
    Object.keys(v).length <= 100 &&
    Object.entries(v).every(
      ([k, x]) => isText(k, 1, 64) && k !== '__proto__' && typeof x === 'number' && Number.isFinite(x),
    ),
};
/** Every field known and within its rule. */
const validFields = (fields: Record<string, unknown>) =>
  Object.entries(fields).every(([k, v]) => FIELD_RULES[k]?.(v) ?? false);

/** A name the schema trims (API keys, workspaces): valid when its trimmed text has `min`..`max` characters. */
const validTrimmed = (s: string, max: number) => isWellFormed(s) && s.trim().length >= 1 && s.trim().length <= max;

/**
 * Accepted: every sent field reads back as sent. Refused: a 4xx naming one of the sent fields.
 * Which of the two is decided by `valid`, never by the answer itself.
 */
function expectRoundTripOrNamed(
  a: Answer,
  sent: Record<string, unknown>,
  read: Record<string, unknown> | undefined,
  valid: boolean,
) {
  expect(a.status < 300, `${valid ? 'valid' : 'invalid'} input answered ${a.status}: ${a.text.slice(0, 300)}`).toBe(
    valid,
  );
  if (a.status < 300) {
    for (const [field, value] of Object.entries(sent)) expect(read?.[field], field).toEqual(value);
    return;
  }
  expectNames(expectEnvelope(a), Object.keys(sent));
}

describe('names and metadata, property-based', () => {
  it(
    `model create: name, description, tags, feature names, class labels (${RUNS.models} runs)`,
    async () => {
      await check(
        fc.asyncProperty(
          nameArb,
          fc.record({
            description: maybe(text(200)),
            tags: maybe(tags),
            feature_names: maybe(fc.option(strings, { nil: null })),
            class_labels: maybe(fc.option(strings, { nil: null })),
          }),
          async (name, fields) => {
            const sent = defined({ name, ...fields });
            const valid = NAME.test(name) && validFields(defined(fields));
            const a = await answer(await call('POST', '/v1/models', { body: sent }));
            if (a.status === 409) {
              // Only a valid name can already exist.
              expect(valid, a.text).toBe(true);
              expectNames(expectEnvelope(a), [name]);
              return;
            }
            const read = a.status === 201 ? await callJson('GET', `/v1/models/${pathSegment(name)}`, 200) : undefined;
            expectRoundTripOrNamed(a, sent, read, valid);
          },
        ),
        RUNS.models,
      );
    },
    TIMEOUT,
  );

  describe('versions', () => {
    let model: string;
    beforeAll(async () => {
      model = await newModel(fixture('generated/regressor.onnx'), 'prop-meta');
    });

    const versionFields = fc.record({
      description: maybe(text(200)),
      tags: maybe(tags),
      metrics: maybe(metrics),
      feature_names: maybe(fc.option(strings, { nil: null })),
      class_labels: maybe(fc.option(strings, { nil: null })),
    });

    it(
      `PATCH version metadata reads back exactly (${RUNS.versions} runs)`,
      async () => {
        await check(
          fc.asyncProperty(versionFields, fc.option(fc.jsonValue(), { nil: undefined }), async (fields, extra) => {
            const sent = defined(fields);
            const body = extra === undefined ? sent : { ...sent, [`x_${typeof extra}`]: extra };
            const a = await answer(await call('PATCH', `/v1/models/${model}/versions/1`, { body }));
            const read = a.status === 200 ? await callJson('GET', `/v1/models/${model}/versions/1`, 200) : undefined;
            if (extra !== undefined) {
              // Unknown fields are refused by name (the schemas are strict).
              expectNames(expectEnvelope(a), [`x_${typeof extra}`]);
              return;
            }
            expectRoundTripOrNamed(a, sent, read, validFields(sent));
            if (read) expect(a.json).toEqual(read);
          }),
          RUNS.versions,
        );
      },
      TIMEOUT,
    );

    it(
      `metadata sent with an upload (multipart, any boundary) reads back exactly (${RUNS.uploads} runs)`,
      async () => {
        const bytes = fixture('generated/regressor.onnx');
        await check(
          fc.asyncProperty(versionFields, boundary, fc.boolean(), async (fields, b, asFile) => {
            const sent = defined(fields);
            const body = multipart(b, bytes, JSON.stringify(sent), asFile);
            fc.pre(body !== undefined);
            const name = uniqueName('prop-upl');
            const a = await answer(
              await call('POST', `/v1/models/${name}/versions`, {
                body: body!,
                headers: { 'content-type': `multipart/form-data; boundary=${b}` },
              }),
            );
            const read = a.status === 201 ? await callJson('GET', `/v1/models/${name}/versions/1`, 200) : undefined;
            expectRoundTripOrNamed(a, sent, read, validFields(sent));
          }),
          RUNS.uploads,
        );
      },
      TIMEOUT,
    );

    it(
      `alias names: set and read back, or refused naming the alias (${RUNS.aliases} runs)`,
      async () => {
        await check(
          fc.asyncProperty(nameArb, async (alias) => {
            const res = await call('PUT', `/v1/models/${model}/aliases/${pathSegment(alias)}`, {
              body: { version: 1 },
            });
            const a = await answer(res);
            if (alias === '.' || alias === '..') {
              // URL parsing resolves these path steps before the request is sent: another route.
              expect(a.status).toBeGreaterThanOrEqual(400);
              expect(a.status).toBeLessThan(500);
              return;
            }
            expect(a.status === 200, `alias ${JSON.stringify(alias)} answered ${a.status}: ${a.text}`).toBe(
              isAlias(alias),
            );
            if (a.status === 200) {
              expect(a.json).toMatchObject({ model, alias, version: 1 });
              const read = await callJson('GET', `/v1/models/${model}`, 200);
              expect(read.aliases[alias]).toBe(1);
              const v2 = await answer(
                await call('POST', `/v2/models/${model}/versions/${pathSegment(alias)}/infer`, {
                  body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 1] }] },
                }),
              );
              expect(v2.status, v2.text).toBe(200);
              expect(v2.json.outputs[0].data).toEqual([1.5]);
            } else {
              expectNames(expectEnvelope(a), ['alias']);
            }
          }),
          RUNS.aliases,
        );
      },
      TIMEOUT,
    );
  });

  it(
    `API key names: created and read back (trimmed), or refused naming the name (${RUNS.apiKeys} runs)`,
    async () => {
      await check(
        fc.asyncProperty(fc.oneof(oddString(), fc.string({ unit: 'grapheme', maxLength: 70 })), async (name) => {
          const a = await answer(await call('POST', '/v1/api-keys', { body: { name, scopes: ['predict'] } }));
          expect(a.status === 201, `name ${JSON.stringify(name)} answered ${a.status}: ${a.text}`).toBe(
            validTrimmed(name, 64),
          );
          if (a.status === 201) {
            expect(a.json.name).toBe(name.trim());
            const read = await callJson('GET', `/v1/api-keys/${a.json.id}`, 200);
            expect(read.name).toBe(name.trim());
            await callJson('DELETE', `/v1/api-keys/${a.json.id}`, 200);
          } else {
            expectNames(expectEnvelope(a), ['name']);
          }
        }),
        RUNS.apiKeys,
      );
    },
    TIMEOUT,
  );

  describe('workspaces', () => {
    let owner: TestUser;
    beforeAll(async () => {
      owner = await registerUser('prop-ws');
    });

    it(
      `workspace names: renamed and read back (trimmed), or refused naming the name (${RUNS.workspaces} runs)`,
      async () => {
        await check(
          fc.asyncProperty(fc.oneof(oddString(), fc.string({ unit: 'grapheme', maxLength: 110 })), async (name) => {
            const a = await answer(await call('PATCH', '/v1/workspace', { token: owner.token, body: { name } }));
            expect(a.status === 200, `name ${JSON.stringify(name)} answered ${a.status}: ${a.text}`).toBe(
              validTrimmed(name, 100),
            );
            if (a.status === 200) {
              expect(a.json.name).toBe(name.trim());
              const read = await callJson('GET', '/v1/workspace', 200, { token: owner.token });
              expect(read.name).toBe(name.trim());
            } else {
              expectNames(expectEnvelope(a), ['name']);
            }
          }),
          RUNS.workspaces,
        );
      },
      TIMEOUT,
    );
  });
});
