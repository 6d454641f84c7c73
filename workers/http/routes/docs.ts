import swaggerCss from 'swagger-ui-dist/swagger-ui.css';
import swaggerJs from 'swagger-ui-dist/swagger-ui-bundle.js';
import { plainRoute, type RouteRules } from '../route';
import { newRouter } from '../router';

/*
 * Interactive API docs: Swagger UI served from the worker bundle itself so the page works
 * offline and under a same-origin Content-Security-Policy (no inline script, no CDN).
 */
const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>modelflare API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

const init = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  // The validator badge would load an image from another origin, which the CSP refuses.
  validatorUrl: null,
});`;

const asset = (type: string) => ({ 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' });

const PAGE: RouteRules = { access: 'public', budget: 'unmetered', body: 'none' };
const get = (path: string) => [path, plainRoute('GET', path, PAGE)] as const;

export const docsRoutes = newRouter()
  .get(...get('/docs'), (c) => c.html(page))
  .get(...get('/docs/swagger-ui.css'), (c) => c.body(swaggerCss, 200, asset('text/css; charset=utf-8')))
  .get(...get('/docs/swagger-ui-bundle.js'), (c) => c.body(swaggerJs, 200, asset('text/javascript; charset=utf-8')))
  .get(...get('/docs/init.js'), (c) => c.body(init, 200, asset('text/javascript; charset=utf-8')));
