// @ts-check
/*
 * A command for every operation of the API that no hand-written command covers, made from the
 * generated table (operations.json, from the OpenAPI snapshot) and named in command-names.mjs.
 * Path parameters are its arguments; query parameters and the JSON body's top-level fields are
 * its flags (--data gives the whole body); the answer is printed as a table or key/value lines,
 * or with --json as the API's JSON; a file or text answer goes to stdout or --output.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GLOBAL_OPTIONS } from './args.mjs';
import { COMMAND_NAMES, derivedName } from './command-names.mjs';
import { str } from './context.mjs';
import { usage } from './errors.mjs';
import { confirm, promptSecret, readStdin } from './prompt.mjs';
import { closest, didYouMean } from './suggest.mjs';

/** One JSON document (`application/json`, `application/problem+json`), not JSON Lines (`x-ndjson`). */
const isJsonType = (/** @type {string} */ type) => /^application\/([\w.-]+\+)?json\b/i.test(type);

/** @typedef {import('./args.mjs').Command} Command */
/** @typedef {import('./args.mjs').OptionSpec} OptionSpec */
/** @typedef {import('../api/generate-cli.mjs').Operation} Operation */
/** @typedef {import('../api/generate-cli.mjs').Field} Field */
/** @typedef {import('./command-names.mjs').Naming} Naming */

/** @type {Operation[]} */
export const OPERATIONS = JSON.parse(readFileSync(new URL('./operations.json', import.meta.url), 'utf8'));

/** @param {{ method: string, path: string }} op */
export const operationKey = (op) => `${op.method.toUpperCase()} ${op.path}`;

const kebab = (/** @type {string} */ name) => name.replace(/_/g, '-');

/** Where each field's value comes from: its flag, and whether it is a path, query or body field. */
/** @typedef {{ field: Field, flag: string, place: 'query' | 'body' }} Binding */

/**
 * @param {Operation[]} variants the operations of one command, fewest path parameters first
 * @param {Naming} naming
 */
function bindings(variants, naming) {
  /** @type {Map<string, Binding>} */
  const byFlag = new Map();
  for (const op of variants) {
    const fields = [
      ...op.query.map((field) => ({ field, place: /** @type {const} */ ('query') })),
      ...(op.body?.fields ?? []).map((field) => ({ field, place: /** @type {const} */ ('body') })),
    ];
    for (const { field, place } of fields) {
      if (field.secret) continue;
      const flag = naming.flags?.[field.name] ?? kebab(field.name);
      const known = byFlag.get(flag);
      if (known && (known.field.name !== field.name || known.place !== place)) {
        throw new Error(`${naming.name}: --${flag} would be two fields; name one in command-names.mjs`);
      }
      if (flag in GLOBAL_OPTIONS || flag === 'data' || flag === 'output' || flag === 'yes') {
        throw new Error(
          `${naming.name}: --${flag} is taken; give the field '${field.name}' a flag in command-names.mjs`,
        );
      }
      byFlag.set(flag, { field, flag, place });
    }
  }
  return [...byFlag.values()];
}

/** @param {Field} field */
function describe(field) {
  const text = field.description ?? field.name.replace(/_/g, ' ');
  const values = field.enum ? ` (${field.enum.join(', ')})` : '';
  const kind =
    field.kind === 'json'
      ? ' [JSON or @FILE]'
      : field.kind === 'list'
        ? ' [comma-separated]'
        : field.kind === 'any'
          ? ' [JSON or a word]'
          : '';
  return `${text}${values}${kind}${field.required ? ' (required)' : ''}`;
}

/** @param {Binding[]} bound */
function optionsOf(bound) {
  /** @type {Record<string, OptionSpec>} */
  const options = {};
  for (const { field, flag } of bound) {
    if (field.kind === 'boolean') {
      options[flag] = { type: 'boolean', description: `${describe(field)} (true; --no-${flag}: false)` };
      options[`no-${flag}`] = { type: 'boolean', description: `Send ${field.name}: false` };
    } else if (field.kind === 'flag') {
      options[flag] = { type: 'boolean', description: describe(field) };
    } else {
      options[flag] = {
        type: 'string',
        value: field.kind === 'integer' || field.kind === 'number' ? 'N' : field.kind === 'json' ? 'JSON' : 'VALUE',
        description: describe(field),
        ...(field.kind === 'list' ? { multiple: true } : {}),
      };
    }
  }
  return options;
}

/**
 * A flag's value as the API takes it; a value the field cannot take is a usage error.
 * @param {Binding} binding
 * @param {unknown} raw
 */
