// @ts-check
/* Outbound webhook endpoints and inbound triggers (signed webhooks that start jobs). */
import { list, positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { shortTime } from '../output.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../../api/types').Schemas['WebhookEndpoint']['events'][number]} WebhookEvent */

/** @type {Command[]} */
export const hookCommands = [
  {
    name: 'webhooks create',
    args: '<url>',
    summary: 'Register an endpoint for platform events (its signing secret is printed this once)',
    options: {
      events: {
        type: 'string',
        value: 'LIST',
        multiple: true,
        description:
          'Comma-separated: job.succeeded, job.partially_failed, job.failed, job.cancelled, model.version.created, alias.moved',
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
    args: '<id>',
    summary: 'Delete a trigger: its hook URL answers 404 from then on',
    async run({ client, args, out }) {
      const id = String(args[0]);
      await client().request('delete', '/v1/triggers/{id}', { params: { id } });
      out.result({ id, deleted: true }, () => out.line(`deleted ${id}`));
    },
  },
];
