import { plainRoute, type RouteRules } from '../route';
import { newRouter } from '../router';

/*
 * `GET /`: where someone who opens the server's address lands. A page linking the dashboard,
 * the API docs and the health check (JSON with the same links for a client that asks for JSON),
 * rather than an error for the one address everybody tries first.
 */
const LINKS = [
  { rel: 'dashboard', href: '/dashboard', title: 'Dashboard', about: 'traffic, latency, errors and drift per model' },
  { rel: 'docs', href: '/docs', title: 'API docs', about: 'every route, with “try it out”' },
  { rel: 'openapi', href: '/openapi.json', title: 'OpenAPI document', about: 'for clients and code generators' },
  { rel: 'health', href: '/v2/health/ready', title: 'Health', about: 'whether D1, R2 and KV answer' },
  { rel: 'server', href: '/v2', title: 'Server metadata', about: 'Open Inference Protocol' },
] as const;

const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(origin: string): string {
  const items = LINKS.map(
    (l) => `<li><a href="${l.href}">${escape(l.title)}</a> <span>${escape(l.about)}</span></li>`,
  ).join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>modelflare</title>
  <style>
    body { margin: 0 auto; max-width: 680px; padding: 32px 20px; font: 15px/1.5 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: #1d2433; }
    h1 { font-size: 22px; margin: 0 0 4px; } h1 b { color: #f38020; }
    ul { list-style: none; padding: 0; } li { padding: 8px 0; border-bottom: 1px solid #e4e7ec; }
    li a { font-weight: 600; color: #b45309; } li span { color: #667085; }
    pre { background: #f7f8fa; border: 1px solid #e4e7ec; border-radius: 6px; padding: 12px; overflow-x: auto; font-size: 13px; }
  </style>
</head>
<body>
  <h1><b>model</b>flare</h1>
  <p>ML model serving: an ONNX registry, the Open Inference Protocol, batch jobs and monitoring.</p>
  <ul>
      ${items}
  </ul>
  <p>Every <code>/v1</code> and <code>/v2/models</code> route wants <code>Authorization: Bearer &lt;token&gt;</code>:</p>
  <pre>curl -H "Authorization: Bearer $TOKEN" ${escape(origin)}/v1/models</pre>
</body>
</html>`;
}

const PAGE: RouteRules = { access: 'public', budget: 'unmetered', body: 'none' };

export const landingRoutes = newRouter().get('/', plainRoute('GET', '/', PAGE), (c) => {
  const origin = new URL(c.req.url).origin;
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/json') && !accept.includes('text/html')) {
    return c.json({ name: 'modelflare', links: LINKS.map(({ rel, href, title }) => ({ rel, href, title })) });
  }
  return c.html(page(origin));
});
