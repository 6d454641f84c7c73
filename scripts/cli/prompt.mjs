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
 * @returns {Promise<string>}
 */
export function promptSecret(question) {
  if (!process.stdin.isTTY) {
    throw usage('no credential given and no terminal to ask on: pass --token, --token-stdin or --password-stdin');
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
