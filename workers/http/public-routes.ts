/*
 * The only routes under an authenticated prefix that answer without a credential. Everything
 * else under /v1 and /v2/models needs one (default deny); adding a route here makes it public.
 */
export const PUBLIC_ROUTES: readonly { method: string; path: string }[] = [
  { method: 'POST', path: '/v1/auth/register' },
  { method: 'POST', path: '/v1/auth/login' },
  { method: 'POST', path: '/v1/auth/refresh' },
];

export const isPublicRoute = (method: string, path: string): boolean =>
  PUBLIC_ROUTES.some((r) => r.method === method && r.path === path);
