import type { Context } from 'hono';

/**
 * Adds headers to the response the handler has built. hono's c.header() after the handler
 * copies the whole Response for every header it sets; the Responses built here have mutable
 * headers, so they are set in place. One with immutable headers (a fetched Response passed
 * through) is copied once.
 */
export function addResponseHeaders(c: Context, headers: Record<string, string>, append: string[] = []): void {
  const apply = (target: Headers) => {
    for (const [name, value] of Object.entries(headers)) {
      if (append.includes(name)) target.append(name, value);
      else target.set(name, value);
    }
  };
  try {
    apply(c.res.headers);
  } catch {
    const copy = new Response(c.res.body, c.res);
    apply(copy.headers);
    c.res = undefined;
    c.res = copy;
  }
}
