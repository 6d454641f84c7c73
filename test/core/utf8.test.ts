import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../../workers/core/utf8';

describe('utf8Bytes', () => {
  it('counts as TextEncoder encodes, without encoding', () => {
    const encoder = new TextEncoder();
    for (const text of ['', 'ascii', 'é', 'ü€', '日本語', '😀', 'a😀b', '\u07ff\u0800', '"\\u0000"']) {
      expect(utf8Bytes(text), text).toBe(encoder.encode(text).byteLength);
    }
  });
  it('counts a lone surrogate as the replacement character it would be written as', () => {
    for (const text of ['\ud800', 'x\udc00', '\ud83d', '\ud83dx', '\udc00\ud800']) {
      expect(utf8Bytes(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).byteLength);
    }
  });
});
