#!/usr/bin/env node
// @ts-check
/*
 * modelflare: the command-line client of a modelflare server. `modelflare --help` lists the
 * commands; the exit codes are in errors.mjs and the README.
 */
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { helpText, parseCommandLine } from './args.mjs';
import { accountCommands } from './commands/account.mjs';
import { hookCommands } from './commands/hooks.mjs';
import { jobCommands } from './commands/jobs.mjs';
import { modelCommands } from './commands/models.mjs';
import { predictCommands } from './commands/predict.mjs';
import { createContext } from './context.mjs';
import { CliError, EXIT } from './errors.mjs';

export const COMMANDS = [...accountCommands, ...modelCommands, ...predictCommands, ...jobCommands, ...hookCommands];

/**
 * Runs one command line; answers the exit code.
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 */
export async function main(argv, env) {
  const json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (!parsed.command || parsed.help) {
      const text = helpText(COMMANDS, parsed.words, parsed.command);
      if (parsed.help || parsed.words.length === 0) {
        process.stdout.write(text);
        return parsed.words.length === 0 && !parsed.help ? EXIT.USAGE : EXIT.OK;
      }
      const group = COMMANDS.some((c) => c.name.startsWith(`${parsed.words[0]} `));
      process.stderr.write(group ? text : `unknown command: ${parsed.words.join(' ')}\n\n${text}`);
      return EXIT.USAGE;
    }
    const ctx = createContext(parsed.positionals ?? [], parsed.values ?? {}, env);
    return (await parsed.command.run(ctx)) ?? EXIT.OK;
  } catch (err) {
    return report(err, json);
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
if (invoked) process.exitCode = await main(process.argv.slice(2), process.env);
