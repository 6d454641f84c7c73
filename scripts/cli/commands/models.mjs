// @ts-check
/* The registry: list, show, push (upload a version), aliases, archive. */
import { basename } from 'node:path';
import { collectPages, limitOf, limitOption, list, positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { formatBytes, shortTime, show } from '../output.mjs';
import { preflight } from '../preflight.mjs';
import { confirm } from '../prompt.mjs';
import { fileBody, fileSize, multipartFileBody } from '../upload.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../../api/types').Schemas['ModelVersion']} ModelVersion */
/** @typedef {import('../../api/types').Schemas['TensorSpec']} TensorSpec */

/**
 * `k=v` pairs into an object; numbers for metrics.
 * @template T
 * @param {string[]} pairs
 * @param {string} option
 * @param {(v: string) => T} convert
 */
function keyValues(pairs, option, convert) {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw usage(`--${option} takes key=value, not ${pair}`);
      return [pair.slice(0, at), convert(pair.slice(at + 1))];
    }),
  );
}

/** @param {string} v */
function metricValue(v) {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw usage(`--metric values are numbers, not ${v}`);
  return n;
}

/**
 * @param {unknown} v
 * @returns {'classification' | 'regression' | 'other' | undefined}
 */
function taskOf(v) {
  if (v === undefined) return undefined;
  if (v === 'classification' || v === 'regression' || v === 'other') return v;
  throw usage('--task is classification, regression or other');
}

/** @param {unknown} v */
const multi = (v) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** @param {TensorSpec[]} specs */
const tensors = (specs) => specs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ') || '-';

/**
 * @param {import('../output.mjs').Output} out
 * @param {ModelVersion} v
 */
function describeVersion(out, v) {
  out.line(`${v.model} version ${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}`);
  out.line(`  sha256   ${v.sha256}`);
  out.line(`  size     ${formatBytes(v.size_bytes)}`);
  out.line(`  inputs   ${tensors(v.signature.inputs)}`);
  out.line(`  outputs  ${tensors(v.signature.outputs)}`);
  if (v.signature.unserved_outputs.length) {
    out.line(`  unserved ${v.signature.unserved_outputs.map((o) => `${o.name} (${o.reason})`).join('; ')}`);
  }
  if (v.description) out.line(`  about    ${v.description}`);
  if (Object.keys(v.metrics).length) out.line(`  metrics  ${show(v.metrics)}`);
  out.line(`  created  ${shortTime(v.created_at)}${v.archived_at ? `, archived ${shortTime(v.archived_at)}` : ''}`);
}

