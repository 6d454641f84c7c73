#!/usr/bin/env node
// Imports flow one way: a folder under workers/ may import only from folders below it in LAYERS
// (and from itself). Run by `npm run lint`; prints each import that points up or sideways.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Lowest first. A folder may import the folders on earlier lines, never later or same-line ones. */
const LAYERS = [
  ['core'],
  ['storage', 'runtime', 'cache'],
  ['auth', 'registry'],
  ['audit', 'workspaces', 'ratelimit', 'inference'],
  ['webhooks'],
  ['monitoring'],
  ['rollouts'],
  ['batch'],
  ['platform'],
  ['http'],
  ['(entry)'],
];

const ROOT = 'workers';
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const folderOf = (path) => {
  const parts = relative(ROOT, path).split('/');
  return parts.length === 1 ? '(entry)' : parts[0];
};

const problems = [];
for (const file of files(ROOT)) {
  const from = folderOf(file);
  if (!rank.has(from)) problems.push(`${file}: folder '${from}' has no place in LAYERS (scripts/check-layers.mjs)`);
  const source = readFileSync(file, 'utf8');
  for (const [, spec] of source.matchAll(/from '(\.[^']+)'/g)) {
    const to = folderOf(relative(process.cwd(), resolve(dirname(file), spec)));
    if (to === from) continue;
    if (!(rank.get(to) < rank.get(from))) problems.push(`${file}: imports ${spec} (${from} -> ${to})`);
  }
}

if (problems.length > 0) {
  console.error(
    `imports that flow the wrong way (layers, lowest first: ${LAYERS.map((l) => l.join('/')).join(' < ')}):`,
  );
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`layers: ${LAYERS.length} levels, every import under ${ROOT}/ flows one way`);
