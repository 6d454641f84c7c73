// @ts-check
/* Outbound webhook endpoints and inbound triggers (signed webhooks that start jobs). */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { list, positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { readStdin } from '../prompt.mjs';
import { parseJsonl, readText } from '../records.mjs';
import { shortTime } from '../output.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../../api/types').Schemas['WebhookEndpoint']['events'][number]} WebhookEvent */

/** @type {Command[]} */
export const hookCommands = [
  {
    name: 'webhooks create',
    group: 'Webhooks',
    operations: ['POST /v1/webhooks'],
    args: '<url>',
    summary: 'Register an endpoint for platform events (its signing secret is printed this once)',
    options: {
      events: {
        type: 'string',
        value: 'LIST',
        multiple: true,
        description:
          'Comma-separated: job.succeeded, job.partially_failed, job.failed, job.cancelled, model.version.created, alias.moved, alias.rolled_back, alias.promoted, drift.detected, alert.fired, alert.resolved',
      },
      description: { type: 'string', value: 'TEXT', description: 'What it is for' },
    },
    notes: 'The URL must be https and public (loopback and private addresses are refused outside development).',
    async run({ client, args, values, out }) {
      const url = String(args[0]);
      const events = /** @type {WebhookEvent[]} */ (list(values.events));
      if (events.length === 0) throw usage('webhooks create needs --events');
      const endpoint = await client().request('post', '/v1/webhooks', {
        body: { url, events, description: str(values.description) },
      });
      out.result(endpoint, () => {
        out.line(`created ${endpoint.id} -> ${endpoint.url} for ${endpoint.events.join(', ')}`);
        out.line(`signing secret (shown this once): ${endpoint.secret}`);
      });
    },
  },
  {
    name: 'webhooks list',
    group: 'Webhooks',
    operations: ['GET /v1/webhooks'],
    summary: 'List webhook endpoints',
    async run({ client, out }) {
      const page = await client().request('get', '/v1/webhooks');
      out.result(page, ({ webhooks }) =>
        out.table(webhooks, [
          ['id', (w) => w.id],
          ['url', (w) => w.url],
          ['events', (w) => w.events.join(',')],
          ['enabled', (w) => (w.enabled ? 'yes' : 'no')],
          ['created', (w) => shortTime(w.created_at)],
        ]),
      );
    },
  },
  {
    name: 'webhooks delete',
    group: 'Webhooks',
    operations: ['DELETE /v1/webhooks/{id}'],
    args: '<id>',
    summary: 'Delete a webhook endpoint',
    async run({ client, args, out }) {
      const id = String(args[0]);
      await client().request('delete', '/v1/webhooks/{id}', { params: { id } });
      out.result({ id, deleted: true }, () => out.line(`deleted ${id}`));
    },
  },
  {
    name: 'triggers create',
    group: 'Batch',
    operations: ['POST /v1/triggers'],
    summary: 'Create a trigger: a signed hook URL that starts jobs (its secret is printed this once)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'What it is for (required)' },
      model: { type: 'string', value: 'MODEL', description: 'The model its jobs score (required)' },
      version: { type: 'string', value: 'V', description: 'A version number or alias, resolved per job' },
      'chunk-size': { type: 'string', value: 'N', description: 'Rows per chunk' },
      outputs: { type: 'string', value: 'LIST', description: 'Comma-separated outputs to compute' },
      'include-input': { type: 'boolean', description: 'Copy each input row into its result line' },
    },
    async run({ client, values, out, settings }) {
      const name = str(values.name);
      const model = str(values.model);
      if (!name || !model) throw usage('triggers create needs --name and --model');
      const outputs = list(values.outputs);
      const trigger = await client().request('post', '/v1/triggers', {
        body: {
          name,
          model,
          version: str(values.version),
          chunk_size: positiveInt(values['chunk-size'], 'chunk-size'),
          outputs: outputs.length ? outputs : undefined,
          include_input: values['include-input'] ? true : undefined,
        },
      });
      const hookUrl = new URL(trigger.hook_url, settings.url).href;
      out.result({ ...trigger, hook_url_absolute: hookUrl }, () => {
        out.line(`created ${trigger.id} for ${trigger.model}${trigger.version ? `@${trigger.version}` : ''}`);
        out.line(`hook URL: ${hookUrl}`);
        out.line(`signing secret (shown this once): ${trigger.secret}`);
      });
    },
  },
  {
    name: 'triggers list',
    group: 'Batch',
    operations: ['GET /v1/triggers'],
    summary: 'List triggers',
    async run({ client, out }) {
      const page = await client().request('get', '/v1/triggers');
      out.result(page, ({ triggers }) =>
        out.table(triggers, [
          ['id', (t) => t.id],
          ['name', (t) => t.name],
          ['model', (t) => `${t.model}${t.version ? `@${t.version}` : ''}`],
          ['hook', (t) => t.hook_url],
          ['created', (t) => shortTime(t.created_at)],
        ]),
      );
    },
  },
  {
    name: 'triggers delete',
    group: 'Batch',
    operations: ['DELETE /v1/triggers/{id}'],
    args: '<id>',
    summary: 'Delete a trigger: its hook URL answers 404 from then on',
    async run({ client, args, out }) {
      const id = String(args[0]);
      await client().request('delete', '/v1/triggers/{id}', { params: { id } });
      out.result({ id, deleted: true }, () => out.line(`deleted ${id}`));
    },
  },
  {
    name: 'triggers fire',
    group: 'Batch',
    operations: ['POST /v1/hooks/{id}'],
    args: '<id>',
    summary: 'Start a job through a trigger’s hook URL, signed with its secret, as another system would',
    notes: [
      'The request carries no credential: it is signed (Standard Webhooks) with the trigger’s secret,',
      'read from standard input with --secret-stdin or from MODELFLARE_TRIGGER_SECRET. Rows come from',
      '--data (a JSON array of records), --file (JSON Lines), --upload-id or --key. Sending the same',
      '--delivery-id again starts no second job.',
    ].join('\n'),
    options: {
      'secret-stdin': { type: 'boolean', description: 'Read the trigger’s secret (whsec_…) from standard input' },
      data: { type: 'string', value: 'JSON', description: 'Rows inline: a JSON array of records' },
      file: { type: 'string', value: 'FILE', description: 'Rows inline from a JSON Lines file' },
      'upload-id': { type: 'string', value: 'ID', description: 'An upload made before (`modelflare uploads create`)' },
      key: { type: 'string', value: 'KEY', description: 'An object under uploads/<workspace>/ in R2' },
      'delivery-id': { type: 'string', value: 'ID', description: 'The webhook-id to send (default: a new one)' },
    },
    async run({ client, args, values, out, env }) {
      const secret = values['secret-stdin'] ? await readStdin() : env.MODELFLARE_TRIGGER_SECRET;
      if (!secret) throw usage('triggers fire needs the trigger’s secret: --secret-stdin or MODELFLARE_TRIGGER_SECRET');
      const sources = ['data', 'file', 'upload-id', 'key'].filter((k) => values[k] !== undefined);
      if (sources.length !== 1) throw usage('triggers fire takes one of --data, --file, --upload-id or --key');
      /** @type {Record<string, unknown>} */
      let body;
      const data = str(values.data);
      const file = str(values.file);
      if (data !== undefined) {
        let rows;
        try {
          rows = JSON.parse(data);
        } catch (err) {
          throw usage(`--data is not valid JSON: ${/** @type {Error} */ (err).message}`);
        }
        body = { rows: Array.isArray(rows) ? rows : [rows] };
      } else if (file !== undefined) body = { rows: parseJsonl(readText(file), file) };
      else if (values['upload-id'] !== undefined) body = { upload_id: str(values['upload-id']) };
      else body = { key: str(values.key) };
      const payload = JSON.stringify(body);
      const id = str(values['delivery-id']) ?? `msg_${randomUUID().replace(/-/g, '')}`;
      const at = new Date();
      let signature;
      try {
        signature = new Webhook(secret.trim()).sign(id, at, payload);
      } catch (err) {
        throw usage(`not a trigger secret (whsec_…): ${/** @type {Error} */ (err).message}`);
      }
      // Signed over these exact bytes: sent as they are, without the client's JSON encoding.
      const bytes = new TextEncoder().encode(payload);
      const answer = await client().request('post', '/v1/hooks/{id}', {
        params: { id: String(args[0]) },
        raw: { body: bytes, contentType: 'application/json', length: bytes.length },
        headers: {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
      });
      out.result(answer, () => {
        out.line(`${answer.duplicate ? 'already started' : 'started'} ${answer.job_id}`);
        out.line(`follow it: modelflare jobs wait ${answer.job_id}`);
      });
    },
  },
];
