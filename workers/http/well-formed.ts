/*
 * JSON can carry a lone UTF-16 surrogate ("\ud800"), which has no UTF-8 form: D1 stores it as
 * U+FFFD, so a name or description holding one was accepted and then read back as different
 * text. Management bodies are refused instead, naming the field.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** The path ('' for the value itself) of the first string or key holding a lone surrogate. */
export function illFormedPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedPath(value[i], join(path, i));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) return join(path, key.replace(LONE_SURROGATES, '\ufffd'));
      const found = illFormedPath(v, join(path, key));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export const ILL_FORMED = 'contains a lone UTF-16 surrogate, which is not Unicode text; send well-formed text';
