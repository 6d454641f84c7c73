import { invalidInput } from './errors';

/*
 * Opaque pagination cursors: the sort key of the last item, base64url-encoded so clients treat
 * it as a token rather than something to construct.
 */
export function encodeCursor(key: string | number): string {
  return btoa(JSON.stringify(key)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export const invalidCursor = () =>
  invalidInput('invalid cursor: pass the next_cursor value of the previous page unchanged', {
    code: 'invalid_cursor',
  });

export function decodeCursor<T extends string | number>(cursor: string, type: 'string' | 'number'): T {
  try {
    const value: unknown = JSON.parse(atob(cursor.replaceAll('-', '+').replaceAll('_', '/')));
    if (typeof value === type) return value as T;
  } catch {
    // fall through to the error below
  }
  throw invalidCursor();
}
