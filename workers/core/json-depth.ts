/*
 * How deeply a parsed JSON value nests, checked without recursion: a 14 KB body can nest
 * thousands of levels, and any recursive walk over it (a validator, a canonical form, a
 * logger) would exhaust the stack and answer 500. Routes refuse such bodies up front.
 */

/**
 * Deepest nesting a request body may have. A V2 infer body is 3 levels plus the tensor's rank
 * (onnxruntime supports ranks far below 32), feature records and metadata are 2 or 3.
 */
export const MAX_JSON_DEPTH = 64;

import { invalidInput } from './errors';

type Key = string | number;

export interface DepthExceeded {
  /** Where the value first goes deeper than the limit, as `inputs[0].data[0][0]…`. */
  path: string;
  limit: number;
}

/** Formats a path of keys the way error messages name fields: `a.b[3].c`. */
export function formatPath(keys: readonly Key[]): string {
  let path = '';
  for (const key of keys) path = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  return path;
}

/**
 * Undefined when `value` nests at most `limit` arrays or objects deep (a scalar is depth 0,
 * `[]` and `{}` depth 1); else the path of the first container beyond the limit. Visits each
 * container once and never more than `limit` levels of it, whatever the input.
 */
export function jsonDepthExceeded(value: unknown, limit = MAX_JSON_DEPTH): DepthExceeded | undefined {
  if (!isContainer(value)) return undefined;
  if (limit < 1) return { path: '', limit };
  const stack: Frame[] = [frameOf(value, undefined)];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const next = nextChild(frame);
    if (next === undefined) {
      stack.pop();
      continue;
    }
    const [key, child] = next;
    if (!isContainer(child)) continue;
    if (stack.length >= limit) return { path: formatPath([...stack.slice(1).map((f) => f.key!), key]), limit };
    stack.push(frameOf(child, key));
  }
  return undefined;
}

/** Throws invalid_argument (400) naming the limit and where `what` goes past it. */
export function requireJsonDepth(value: unknown, what: string, limit = MAX_JSON_DEPTH): void {
  const found = jsonDepthExceeded(value, limit);
  if (found) {
    throw invalidInput(
      `${what}${found.path ? ` '${found.path}'` : ''} nests deeper than the limit of ${limit} levels`,
      {
        code: 'nesting_too_deep',
        details: { limit, path: found.path },
      },
    );
  }
}

/** Why a parsed line is refused for its depth, or undefined: for row-by-row errors. */
export function depthProblem(value: unknown, limit = MAX_JSON_DEPTH): string | undefined {
  const found = jsonDepthExceeded(value, limit);
  return found && `the row nests deeper than the limit of ${limit} levels${found.path ? ` at '${found.path}'` : ''}`;
}

/** An open container of an iterative walk: which child comes next, and the key it sits under. */
export interface Frame {
  container: object;
  /** The object's keys; null for an array. */
  keys: string[] | null;
  next: number;
  key: Key | undefined;
}

export function frameOf(container: object, key: Key | undefined): Frame {
  return { container, keys: Array.isArray(container) ? null : Object.keys(container), next: 0, key };
}

/** The frame's next [key, child], or undefined once every child has been visited. */
export function nextChild(frame: Frame): [Key, unknown] | undefined {
  const { container, keys } = frame;
  if (keys === null) {
    const array = container as unknown[];
    return frame.next < array.length ? [frame.next, array[frame.next++]] : undefined;
  }
  if (frame.next >= keys.length) return undefined;
  const key = keys[frame.next++]!;
  return [key, (container as Record<string, unknown>)[key]];
}

export function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
