import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './server';

/*
 * package.json's `engines.node` is the truth of what the installed packages declare: every Node
 * version it admits is one that every package in the lock file (for this platform) accepts, so
 * `npm install` on any of them prints no EBADENGINE warning. The README names the same range.
 */
const semver: { satisfies(version: string, range: string): boolean; validRange(range: string): string | null } =
  createRequire(join(ROOT, 'package.json'))('semver');

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

const forThisMachine = (entry: LockEntry) =>
  (!entry.os || entry.os.includes(process.platform)) && (!entry.cpu || entry.cpu.includes(process.arch));

/** Versions major.minor.0 and major.minor.9 in the range, from Node 18 to 30. */
function versionsIn(range: string): string[] {
  const found: string[] = [];
  for (let major = 18; major <= 30; major++) {
    for (let minor = 0; minor <= 30; minor++) {
      for (const patch of [0, 9]) {
        const v = `${major}.${minor}.${patch}`;
        if (semver.satisfies(v, range)) found.push(v);
      }
    }
  }
  return found;
}

it('admits only Node versions that every installed package accepts', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const range: string = pkg.engines.node;
  const admitted = versionsIn(range);
  expect(admitted.length).toBeGreaterThan(0);
  const refusals: string[] = [];
  for (const [path, entry] of Object.entries<LockEntry>(lock.packages)) {
    const wanted = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
    if (!path || !wanted || !forThisMachine(entry) || !semver.validRange(wanted)) continue;
    const refused = admitted.filter((v) => !semver.satisfies(v, wanted));
    if (refused.length > 0) refusals.push(`${path}@${entry.version} wants ${wanted}, refusing ${refused[0]}`);
  }
  expect(refusals).toEqual([]);

  // The README's Quick start names the same versions.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(`You need Node \`${range}\``);
});
