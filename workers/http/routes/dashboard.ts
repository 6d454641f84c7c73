import uplotCss from 'uplot/dist/uPlot.min.css';
import uplotJs from 'uplot/dist/uPlot.iife.min.js';
import { DASHBOARD_HTML } from '../dashboard/page';
import dashboardJs from '../dashboard/dashboard.client.js';
import { plainRoute, type RouteRules } from '../route';
import { newRouter } from '../router';

/*
 * The dashboard is a static page; its data comes from the API with the user's own token, so
 * these routes are public and the page shows nothing until the API accepts a credential.
 */
const asset = (type: string) => ({ 'Content-Type': type, 'Cache-Control': 'public, max-age=300' });

const PAGE: RouteRules = { access: 'public', budget: 'unmetered', body: 'none' };
const get = (path: string) => [path, plainRoute('GET', path, PAGE)] as const;

export const dashboardRoutes = newRouter()
  .get(...get('/dashboard'), (c) => c.html(DASHBOARD_HTML))
  .get(...get('/dashboard/app.js'), (c) => c.body(dashboardJs, 200, asset('text/javascript; charset=utf-8')))
  .get(...get('/dashboard/uplot.js'), (c) => c.body(uplotJs, 200, asset('text/javascript; charset=utf-8')))
  .get(...get('/dashboard/uplot.css'), (c) => c.body(uplotCss, 200, asset('text/css; charset=utf-8')))
  .get(...get('/favicon.ico'), (c) => c.body(null, 204));
