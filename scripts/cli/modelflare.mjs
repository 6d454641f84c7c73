#!/usr/bin/env node
// @ts-check
/*
 * modelflare: the command-line client of a modelflare server. `modelflare --help` lists the
 * commands: hand-written ones for the everyday work (commands/), and one for every other
 * operation of the API, made from its OpenAPI document (api-commands.mjs). The exit codes are
 * in errors.mjs and the README.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiCommands } from './api-commands.mjs';
import { helpText, parseCommandLine } from './args.mjs';
import { accountCommands } from './commands/account.mjs';
import { aliasCommands } from './commands/aliases.mjs';
import { hookCommands } from './commands/hooks.mjs';
import { jobCommands } from './commands/jobs.mjs';
import { modelCommands } from './commands/models.mjs';
import { predictCommands } from './commands/predict.mjs';
import { createContext } from './context.mjs';
import { ApiError, CliError, EXIT } from './errors.mjs';
import { closest, closestCommands, didYouMean } from './suggest.mjs';

const HAND_WRITTEN = [
  ...accountCommands,
  ...modelCommands,
  ...aliasCommands,
  ...predictCommands,
  ...jobCommands,
  ...hookCommands,
];
export const COMMANDS = [...HAND_WRITTEN, ...apiCommands(HAND_WRITTEN)];

/**
 * Runs one command line; answers the exit code.
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 */
export async function main(argv, env) {
  const json = argv.includes('--json');
  /** @type {import('./context.mjs').Context | undefined} */
  let ctx;
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (!parsed.command || parsed.help) {
      const text = helpText(COMMANDS, parsed.words, parsed.command);
      if (parsed.help || parsed.words.length === 0) {
        process.stdout.write(text);
        return parsed.words.length === 0 && !parsed.help ? EXIT.USAGE : EXIT.OK;
      }
      const names = COMMANDS.map((c) => c.name);
      const group = COMMANDS.some((c) => c.name.startsWith(`${parsed.words[0]} `));
      const guess = didYouMean(closestCommands(parsed.words, names));
      if (guess) {
        process.stderr.write(`unknown command: ${parsed.words.join(' ')}${guess}\nSee: modelflare --help\n`);
      } else if (group) process.stderr.write(text);
      else process.stderr.write(`unknown command: ${parsed.words.join(' ')}\n\n${text}`);
      return EXIT.USAGE;
    }
    ctx = createContext(parsed.command, parsed.positionals ?? [], parsed.values ?? {}, env);
    return (await parsed.command.run(ctx)) ?? EXIT.OK;
  } catch (err) {
    if (brokenPipe(err)) return EXIT.OK;
    if (ctx) await suggestModel(ctx, err);
    return report(err, json);
  }
}

/**
 * The reader of our output went away (`| head`): stop quietly, as Unix tools do.
 * @param {unknown} err
 */
const brokenPipe = (err) => /** @type {{ code?: string }} */ (err)?.code === 'EPIPE';

/**
 * A model that is not there may be a typo of one that is: the error names the closest.
 * @param {import('./context.mjs').Context} ctx
 * @param {unknown} err
 */
async function suggestModel(ctx, err) {
  if (!(err instanceof ApiError) || err.status !== 404) return;
  const name = /model '([^']+)' (?:was )?not found/.exec(err.message)?.[1];
  if (!name) return;
  try {
    /** @type {string[]} */
    const names = [];
    /** @type {string | undefined} */
    let cursor;
    do {
      const page = await ctx
        .client()
        .request('get', '/v1/models', { query: { limit: 100, cursor, include_archived: 'true' } });
      names.push(...page.models.map((m) => m.name));
      cursor = page.next_cursor ?? undefined;
    } while (cursor && names.length < 1000);
    const guess = didYouMean(closest(name, names));
    if (!guess) return;
    const at = err.message.indexOf(' (HTTP');
    err.message = at < 0 ? `${err.message}${guess}` : `${err.message.slice(0, at)}${guess}${err.message.slice(at)}`;
    err.details.did_you_mean = closest(name, names);
  } catch {
    // The suggestion is a courtesy: the error stands as it is.
  }
}

/**
 * @param {unknown} err
 * @param {boolean} json
 */
function report(err, json) {
  const known = err instanceof CliError;
  const exitCode = known ? err.exitCode : EXIT.SERVER;
  const message = known ? err.message : `unexpected failure: ${err instanceof Error ? err.stack : String(err)}`;
  if (json) {
    const details = known ? err.details : {};
    process.stderr.write(`${JSON.stringify({ error: { message, exit_code: exitCode, ...details } })}\n`);
  } else {
    process.stderr.write(`error: ${message}\n`);
  }
  return exitCode;
}

const invoked = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  // A reader that stops early (`modelflare jobs results ID | head`) ends the command quietly.
  process.stdout.on('error', (err) => {
    if (brokenPipe(err)) process.exit(EXIT.OK);
    throw err;
  });
  process.exitCode = await main(process.argv.slice(2), process.env);
}