function valueOf({ field, flag }, raw) {
  const oneOf = (/** @type {string} */ v) => {
    if (field.enum && !field.enum.map(String).includes(v)) {
      const known = field.enum.map(String);
      throw usage(`--${flag} is one of ${known.join(', ')}, not ${v}${didYouMean(closest(v, known))}`);
    }
    return v;
  };
  switch (field.kind) {
    case 'boolean':
    case 'flag':
      return field.kind === 'flag' ? 'true' : true;
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (String(raw).trim() === '' || !Number.isFinite(n) || (field.kind === 'integer' && !Number.isInteger(n))) {
        throw usage(`--${flag} takes a ${field.kind === 'integer' ? 'whole number' : 'number'}, not ${String(raw)}`);
      }
      return n;
    }
    case 'list':
      return (Array.isArray(raw) ? raw : [raw])
        .flatMap((v) => String(v).split(','))
        .map((v) => v.trim())
        .filter(Boolean)
        .map(oneOf);
    case 'json':
    case 'any':
      try {
        return JSON.parse(String(raw).startsWith('@') ? readFileArg(String(raw).slice(1)) : String(raw));
      } catch (err) {
        if (field.kind === 'any') return String(raw);
        throw usage(`--${flag} takes JSON: ${/** @type {Error} */ (err).message}`);
      }
    default:
      return oneOf(String(raw));
  }
}

