/*
 * JSON can carry a lone UTF-16 surrogate ("\ud800"), which has no UTF-8 form: D1 stores it as
 * U+FFFD, so a name or description holding one was accepted and then read back as different
 * text. Management bodies are refused instead, naming the field.
 */

import { formatPath, frameOf, isContainer, nextChild, type Frame } from '../core/json-depth';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * The path ('' for the value itself) of the first string or key holding a lone surrogate.
 * Iterative: a body nested thousands deep must not exhaust the stack (issue 13).
 */
export function illFormedPath(value: unknown, path = ''): string | undefined {
  const at = (keys: (string | number)[]) => {
    const rest = formatPath(keys);
    if (!path) return rest;
    return rest === '' || rest.startsWith('[') ? `${path}${rest}` : `${path}.${rest}`;
  };
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (!isContainer(value)) return undefined;
  const stack: Frame[] = [frameOf(value, undefined)];
  const keysTo = (key: string | number) => [...stack.slice(1).map((f) => f.key!), key];
  while (stack.length > 0) {
    const next = nextChild(stack[stack.length - 1]!);
    if (next === undefined) {
      stack.pop();
      continue;
    }
    const [key, child] = next;
    if (typeof key === 'string' && LONE_SURROGATE.test(key)) return at(keysTo(key.replace(LONE_SURROGATES, '\ufffd')));
    if (typeof child === 'string') {
      if (LONE_SURROGATE.test(child)) return at(keysTo(key));
    } else if (isContainer(child)) {
      stack.push(frameOf(child, key));
    }
  }
  return undefined;
}

export const ILL_FORMED = 'contains a lone UTF-16 surrogate, which is not Unicode text; send well-formed text';
