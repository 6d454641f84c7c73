// @ts-check
/* Reading secrets without echoing them, or from standard input for scripts. */
import { createInterface } from 'node:readline';
import { usage } from './errors.mjs';

/** The whole of standard input, without its trailing newline. */
export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Asks on the terminal, echoing nothing.
 * @param {string} question
 * @param {string} [otherwise] how to give it without a terminal
 * @returns {Promise<string>}
 */
export function promptSecret(question, otherwise = 'pass --token, --token-stdin or --password-stdin') {
  if (!process.stdin.isTTY) {
    throw usage(`no ${question.replace(/:\s*$/, '')} given and no terminal to ask on: ${otherwise}`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  process.stderr.write(question);
  // readline echoes what is typed through this method; a secret must not appear.
  /** @type {{ _writeToOutput: (s: string) => void }} */ (/** @type {unknown} */ (rl))._writeToOutput = () => {};
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/**
 * A destructive command goes ahead with --yes, or when the person at the terminal says so.
 * @param {Record<string, unknown>} values the command's options
 * @param {string} what e.g. `models delete iris`
 * @param {string} [effect] what it does, for a change that can be undone but not lightly
 *   (`sends all of production's traffic to version 3`); without it, it cannot be undone
 */
export async function confirm(values, what, effect) {
  if (values.yes) return;
  const consequence = effect ?? 'this cannot be undone';
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usage(
      effect
        ? `${what} ${effect}: pass --yes to do it without a terminal to ask on`
        : `${what} cannot be undone: pass --yes to do it without a terminal to ask on`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise((resolve) => rl.question(`${what}: ${consequence}. Go ahead? [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(String(answer).trim())) throw usage(`${what}: not done`);
}
