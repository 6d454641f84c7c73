import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, formatPath, jsonDepthExceeded } from '../../workers/core/json-depth';
import { illFormedPath } from '../../workers/http/well-formed';

/** `[[[…]]]` `depth` deep, built without recursion, with `leaf` at the bottom. */
function nestedArrays(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function nestedObjects(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** The same nesting as a client sends it: parsed from text, as a route would. */
const parsedArrays = (depth: number) => JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`) as unknown;
const parsedObjects = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown;

describe('jsonDepthExceeded', () => {
  it('answers undefined for scalars and values within the limit', () => {
    for (const value of [null, 1, 'x', true, [], {}, [1, [2, [3]]], { a: { b: [1, 2] } }])
      expect(jsonDepthExceeded(value)).toBeUndefined();
    expect(jsonDepthExceeded(nestedArrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonDepthExceeded(nestedObjects(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('names the path of the first container beyond the limit', () => {
    expect(jsonDepthExceeded(nestedArrays(MAX_JSON_DEPTH + 1))).toEqual({
      path: '[0]'.repeat(MAX_JSON_DEPTH),
      limit: MAX_JSON_DEPTH,
    });
    expect(jsonDepthExceeded({ rows: [[1], [2, [3, [4]]]] }, 3)).toEqual({ path: 'rows[1][1]', limit: 3 });
    expect(jsonDepthExceeded({ a: 1, b: { c: { d: {} } } }, 3)).toEqual({ path: 'b.c.d', limit: 3 });
    expect(jsonDepthExceeded([[]], 1)).toEqual({ path: '[0]', limit: 1 });
    expect(jsonDepthExceeded([], 0)).toEqual({ path: '', limit: 0 });
  });

  it('walks 10,000-deep arrays and objects without recursion', () => {
    for (const value of [nestedArrays(10_000), nestedObjects(10_000), parsedArrays(10_000), parsedObjects(10_000)]) {
      const found = jsonDepthExceeded(value);
      expect(found?.limit).toBe(MAX_JSON_DEPTH);
      expect(found!.path.length).toBeGreaterThan(MAX_JSON_DEPTH);
    }
    // Alternating arrays and objects, and a deep branch after many shallow siblings.
    let mixed: unknown = 0;
    for (let i = 0; i < 10_000; i++) mixed = i % 2 ? { k: mixed } : [mixed];
    expect(jsonDepthExceeded(mixed)).toBeDefined();
    const wide = { rows: [...Array.from({ length: 5000 }, (_, i) => [i]), nestedArrays(10_000)] };
    expect(jsonDepthExceeded(wide)?.path.startsWith('rows[5000]')).toBe(true);
  });

  it('is unbounded only when asked: a limit above the depth finds nothing', () => {
    expect(jsonDepthExceeded(nestedArrays(10_000), 10_000)).toBeUndefined();
    expect(jsonDepthExceeded(nestedArrays(10_001), 10_000)?.limit).toBe(10_000);
  });

  it('formats paths as error messages name fields', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath([0, 'a', 2, 'b'])).toBe('[0].a[2].b');
    expect(formatPath(['inputs', 0, 'data'])).toBe('inputs[0].data');
  });
});

describe('illFormedPath on deep bodies (it recursed until the stack overflowed)', () => {
  it('walks 10,000-deep arrays and objects and finds a lone surrogate at the bottom', () => {
    expect(illFormedPath(parsedArrays(10_000))).toBeUndefined();
    expect(illFormedPath(parsedObjects(10_000))).toBeUndefined();
    expect(illFormedPath(nestedArrays(10_000, '\ud800'))).toBe('[0]'.repeat(10_000));
    expect(illFormedPath(nestedObjects(10_000, '\udc00'))).toBe(`a${'.a'.repeat(9_999)}`);
  });

  it('answers as before for shallow bodies', () => {
    expect(illFormedPath({ name: 'ok', tags: { a: 'b' } })).toBeUndefined();
    expect(illFormedPath('\ud800')).toBe('');
    expect(illFormedPath({ tags: { x: ['a', 'b\ud800'] } })).toBe('tags.x[1]');
    expect(illFormedPath({ tags: { ['k\ud800']: 'v' } })).toBe('tags.k\ufffd');
    expect(illFormedPath([{ a: 1 }, { b: ['\udc00'] }])).toBe('[1].b[0]');
    expect(illFormedPath({ a: '\ud800' }, 'body')).toBe('body.a');
    expect(illFormedPath(['\ud800'], 'body')).toBe('body[0]');
  });
});
