#!/usr/bin/env node
// @ts-check
/*
 * Part of `npm test`: the browser tests drive Debian's Chromium (playwright cannot download its
 * own here). A fresh CI machine does not have it: install it with apt-get when we are root.
 * When it truly cannot be had, say why; the browser tests then report themselves skipped, or
 * fail under CI=true (test/node/required-tool.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * @param {string} command
 * @param {string[]} args
 */
function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0 ? undefined : (result.stderr || result.error?.message || `exit ${result.status}`).trim();
}

if (existsSync(CHROMIUM)) {
  process.exit(0);
}
let reason;
if (process.getuid?.() !== 0) {
  reason = 'not running as root (install it with: sudo apt-get install chromium)';
} else if (!existsSync('/usr/bin/apt-get')) {
  reason = 'no apt-get on this machine';
} else {
  console.log(`${CHROMIUM} is missing: installing Debian's chromium for the browser tests (apt-get)…`);
  reason = run('apt-get', ['update']) ?? run('apt-get', ['install', '-y', 'chromium']);
  if (!reason && !existsSync(CHROMIUM)) reason = `apt-get installed chromium but ${CHROMIUM} is not there`;
}
if (reason) {
  console.log(`chromium could not be installed: ${reason.split('\n').slice(-3).join(' ')}`);
  console.log(
    /^(1|true|yes)$/i.test(process.env.CI ?? '')
      ? 'the browser tests will fail: CI=true, where every test must run'
      : 'the browser tests will be reported as skipped (under CI=true they fail)',
  );
} else {
  console.log(`installed ${CHROMIUM}`);
}
