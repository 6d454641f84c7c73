// @ts-check
/*
 * The command table, parsing (node:util parseArgs) and help. A command is found by its leading
 * words (`models alias set`); its own options are then parsed strictly with the global ones.
 */
import { parseArgs } from 'node:util';
import { usage } from './errors.mjs';
import { closest, didYouMean } from './suggest.mjs';

/**
 * @typedef {object} OptionSpec
 * @property {'string' | 'boolean'} type
 * @property {string} description
 * @property {string} [short]
 * @property {boolean} [multiple]
 * @property {string} [value] the placeholder shown in help, e.g. FILE
 */

/**
 * @typedef {object} Command
 * @property {string} name the words that select it, e.g. `models alias set`
 * @property {string} [args] positional arguments, e.g. `<model> <alias> <version>`; `[x]` is optional
 * @property {string} summary
 * @property {Record<string, OptionSpec>} [options]
 * @property {string} [notes] more help text
 * @property {string} [group] the part of the API it belongs to (the OpenAPI tag), for the help
 * @property {string[]} [operations] the API operations it stands for (`POST /v1/models`), so
 *   that no other command is made for them
 * @property {(ctx: import('./context.mjs').Context) => Promise<number | void>} run
 */

/** @type {Record<string, OptionSpec>} */
export const GLOBAL_OPTIONS = {
  url: { type: 'string', value: 'URL', description: 'Server URL (MODELFLARE_URL; default http://127.0.0.1:8787)' },
  token: { type: 'string', value: 'TOKEN', description: 'Admin key, API key or access token (MODELFLARE_TOKEN)' },
  workspace: { type: 'string', value: 'ID', description: 'Workspace to act in (MODELFLARE_WORKSPACE)' },
  json: { type: 'boolean', description: 'Print the API’s JSON instead of tables' },
  quiet: { type: 'boolean', short: 'q', description: 'No progress or notices on stderr (errors still)' },
  timeout: {
    type: 'string',
    value: 'S',
    description: 'Give up when the server has not answered a request after S seconds (MODELFLARE_TIMEOUT; default 60)',
  },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

/**
 * @param {string[]} argv
 * @param {Command[]} commands
 */
export function parseCommandLine(argv, commands) {
  const loose = parseArgs({ args: argv, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true });
  const words = loose.positionals;
  const command = [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((w, i) => words[i] === w));
  if (!command) return { command: undefined, words, help: Boolean(loose.values.help) };

  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: /** @type {import('node:util').ParseArgsConfig['options']} */ ({
        ...GLOBAL_OPTIONS,
        ...command.options,
      }),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    const message = /** @type {Error} */ (err).message;
    const unknown = /^Unknown option '--?([^']+)'/.exec(message)?.[1];
    const guess = unknown
      ? didYouMean(closest(unknown, Object.keys({ ...GLOBAL_OPTIONS, ...command.options })).map((o) => `--${o}`))
      : '';
    const first = unknown ? `unknown option '--${unknown}' for ${command.name}` : message.split('\n')[0];
    throw usage(`${first}${guess}\nSee: modelflare ${command.name} --help`);
  }
  const positionals = parsed.positionals.slice(command.name.split(' ').length);
  const values = /** @type {Record<string, string | boolean | string[] | undefined>} */ (parsed.values);
  if (!values.help) checkArity(command, positionals);
  return { command, positionals, values, help: Boolean(values.help), words };
}

/**
 * @param {Command} command
 * @param {string[]} positionals
 */
function checkArity(command, positionals) {
  const specs = (command.args ?? '').split(' ').filter(Boolean);
  const required = specs.filter((s) => s.startsWith('<')).length;
  if (positionals.length < required || positionals.length > specs.length) {
    throw usage(
      `usage: modelflare ${command.name}${command.args ? ` ${command.args}` : ''}\nSee: modelflare ${command.name} --help`,
    );
  }
}

/**
 * Help for one command, for a group (`models`), or for everything.
 * @param {Command[]} commands
 * @param {string[]} words
 * @param {Command} [command]
 */
export function helpText(commands, words, command) {
  if (command) {
    const lines = [
      `usage: modelflare ${command.name}${command.args ? ` ${command.args}` : ''} [options]`,
      '',
      command.summary,
    ];
    if (command.notes) lines.push('', command.notes);
    if (command.options && Object.keys(command.options).length > 0) {
      lines.push('', 'options:', ...optionLines(command.options));
    }
    lines.push('', 'global options:', ...optionLines(GLOBAL_OPTIONS));
    return `${lines.join('\n')}\n`;
  }
  const group = words.length > 0 ? commands.filter((c) => c.name.split(' ')[0] === words[0]) : [];
  const shown = group.length > 0 ? group : commands;
  const width = Math.min(48, Math.max(...shown.map((c) => `${c.name} ${c.args ?? ''}`.length)));
  const byGroup = groupedCommands(shown);
  const listed = [...byGroup.entries()]
    .filter(([, list]) => list.length > 0)
    .flatMap(([name, list]) => [
      '',
      `${name}:`,
      ...list.map((c) => `  ${`${c.name} ${c.args ?? ''}`.padEnd(width)}  ${c.summary}`),
    ]);
  const lines = [
    'usage: modelflare <command> [options]',
    ...listed,
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'exit codes: 0 ok, 1 usage, 2 API refused (4xx), 3 server or network, 4 job did not succeed,',
    '            5 credential refused (401/403), 6 not found (404), 7 wait timed out',
    '',
    'Run `modelflare <command> --help` for a command’s options.',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Commands by the part of the API they belong to, in the order of GROUP_ORDER.
 * @param {Command[]} commands
 */
export function groupedCommands(commands) {
  /** @type {Map<string, Command[]>} */
  const byGroup = new Map(GROUP_ORDER.map((name) => [name, []]));
  for (const c of commands) {
    const name = c.group ?? 'Other';
    byGroup.set(name, [...(byGroup.get(name) ?? []), c]);
  }
  return new Map([...byGroup].filter(([, list]) => list.length > 0));
}

/** The order of the parts of the API in the help (the OpenAPI document's tags). */
const GROUP_ORDER = [
  'Accounts',
  'API keys',
  'Workspaces',
  'Registry',
  'Inference',
  'Inference (V2)',
  'Batch',
  'Webhooks',
  'Monitoring',
  'Health',
];

/** @param {Record<string, OptionSpec>} options */
function optionLines(options) {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return /** @type {[string, string]} */ ([flag, `${spec.description}${spec.multiple ? ' (repeatable)' : ''}`]);
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}
