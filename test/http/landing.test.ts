import { describe, expect, it } from 'vitest';
import { call } from '../helpers';

describe('GET /', () => {
  it('is a page linking the dashboard, the docs and the health check, each of which answers', async () => {
    const res = await call('GET', '/', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toContain('<script');
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(expect.arrayContaining(['/dashboard', '/docs', '/v2/health/ready']));
    for (const link of links) {
      const target = await call('GET', link!, { token: null });
      expect(target.status, link).toBe(200);
      await target.body?.cancel();
    }
    // The example names this server's own address.
    expect(html).toContain('curl -H "Authorization: Bearer $TOKEN" http://');
  });

  it('answers a client that asks for JSON with the same links', async () => {
    const res = await call('GET', '/', { token: null, headers: { accept: 'application/json' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json<any>();
    expect(body.links.map((l: any) => l.href)).toEqual(
      expect.arrayContaining(['/dashboard', '/docs', '/v2/health/ready', '/openapi.json']),
    );
  });

  it('is the same with a trailing query, and other methods get 405', async () => {
    expect((await call('GET', '/?from=banner', { token: null })).status).toBe(200);
    const post = await call('POST', '/', { token: null, body: {} });
    expect(post.status).toBe(405);
  });
});
