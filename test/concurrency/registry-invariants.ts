import { env } from 'cloudflare:test';
import { call, sha256Hex } from '../helpers';
import { ask, ROW_SETS } from './regressor-versions';

/*
 * What must hold for a model once concurrent operations on it have settled, read from D1 and
 * R2 directly (the truth) and through the API (what clients see). Returns the violations found,
 * in words, rather than failing at the first, so a round reports everything it broke.
 */

interface VersionRow {
  id: string;
  version: number;
  sha256: string;
  artifact_key: string;
  archived_at: number | null;
}

export interface StoredModel {
  modelId: string | null;
  versions: VersionRow[];
  aliases: { alias: string; version_id: string }[];
  /** R2 objects written for this model, whether or not a version refers to them. */
  objects: string[];
}

/** Every R2 artifact whose metadata names the model (uploads tag each object with it). */
export async function artifactObjects(name: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BUCKET.list({ prefix: 'artifacts/', cursor, include: ['customMetadata'] });
    for (const o of page.objects) if (o.customMetadata?.model === name) keys.push(o.key);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

export async function storedModel(name: string, workspaceId = 'ws_default'): Promise<StoredModel> {
  const model = await env.DB.prepare('select id from models where workspace_id = ? and name = ?')
    .bind(workspaceId, name)
    .first<{ id: string }>();
  const objects = await artifactObjects(name);
  if (!model) {
    // Aliases or versions left behind by a purged model would still name its id; look by name.
    return { modelId: null, versions: [], aliases: [], objects };
  }
  const versions = await env.DB.prepare(
    'select id, version, sha256, artifact_key, archived_at from model_versions where model_id = ? order by version',
  )
    .bind(model.id)
    .all<VersionRow>();
  const aliases = await env.DB.prepare('select alias, version_id from model_aliases where model_id = ? order by alias')
    .bind(model.id)
    .all<{ alias: string; version_id: string }>();
  return { modelId: model.id, versions: versions.results, aliases: aliases.results, objects };
}

/** Rows that no model row owns: what a purge racing a write could leave behind. */
export async function strayRows(): Promise<string[]> {
  const versions = await env.DB.prepare(
    'select id from model_versions where model_id not in (select id from models)',
  ).all<{ id: string }>();
  const aliases = await env.DB.prepare(
    `select model_id || '/' || alias as id from model_aliases
     where model_id not in (select id from models) or version_id not in (select id from model_versions)`,
  ).all<{ id: string }>();
  return [
    ...versions.results.map((r) => `version row ${r.id} belongs to no model`),
    ...aliases.results.map((r) => `alias ${r.id} belongs to no model or names no version`),
  ];
}

/** Storage-level invariants: numbering, aliases, files. */
export async function storageViolations(name: string, stored?: StoredModel): Promise<string[]> {
  const s = stored ?? (await storedModel(name));
  const problems: string[] = [];
  const numbers = s.versions.map((v) => v.version);
  numbers.forEach((n, i) => {
    if (n !== i + 1) problems.push(`version numbers are not 1..${numbers.length} without gaps: ${numbers.join(',')}`);
  });
  if (new Set(s.versions.map((v) => v.sha256)).size !== s.versions.length) problems.push('two versions share a sha256');
  const byId = new Map(s.versions.map((v) => [v.id, v]));
  for (const a of s.aliases) {
    const target = byId.get(a.version_id);
    if (!target) problems.push(`alias '${a.alias}' points at a version that does not exist (${a.version_id})`);
    else if (target.archived_at !== null)
      problems.push(`alias '${a.alias}' points at archived version ${target.version}`);
  }
  const referenced = new Set(s.versions.map((v) => v.artifact_key));
  for (const key of s.objects) if (!referenced.has(key)) problems.push(`R2 object ${key} belongs to no version`);
  for (const v of s.versions) {
    const object = await env.BUCKET.get(v.artifact_key);
    if (!object) problems.push(`version ${v.version}'s file ${v.artifact_key} is missing from R2`);
    else if ((await sha256Hex(await object.arrayBuffer())) !== v.sha256) {
      problems.push(`version ${v.version}'s file does not hash to its sha256`);
    }
  }
  return problems;
}

async function allVersionsFromApi(name: string): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `include_archived=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await call('GET', `/v1/models/${name}/versions?${query}`);
    if (res.status !== 200) throw new Error(`list versions: ${res.status} ${await res.text()}`);
    const page: { versions: any[]; next_cursor: string | null } = await res.json();
    all.push(...page.versions);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}

/**
 * Storage invariants, plus: the API's lists and gets agree with D1 and with each other, and
 * the model still answers predictions, through each alias and by default, with the right file.
 */
export async function registryViolations(name: string, biasBySha: Map<string, number>): Promise<string[]> {
  const s = await storedModel(name);
  const problems = await storageViolations(name, s);
  const byId = new Map(s.versions.map((v) => [v.id, v]));
  const aliasTargets = Object.fromEntries(s.aliases.map((a) => [a.alias, byId.get(a.version_id)?.version]));

  const model = await (await call('GET', `/v1/models/${name}`)).json<any>();
  if (JSON.stringify(model.aliases) !== JSON.stringify(aliasTargets)) {
    problems.push(`GET model aliases ${JSON.stringify(model.aliases)} ≠ stored ${JSON.stringify(aliasTargets)}`);
  }
  const servable = s.versions.filter((v) => v.archived_at === null);
  const latest = servable.length ? servable[servable.length - 1]!.version : null;
  if (model.latest_version !== latest) problems.push(`latest_version ${model.latest_version} ≠ stored ${latest}`);

  const listed = await allVersionsFromApi(name);
  const listedSummary = listed
    .map((v) => `${v.version}:${v.archived_at ? 'a' : '-'}:${v.aliases.join('+')}`)
    .reverse()
    .join(' ');
  const storedSummary = s.versions
    .map((v) => {
      const aliases = s.aliases.filter((a) => a.version_id === v.id).map((a) => a.alias);
      return `${v.version}:${v.archived_at ? 'a' : '-'}:${aliases.join('+')}`;
    })
    .join(' ');
  if (listedSummary !== storedSummary) problems.push(`version list [${listedSummary}] ≠ stored [${storedSummary}]`);
  for (const v of listed) {
    const got = await (await call('GET', `/v1/models/${name}/versions/${v.version}`)).json<any>();
    if (JSON.stringify(got) !== JSON.stringify(v)) problems.push(`GET version ${v.version} disagrees with the list`);
  }

  for (const [alias, version] of Object.entries(aliasTargets)) {
    const got = await call('GET', `/v1/models/${name}/versions/${alias}`);
    const body = await got.json<any>();
    if (got.status !== 200 || body.version !== version) {
      problems.push(`GET versions/${alias}: ${got.status} ${body.version ?? JSON.stringify(body)} ≠ ${version}`);
    }
  }

  // Served: each alias, then the default (production, else latest), answers with its own file.
  const refs: [string | undefined, number | null | undefined][] = [
    ...Object.entries(aliasTargets).map(([a, v]) => [a, v] as [string, number | undefined]),
    [undefined, aliasTargets.production ?? latest],
  ];
  for (const [ref, expected] of refs) {
    const answer = await ask('v2', name, ref, ROW_SETS[0]!);
    if (expected === null) {
      if (answer.status !== 404) problems.push(`a model with nothing servable answered ${answer.status}`);
      continue;
    }
    const sha = s.versions.find((v) => v.version === expected)?.sha256;
    const bias = sha === undefined ? undefined : biasBySha.get(sha);
    if (answer.status !== 200 || answer.version !== expected || answer.biases.some((b) => b !== bias)) {
      problems.push(
        `predict via ${ref ?? 'default'}: ${answer.status} v${answer.version} ≠ v${expected}: ${answer.body}`,
      );
    }
  }
  return problems;
}