/** @type {Command[]} */
export const modelCommands = [
  {
    name: 'models list',
    group: 'Registry',
    operations: ['GET /v1/models'],
    summary: 'List the workspace’s models',
    options: {
      prefix: { type: 'string', value: 'P', description: 'Only names starting with P' },
      tag: { type: 'string', value: 'K[=V]', multiple: true, description: 'Only models with this tag' },
      task: { type: 'string', value: 'T', description: 'classification, regression or other' },
      archived: { type: 'boolean', description: 'Include archived models' },
      ...limitOption(100),
    },
    async run({ client, values, out }) {
      const limit = limitOf(values, 100);
      const task = taskOf(values.task);
      const page = await collectPages(async (cursor, size) => {
        const p = await client().request('get', '/v1/models', {
          query: {
            cursor,
            limit: size,
            name_prefix: str(values.prefix),
            tag: multi(values.tag),
            task,
            include_archived: values.archived ? 'true' : undefined,
          },
        });
        return { items: p.models, next: p.next_cursor };
      }, limit);
      out.result({ models: page.items, next_cursor: page.next_cursor }, ({ models }) =>
        out.table(models, [
          ['name', (m) => m.name],
          ['latest', (m) => m.latest_version],
          [
            'aliases',
            (m) =>
              Object.entries(m.aliases)
                .map(([a, v]) => `${a}=${v}`)
                .join(','),
          ],
          ['task', (m) => m.task],
          ['updated', (m) => shortTime(m.updated_at)],
          ['state', (m) => (m.archived_at ? 'archived' : 'active')],
        ]),
      );
    },
  },
  {
    name: 'models create',
    group: 'Registry',
    operations: ['POST /v1/models'],
    args: '<model>',
    summary: 'Create a model with its metadata (a first push creates it too, without)',
    notes: [
      'Feature names let records be objects keyed by feature (and CSV files have them as their header);',
      'with --task classification and class labels, predictions carry the label and class probabilities.',
    ].join('\n'),
    options: {
      description: { type: 'string', value: 'TEXT', description: 'What the model does' },
      task: { type: 'string', value: 'T', description: 'classification, regression or other' },
      'feature-names': { type: 'string', value: 'LIST', description: 'Comma-separated names of the input features' },
      'class-labels': { type: 'string', value: 'LIST', description: 'Comma-separated class labels, in output order' },
      tag: { type: 'string', value: 'K=V', multiple: true, description: 'A tag of the model' },
      'cache-ttl': { type: 'string', value: 'S', description: 'Cache predictions for S seconds (60 or more)' },
    },
    async run({ client, args, values, out }) {
      const features = list(values['feature-names']);
      const labels = list(values['class-labels']);
      const ttl = positiveInt(values['cache-ttl'], 'cache-ttl');
      const model = await client().request('post', '/v1/models', {
        body: {
          name: String(args[0]),
          description: str(values.description),
          task: taskOf(values.task),
          tags: multi(values.tag).length ? keyValues(multi(values.tag), 'tag', String) : undefined,
          feature_names: features.length ? features : undefined,
          class_labels: labels.length ? labels : undefined,
          cache: ttl === undefined ? undefined : { enabled: true, ttl_seconds: ttl },
        },
      });
      out.result(model, () => out.line(`created ${model.name} (${model.task})`));
    },
  },
  {
    name: 'models show',
    group: 'Registry',
    operations: ['GET /v1/models/{name}', 'GET /v1/models/{name}/versions/{version}'],
    args: '<model>',
    summary: 'Show a model and its recent versions, or one version with --version',
    options: { version: { type: 'string', value: 'V', description: 'A version number, latest, or an alias' } },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      const version = str(values.version);
      if (version) {
        const v = await client().request('get', '/v1/models/{name}/versions/{version}', {
          params: { name, version },
        });
        out.result(v, () => describeVersion(out, v));
        return;
      }
      const model = await client().request('get', '/v1/models/{name}', { params: { name } });
      const { versions } = await client().request('get', '/v1/models/{name}/versions', {
        params: { name },
        query: { limit: 10 },
      });
      out.result({ model, versions }, () => {
        out.line(`${model.name}${model.archived_at ? ' (archived)' : ''}: ${model.description || 'no description'}`);
        out.line(`  task      ${model.task}`);
        out.line(`  latest    ${show(model.latest_version)}`);
        out.line(
          `  aliases   ${
            Object.entries(model.aliases)
              .map(([a, v]) => `${a} -> ${v}`)
              .join(', ') || '-'
          }`,
        );
        if (model.feature_names) out.line(`  features  ${model.feature_names.join(', ')}`);
        if (model.class_labels) out.line(`  labels    ${model.class_labels.join(', ')}`);
        out.line(`  cache     ${model.cache.enabled ? `on, ${model.cache.ttl_seconds} s` : 'off'}`);
        out.line('');
        out.table(versions, [
          ['version', (v) => v.version],
          ['aliases', (v) => v.aliases.join(',')],
          ['size', (v) => formatBytes(v.size_bytes)],
          ['sha256', (v) => v.sha256.slice(0, 12)],
          ['inputs', (v) => tensors(v.signature.inputs)],
          ['created', (v) => shortTime(v.created_at)],
        ]);
      });
    },
  },
  {
    name: 'models push',
    group: 'Registry',
    operations: ['POST /v1/models/{name}/versions'],
    args: '<file>',
    summary: 'Upload an ONNX file as the next version of a model (created if new)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'The model (required)' },
      alias: { type: 'string', value: 'ALIAS', multiple: true, description: 'Point this alias at the new version' },
      description: { type: 'string', value: 'TEXT', description: 'Describe the version' },
      tag: { type: 'string', value: 'K=V', multiple: true, description: 'A tag of the version' },
      metric: { type: 'string', value: 'K=N', multiple: true, description: 'A training metric, e.g. accuracy=0.97' },
    },
    async run({ client, args, values, out }) {
      const name = str(values.name);
      if (!name) throw usage('models push needs --name');
      const file = String(args[0]);
      const metadata = {
        ...(str(values.description) ? { description: str(values.description) } : {}),
        ...(multi(values.tag).length ? { tags: keyValues(multi(values.tag), 'tag', String) } : {}),
        ...(multi(values.metric).length ? { metrics: keyValues(multi(values.metric), 'metric', metricValue) } : {}),
      };
      await preflight(client(), {
        permission: 'models:write',
        limit: 'max_model_bytes',
        size: fileSize(file),
        what: file,
      });
      const label = `uploading ${basename(file)}`;
      const raw =
        Object.keys(metadata).length > 0
          ? multipartFileBody(out, label, file, metadata)
          : fileBody(out, label, file, { contentType: 'application/octet-stream' });
      const created = await client().request('post', '/v1/models/{name}/versions', { params: { name }, raw });
      const aliases = multi(values.alias);
      for (const alias of aliases) {
        await client().request('put', '/v1/models/{name}/aliases/{alias}', {
          params: { name, alias },
          body: { version: created.version },
        });
      }
      const version = aliases.length
        ? await client().request('get', '/v1/models/{name}/versions/{version}', {
            params: { name, version: String(created.version) },
          })
        : created;
      out.result(version, () => describeVersion(out, version));
    },
  },
  {
    name: 'models alias set',
    group: 'Registry',
    operations: ['PUT /v1/models/{name}/aliases/{alias}'],
    args: '<model> <alias> <version>',
    summary: 'Point an alias (production, staging, …) at a version',
    async run({ client, args, out }) {
      const [name, alias, version] = args.map(String);
      const n = Number(version);
      if (!Number.isInteger(n) || n < 1) throw usage(`the version is a number, not ${version}`);
      const change = await client().request('put', '/v1/models/{name}/aliases/{alias}', {
        params: { name: String(name), alias: String(alias) },
        body: { version: n },
      });
      out.result(change, () =>
        out.line(
          `${change.model}: ${change.alias} -> ${change.version}${change.previous_version ? ` (was ${change.previous_version})` : ''}`,
        ),
      );
    },
  },
  {
    name: 'models alias rm',
    group: 'Registry',
    operations: ['DELETE /v1/models/{name}/aliases/{alias}'],
    args: '<model> <alias>',
    summary: 'Remove an alias',
    async run({ client, args, out }) {
      const [name, alias] = args.map(String);
      const change = await client().request('delete', '/v1/models/{name}/aliases/{alias}', {
        params: { name: String(name), alias: String(alias) },
      });
      out.result(change, () =>
        out.line(`${change.model}: removed ${change.alias} (pointed at ${show(change.previous_version)})`),
      );
    },
  },
  {
    name: 'models archive',
    group: 'Registry',
    operations: ['DELETE /v1/models/{name}', 'DELETE /v1/models/{name}/versions/{version}'],
    args: '<model>',
    summary: 'Archive a model (or one version with --version): it stops serving, files are kept',
    options: { version: { type: 'string', value: 'V', description: 'Archive only this version' } },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      const version = str(values.version);
      if (version) {
        const v = await client().request('delete', '/v1/models/{name}/versions/{version}', {
          params: { name, version },
        });
        out.result(v, () => out.line(`archived ${v.model} version ${v.version}`));
        return;
      }
      const model = await client().request('delete', '/v1/models/{name}', { params: { name } });
      out.result(model, () => out.line(`archived ${name}`));
    },
  },
  {
    name: 'models restore',
    group: 'Registry',
    // One field of the PATCH routes: `models update` and `models version update` remain for the rest.
    operations: [],
    args: '<model>',
    summary: 'Restore an archived model (or one version with --version): it serves again',
    options: { version: { type: 'string', value: 'V', description: 'Restore only this version' } },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      const version = str(values.version);
      if (version) {
        const v = await client().request('patch', '/v1/models/{name}/versions/{version}', {
          params: { name, version },
          body: { archived: false },
        });
        out.result(v, () => out.line(`restored ${v.model} version ${v.version}`));
        return;
      }
      const model = await client().request('patch', '/v1/models/{name}', {
        params: { name },
        body: { archived: false },
      });
      out.result(model, () => out.line(`restored ${model.name}`));
    },
  },
  {
    name: 'models delete',
    group: 'Registry',
    operations: ['DELETE /v1/models/{name}'],
    args: '<model>',
    summary: 'Delete a model for good: its versions, aliases and files; the name is free again',
    notes: 'Asks on a terminal; elsewhere it needs --yes. To stop serving but keep everything, archive it.',
    options: { yes: { type: 'boolean', short: 'y', description: 'Delete without asking' } },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      await confirm(values, `models delete ${name}`);
      await client().request('delete', '/v1/models/{name}', { params: { name }, query: { purge: 'true' } });
      out.result({ name, deleted: true }, () => out.line(`deleted ${name}`));
    },
  },
];
