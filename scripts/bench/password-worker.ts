import { login, register } from '../../workers/auth/accounts';
import { checkPassword, hashPassword, type ScryptCost } from '../../workers/auth/passwords';
import { base64url } from '../../workers/auth/secrets';
import { ChangeFeed } from '../../workers/core/change-feed';
import { configFrom } from '../../workers/core/config';
import { createLogger } from '../../workers/core/logger';
import type { Env } from '../../workers/platform/env';
import { database } from '../../workers/storage/db';

// The Durable Object class wrangler.toml binds; this worker never calls it.
export { RateLimiter } from '../../workers/index';

/*
 * The password hash alone, for scripts/bench/passwords.mjs: `/hash?n&ln&r&p` hashes n times,
 * `/verify?…` verifies n times against one hash of that cost, `/pbkdf2?n` verifies n times
 * against a PBKDF2-SHA256 hash of 100,000 iterations (the scheme before scrypt), `/login` is
 * one sign-in through the account service (D1, the hash, a session, a JWT). The client
 * reads workerd's CPU time from /proc around each call: the Workers clock stands still here.
 */

const PASSWORD = 'correct horse battery staple';

async function pbkdf2Hash(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100_000 }, key, 256);
  return `pbkdf2-sha256$100000$${base64url(salt)}$${base64url(new Uint8Array(bits))}`;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/login') {
      const deps = { db: database(env.DB), config: configFrom(env), changes: new ChangeFeed(), logger: createLogger() };
      const email = url.searchParams.get('email')!;
      if (url.searchParams.has('register')) await register(deps, { email, password: PASSWORD });
      else await login(deps, { email, password: PASSWORD });
      return Response.json({ ok: true });
    }
    const n = Number(url.searchParams.get('n') ?? 1);
    const cost: ScryptCost = {
      N: 2 ** Number(url.searchParams.get('ln') ?? 14),
      r: Number(url.searchParams.get('r') ?? 8),
      p: Number(url.searchParams.get('p') ?? 1),
    };
    let ok = true;
    if (url.pathname === '/hash') {
      for (let i = 0; i < n; i++) await hashPassword(PASSWORD, cost);
    } else if (url.pathname === '/verify' || url.pathname === '/pbkdf2') {
      const stored = url.pathname === '/pbkdf2' ? await pbkdf2Hash(PASSWORD) : await hashPassword(PASSWORD, cost);
      for (let i = 0; i < n; i++) ok &&= (await checkPassword(PASSWORD, stored)).ok;
    } else {
      return new Response('not found', { status: 404 });
    }
    return Response.json({ ok });
  },
} satisfies ExportedHandler<Env>;