/** @param {string} path */
function readFileArg(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(`cannot read ${path}: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * The body given with --data: JSON, @FILE, or - for standard input.
 * @param {string} text
 */
async function dataOption(text) {
  let source = text;
  if (text === '-') source = await readStdin();
  else if (text.startsWith('@')) source = readFileArg(text.slice(1));
  try {
    return JSON.parse(source);
  } catch (err) {
    throw usage(`--data is not valid JSON: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * The passwords a body needs: from standard input (one a line, in order) or asked for.
 * @param {Field[]} secrets
 * @param {Record<string, unknown>} values
 */
async function secretValues(secrets, values) {
  if (secrets.length === 0) return {};
  const lines = values['password-stdin'] ? (await readStdin()).split(/\r?\n/) : undefined;
  /** @type {Record<string, string>} */
  const found = {};
  for (const [k, field] of secrets.entries()) {
    const value = lines
      ? lines[k]
      : await promptSecret(`${field.name.replace(/_/g, ' ')}: `, 'read it from standard input with --password-stdin');
    if (!value) throw usage(`no ${field.name.replace(/_/g, ' ')}: give one line per password on standard input`);
    found[field.name] = value;
  }
  return found;
}

/**
 * The command of one or more operations (variants by how many path parameters are given).
 * @param {string} name
 * @param {Operation[]} ops
 * @param {Naming} naming
 * @returns {Command}
 */
function commandOf(name, ops, naming) {
  const variants = [...ops].sort((a, b) => a.params.length - b.params.length);
  const base = variants[0];
  if (!base) throw new Error(`${name}: no operation`);
  for (const op of variants.slice(1)) {
    const same = base.params.every((p, i) => op.params[i]?.name === p.name);
    if (!same || op.params.length !== base.params.length + 1) {
      throw new Error(`${name}: ${operationKey(op)} is not ${operationKey(base)} with one more path parameter`);
    }
  }
  const longest = variants.at(-1) ?? base;
  // `{name}` of a model reads better as <model>.
  const shown = (/** @type {Field} */ p) =>
    p.name === 'name' && base.path.startsWith('/v1/models/') ? 'model' : kebab(p.name);
  const args = longest.params.map((p, i) => (i < base.params.length ? `<${shown(p)}>` : `[${shown(p)}]`)).join(' ');
  const bound = bindings(variants, naming);
  const jsonBody = variants.some((op) => op.body?.types.includes('application/json'));
  const rawBody = variants.some((op) => op.body && !op.body.types.includes('application/json'));
  const fileAnswer = variants.some((op) =>
    Object.values(op.answers).some((type) => type !== null && !isJsonType(type)),
  );
  const secrets = base.body?.fields.filter((f) => f.secret) ?? [];

  /** @type {Record<string, OptionSpec>} */
  const options = { ...optionsOf(bound) };
  if (jsonBody) {
    options.data = {
      type: 'string',
      value: 'JSON',
      description: 'The whole request body: JSON, @FILE, or - for standard input (flags are added to it)',
    };
  }
  if (rawBody) {
    options.file = {
      type: 'string',
      value: 'FILE',
      description: `The request body (${base.body?.types.join(' or ')})`,
    };
  }
  if (secrets.length > 0) {
    options['password-stdin'] = {
      type: 'boolean',
      description: `Read ${secrets.map((s) => s.name).join(', then ')} from standard input, one a line`,
    };
  }
  if (fileAnswer)
    options.output = { type: 'string', short: 'o', value: 'FILE', description: 'Write the answer to FILE' };
  if (naming.confirm) options.yes = { type: 'boolean', short: 'y', description: 'Do it without asking' };

  const notes = [
    base.description,
    naming.notes,
    `API: ${variants.map((op) => operationKey(op)).join(', ')}${base.public ? ' (no credential needed)' : ''}`,
  ]
    .filter(Boolean)
    .join('\n\n');

  return {
    name,
    args,
    summary: naming.summary ?? base.summary,
    notes,
    options,
    group: base.tags[0] ?? 'Other',
    operations: variants.map(operationKey),
    async run(ctx) {
      const { values, out } = ctx;
      const op = variants.find((v) => v.params.length === ctx.args.length) ?? base;
      const params = Object.fromEntries(op.params.map((p, i) => [p.name, ctx.args[i]]));
      /** @type {Record<string, unknown>} */
      const query = {};
      /** @type {Record<string, unknown> | undefined} */
      let body;
      if (op.body?.types.includes('application/json')) {
        const data = str(values.data);
        const given = data === undefined ? {} : await dataOption(data);
        if (typeof given !== 'object' || given === null || Array.isArray(given)) {
          throw usage('--data is the request body: a JSON object');
        }
        body = /** @type {Record<string, unknown>} */ (given);
      }
      for (const binding of bound) {
        const own = binding.place === 'query' ? op.query : (op.body?.fields ?? []);
        if (!own.some((f) => f.name === binding.field.name)) continue;
        const raw = values[binding.flag];
        const target = binding.place === 'query' ? query : body;
        if (!target) continue;
        if (binding.field.kind === 'boolean' && values[`no-${binding.flag}`]) target[binding.field.name] = false;
        else if (raw !== undefined && raw !== false) target[binding.field.name] = valueOf(binding, raw);
      }
      if (body)
        Object.assign(
          body,
          await secretValues(
            secrets.filter((f) => !(f.name in body)),
            values,
          ),
        );
      const missing = [
        ...op.query.filter((f) => f.required && query[f.name] === undefined),
        ...(op.body && !op.body.oneOf ? op.body.fields.filter((f) => f.required && body?.[f.name] === undefined) : []),
      ];
      if (missing.length > 0) {
        const flags = missing.map((f) => `--${bound.find((b) => b.field.name === f.name)?.flag ?? kebab(f.name)}`);
        throw usage(`${name} needs ${flags.join(' and ')}\nSee: modelflare ${name} --help`);
      }
      /** @type {import('../api/types').RawBody | undefined} */
      let raw;
      if (op.body && !op.body.types.includes('application/json')) {
        const file = str(values.file);
        if (!file) throw usage(`${name} needs --file`);
        const { fileBody } = await import('./upload.mjs');
        raw = fileBody(out, `uploading ${file}`, file, { contentType: op.body.types[0] ?? 'application/octet-stream' });
      }
      if (naming.confirm) await confirm(values, `${name} ${ctx.args.join(' ')}`);

      const answer = await ctx.client().call(op.method, op.path, { params, query, body, raw });
      const type = answer.res.headers.get('content-type') ?? '';
      if (answer.res.status === 204 || isJsonType(type)) {
        const data = await answer.json();
        if (data === undefined) {
          out.result(undefined, () => out.note(`done (HTTP ${answer.res.status})`));
          return;
        }
        out.result(data, (d) => out.auto(d));
        return;
      }
      answer.release();
      await saveAnswer(ctx, answer.res, type);
    },
  };
}

/**
 * A file or text answer: to --output, or to stdout (not a binary file to a terminal).
 * @param {import('./context.mjs').Context} ctx
 * @param {Response} res
 * @param {string} type
 */
async function saveAnswer(ctx, res, type) {
  if (!res.body) return;
  const output = str(ctx.values.output);
  const body = Readable.fromWeb(/** @type {import('node:stream/web').ReadableStream} */ (res.body));
  if (output) {
    await pipeline(body, createWriteStream(output));
    ctx.out.note(`wrote ${output}`);
    return;
  }
  if (process.stdout.isTTY && !/^text\/|ndjson|jsonl/.test(type)) {
    body.destroy();
    throw usage(`the answer is ${type || 'a file'}: write it with --output FILE, or redirect stdout`);
  }
  await pipeline(body, process.stdout, { end: false });
}

/**
 * The commands for every operation the hand-written ones do not cover.
 * @param {Command[]} handWritten
 * @param {Operation[]} [operations]
 */
export function apiCommands(handWritten, operations = OPERATIONS) {
  const covered = new Set(handWritten.flatMap((c) => c.operations ?? []));
  const taken = new Set(handWritten.map((c) => c.name));
  /** @type {Map<string, { ops: Operation[], naming: Naming }>} */
  const named = new Map();
  for (const op of operations) {
    const key = operationKey(op);
    if (covered.has(key)) continue;
    const given = COMMAND_NAMES[key];
    let name = given?.name ?? derivedName(op.method, op.path);
    if (!given && (taken.has(name) || named.has(name))) name = derivedName(op.method, op.path, true);
    if (taken.has(name)) throw new Error(`${key}: the command '${name}' is hand-written and does not cover it`);
    const entry = named.get(name) ?? { ops: [], naming: { ...given, name } };
    entry.ops.push(op);
    named.set(name, entry);
  }
  return [...named.entries()].map(([name, { ops, naming }]) => commandOf(name, ops, naming));
}
