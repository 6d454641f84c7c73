import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { createWorker } from '../../workers/index';
import { rulesOf } from '../../workers/http/route';
import { call, callJson } from '../helpers';

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    const result = await validate(structuredClone(doc));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('matches the snapshot the CLI and the examples are typed from (npm run api:refresh updates it)', async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    // The server's own origin is the only part that depends on where it runs.
    delete doc.servers;
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot('../../scripts/api/openapi.json');
  });

  it('the validator does reject a broken document (so the test above can fail)', async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    doc.paths['/v1/models'].get.responses = 'nope';
    const result = await validate(doc);
    expect(result.valid).toBe(false);
  });

  it('describes every route with a summary and bearer security where a credential is needed', async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    const operations = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
      Object.entries(item).map(([method, op]: [string, any]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(14);
    for (const { path, method, op } of operations) {
      expect(op.summary, path).toBeTruthy();
      expect(op.description, path).toBeTruthy();
      const rules = rulesOf(method, path.replace(/\{([^}]+)\}/g, ':$1'));
      expect(rules, `${method} ${path} has route rules`).toBeDefined();
      if (rules!.access === 'public') expect(op.security, path).toBeUndefined();
      else expect(op.security, path).toEqual([{ Bearer: [] }]);
    }
    expect(doc.paths['/v1/models/{name}/versions'].post.requestBody.content).toHaveProperty('multipart/form-data');
  });

  it('gives every operation a description and every JSON body an example that its schema accepts', async () => {
    const doc = await callJson('GET', '/openapi.json', 200, { token: null });
    const resolve = (schema: any): any =>
      schema?.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()]) : schema;
    const problems: string[] = [];
    const check = (where: string, documented: any, declared: any) => {
      const example = documented.example ?? resolve(documented.schema)?.example;
      if (example === undefined) return problems.push(`${where}: no example`);
      // The zod schema the route validates with (or answers by) must accept its own example.
      const parsed = typeof declared?.schema?.safeParse === 'function' ? declared.schema.safeParse(example) : null;
      if (parsed && !parsed.success) problems.push(`${where}: example rejected: ${parsed.error.message}`);
    };
    const routes = createWorker()
      .app.openAPIRegistry.definitions.filter((d) => d.type === 'route')
      .map((d) => (d as { route: any }).route);
    expect(routes.length).toBe(Object.values(doc.paths).flatMap((item: any) => Object.keys(item)).length);
    for (const route of routes) {
      const op = doc.paths[route.path][route.method];
      const name = `${route.method.toUpperCase()} ${route.path}`;
      if (!op.description) problems.push(`${name}: no description`);
      const body = op.requestBody?.content?.['application/json'];
      if (body) check(`${name} request`, body, route.request.body.content['application/json']);
      for (const [status, response] of Object.entries<any>(op.responses)) {
        const json = response.content?.['application/json'];
        if (json) check(`${name} ${status}`, json, route.responses[status].content['application/json']);
      }
    }
    expect(problems.join('\n')).toBe('');
  });

  it('serves interactive docs that need nothing from the network', async () => {
    const page = await call('GET', '/docs', { token: null });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    const js = await call('GET', '/docs/swagger-ui-bundle.js', { token: null });
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(500_000);
    const css = await call('GET', '/docs/swagger-ui.css', { token: null });
    expect(css.headers.get('content-type')).toContain('text/css');
    const init = await (await call('GET', '/docs/init.js', { token: null })).text();
    expect(init).toContain("url: '/openapi.json'");
  });
});
