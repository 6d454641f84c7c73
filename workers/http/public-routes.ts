/*
 * The only routes under an authenticated prefix that answer without a credential. Everything
 * else under /v1 and /v2/models needs one (default deny); adding a route here makes it public.
 * Inbound webhooks authenticate by their signature instead of a bearer token.
 */
const SIGNED_HOOK = /^\/v1\/hooks\/([^/]+)$/;

export const PUBLIC_ROUTES: readonly { method: string; path: RegExp }[] = [
  { method: 'POST', path: /^\/v1\/auth\/register$/ },
  { method: 'POST', path: /^\/v1\/auth\/login$/ },
  { method: 'POST', path: /^\/v1\/auth\/refresh$/ },
  { method: 'POST', path: SIGNED_HOOK },
];

export const isPublicRoute = (method: string, path: string): boolean =>
  PUBLIC_ROUTES.some((r) => r.method === method && r.path.test(path));

/** The trigger an inbound webhook is addressed to; undefined for any other request. */
export const hookTrigger = (method: string, path: string): string | undefined =>
  method === 'POST' ? SIGNED_HOOK.exec(path)?.[1] : undefined;
