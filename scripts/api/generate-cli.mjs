// @ts-check
/*
 * scripts/cli/operations.json from the OpenAPI snapshot: every operation a client can call, with
 * what the CLI needs to make a command of it (path and query parameters, the body's top-level
 * fields, the answers' media types). `npm run api:refresh` rewrites it with the snapshot; the
 * Node tests check that they agree. Names, positional order and hand-written help live in
 * scripts/cli/command-names.mjs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SNAPSHOT } from './generate-types.mjs';

export const OPERATIONS = fileURLToPath(new URL('../cli/operations.json', import.meta.url));

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * @typedef {'string' | 'integer' | 'number' | 'boolean' | 'flag' | 'list' | 'json' | 'any'} FieldKind
 *   `flag`: a query parameter that takes "true" or "false"; `list`: an array of scalars;
 *   `json`: anything else (objects, arrays of objects, unions), given as JSON; `any`: a value
 *   of any type (JSON, or else taken as a string)
 * @typedef {object} Field
 * @property {string} name
 * @property {FieldKind} kind
 * @property {boolean} required
 * @property {string} [description]
 * @property {(string | number)[]} [enum]
 * @property {boolean} [secret] a password: asked for, never a flag
 * @typedef {object} Operation
 * @property {string} method
 * @property {string} path
 * @property {string} summary
 * @property {string} description
 * @property {string[]} tags
 * @property {boolean} public no credential needed
 * @property {Field[]} params path parameters, in path order
 * @property {Field[]} query
 * @property {{ types: string[], required: boolean, fields: Field[], oneOf: boolean } | null} body
 * @property {Record<string, string | null>} answers the media type of each 2xx status (null: no body)
 */

/** @param {string} snapshot the OpenAPI document's text */
export function renderOperations(snapshot) {
  const doc = JSON.parse(snapshot);
  /** @param {any} schema */
  const deref = (schema) => {
    let s = schema;
    while (s?.$ref) s = doc.components.schemas[s.$ref.split('/').pop()];
    return s ?? {};
  };
  /**
   * @param {any} raw
   * @returns {{ kind: FieldKind, enum?: (string | number)[] }}
   */
  const kindOf = (raw) => {
    const s = deref(raw);
    const branches = s.anyOf ?? s.oneOf;
    if (branches) {
      const kinds = branches.map(kindOf).map((/** @type {{ kind: FieldKind }} */ k) => k.kind);
      // `tag=a` or `tag=a&tag=b`: one value or a list of them.
      if (kinds.every((/** @type {string} */ k) => k === 'string' || k === 'list')) return { kind: 'list' };
      return { kind: 'json' };
    }
    const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((/** @type {unknown} */ t) => t && t !== 'null');
    const type = types.length === 1 ? types[0] : undefined;
    if (s.enum) {
      const values = s.enum.filter((/** @type {unknown} */ v) => v !== null);
      if (values.length === 2 && values.includes('true') && values.includes('false')) return { kind: 'flag' };
      return { kind: typeof values[0] === 'number' ? 'number' : 'string', enum: values };
    }
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') return { kind: type };
    if (type === 'array') {
      const item = kindOf(s.items);
      if (item.kind === 'string' || item.kind === 'integer' || item.kind === 'number') {
        return item.enum ? { kind: 'list', enum: item.enum } : { kind: 'list' };
      }
    }
    if (types.length === 0 && !s.properties && !s.items) return { kind: 'any' };
    return { kind: 'json' };
  };
  /**
   * @param {string} name
   * @param {any} schema
   * @param {boolean} required
   * @param {string} [description]
   * @returns {Field}
   */
  const field = (name, schema, required, description) => {
    const { kind, enum: values } = kindOf(schema);
    const text = description ?? deref(schema).description;
    return {
      name,
      kind,
      required,
      ...(text ? { description: text.replace(/\s+/g, ' ').trim() } : {}),
      ...(values ? { enum: values } : {}),
      ...(/password$/.test(name) && kind === 'string' ? { secret: true } : {}),
    };
  };

  /** @type {Operation[]} */
  const operations = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const parameters = /** @type {any[]} */ (op.parameters ?? []);
      const pathOrder = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const params = pathOrder.map((name) => {
        const p = parameters.find((x) => x.in === 'path' && x.name === name);
        return field(String(name), p?.schema, true, p?.description);
      });
      const query = parameters
        .filter((p) => p.in === 'query')
        .map((p) => field(p.name, p.schema, Boolean(p.required), p.description));
      /** @type {Operation['body']} */
      let body = null;
      if (op.requestBody) {
        const types = Object.keys(op.requestBody.content);
        const json = op.requestBody.content['application/json'];
        /** @type {Field[]} */
        const fields = [];
        let oneOf = false;
        if (json) {
          const schema = deref(json.schema);
          const branches = (schema.anyOf ?? schema.oneOf ?? [schema]).map(deref);
          oneOf = branches.length > 1;
          for (const branch of branches) {
            const required = new Set(oneOf ? [] : (branch.required ?? []));
            for (const [name, prop] of Object.entries(branch.properties ?? {})) {
              if (!fields.some((f) => f.name === name)) fields.push(field(name, prop, required.has(name)));
            }
          }
        }
        body = { types, required: Boolean(op.requestBody.required), fields, oneOf };
      }
      /** @type {Record<string, string | null>} */
      const answers = {};
      for (const [status, response] of Object.entries(/** @type {Record<string, any>} */ (op.responses))) {
        if (!/^2\d\d$/.test(status)) continue;
        answers[status] = Object.keys(response.content ?? {})[0] ?? null;
      }
      operations.push({
        method,
        path,
        summary: op.summary ?? '',
        description: (op.description ?? '').trim(),
        tags: op.tags ?? [],
        public: !op.security || op.security.length === 0,
        params,
        query,
        body,
        answers,
      });
    }
  }
  return `${JSON.stringify(operations, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPERATIONS, renderOperations(readFileSync(SNAPSHOT, 'utf8')));
  console.log(`wrote ${OPERATIONS}`);
}
