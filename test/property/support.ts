import fc from 'fast-check';
import { expect } from 'vitest';

/*
 * What every property here checks of a refusal: a 4xx (never a 5xx), a JSON body, and the
 * error form of its route family. Errors under /v2 are the Open Inference Protocol's
 * `{"error": "..."}`; the rest use the platform envelope with code, message and request id.
 */

export interface Answer {
  status: number;
  text: string;
  json: any;
  contentType: string;
}

/** Reads a response whole; a body that is not JSON fails here, whatever the status. */
export async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`status ${res.status}: the body is not JSON (${contentType}): ${text.slice(0, 300)}`);
  }
  expect(contentType, text.slice(0, 300)).toMatch(/^application\/json/);
  return { status: res.status, text, json, contentType };
}

/** A 4xx in the V2 form; returns the message. */
export function expectV2Refusal(a: Answer): string {
  expect(a.status, a.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
  expect(a.status, a.text.slice(0, 500)).toBeLessThan(500);
  expect(Object.keys(a.json), a.text.slice(0, 500)).toEqual(['error']);
  expect(typeof a.json.error).toBe('string');
  expect(a.json.error.length).toBeGreaterThan(0);
  return a.json.error as string;
}

/** A 4xx in the /v1 envelope; returns the message. */
export function expectEnvelope(a: Answer): string {
  expect(a.status, a.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
  expect(a.status, a.text.slice(0, 500)).toBeLessThan(500);
  const error = a.json?.error;
  expect(error, a.text.slice(0, 500)).toMatchObject({
    code: expect.any(String),
    message: expect.any(String),
    request_id: expect.any(String),
  });
  expect(error.message.length).toBeGreaterThan(0);
  return error.message as string;
}

/** Fails unless the message names one of `names` (an input, a field, a line). */
export function expectNames(message: string, names: string[]): void {
  expect(
    names.some((n) => message.includes(n)),
    `"${message}" should name one of ${JSON.stringify(names)}`,
  ).toBe(true);
}

/**
 * Runs a property. Seeds are random unless PROPERTY_SEED is set in the environment of the
 * test run; a failure prints the seed and the shrunk counterexample so it can be replayed.
 */
export async function check<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns });
  } catch (err) {
    // The report travels to vitest over a WebSocket that drops the run on a lone surrogate.
    const e = err as Error;
    const cause = e.cause instanceof Error ? `\nCaused by: ${e.cause.message}` : '';
    throw new Error(printable(e.message + cause));
  }
}

const printable = (s: string) => s.replace(LONE, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

/** Strings that reach odd corners: unicode, controls, lone surrogates, separators, escapes. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const special = fc.constantFrom('/', '\\', '..', '%2F', '%00', '%', '?', '#', ' ', '\u202e', '\ufeff', '\u0000', '\n');

export const oddString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.oneof(loneSurrogate, control, special, fc.constant('a')), maxLength }),
    fc.constantFrom('', '.', '..', '../x', 'a/b', 'a%2Fb', '%2e%2e', 'latest', '0', '007', 'CON', 'x'.repeat(65)),
    fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 5000 }),
  );

/** Header values as fetch can send them: visible ASCII and spaces, no CR/LF/NUL. */
export const headerString = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Whether the string is Unicode text (no lone surrogate). */
export const isWellFormed = (s: string): boolean => s === wellFormed(s);

/** The string as UTF-8 can carry it: each lone surrogate becomes U+FFFD. */
export const wellFormed = (s: string): string => s.replace(LONE, '\ufffd');

/** Percent-encodes any string for a path segment, lone surrogates included (as U+FFFD would be). */
export const pathSegment = (s: string): string => encodeURIComponent(wellFormed(s));
