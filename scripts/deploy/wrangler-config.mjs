// @ts-check
/*
 * The deployed environments of wrangler.toml: which resources each names, whether their ids
 * are still the all-zero placeholders, and writing the real ids into that environment only.
 */
import { unstable_readConfig } from 'wrangler';

export const ENVIRONMENTS = ['staging', 'production'];

/** @param {string | undefined} id */
export const isPlaceholder = (id) => id === undefined || /^0+(-0+)*$/.test(id);

/**
 * What one environment of the config declares.
 * @param {string} configPath
 * @param {string} env
 */
export function readEnvironment(configPath, env) {
  /**
   * @type {{
   *   name?: string,
   *   d1_databases: { binding: string, database_name?: string, database_id?: string }[],
   *   kv_namespaces: { binding: string, id?: string }[],
   *   r2_buckets: { bucket_name?: string }[],
   *   queues: { producers?: { queue: string }[], consumers?: { queue: string, dead_letter_queue?: string }[] },
   * }}
   */
  const config = unstable_readConfig({ config: configPath, env });
  const queues = new Set();
  for (const p of config.queues.producers ?? []) queues.add(p.queue);
  for (const c of config.queues.consumers ?? []) {
    queues.add(c.queue);
    if (c.dead_letter_queue) queues.add(c.dead_letter_queue);
  }
  return {
    name: config.name ?? 'modelflare',
    d1: config.d1_databases.map((d) => ({ binding: d.binding, name: d.database_name ?? '', id: d.database_id })),
    kv: config.kv_namespaces.map((k) => ({ binding: k.binding, id: k.id })),
    r2: config.r2_buckets.map((b) => b.bucket_name ?? ''),
    queues: [...queues],
  };
}

/** @typedef {ReturnType<typeof readEnvironment>} Environment */

/** @param {Environment} environment */
export function placeholders(environment) {
  return [
    ...environment.d1.filter((d) => isPlaceholder(d.id)).map((d) => `D1 database ${d.name} (${d.binding})`),
    ...environment.kv.filter((k) => isPlaceholder(k.id)).map((k) => `KV namespace ${k.binding}`),
  ];
}

/**
 * The text of `[env.<env>]` and its `[[env.<env>.…]]` tables: from its header to the next
 * table that belongs to another environment or to the top level.
 * @param {string} text
 * @param {string} env
 */
function sectionOf(text, env) {
  const header = new RegExp(`^\\[env\\.${env}\\]\\s*$`, 'm').exec(text);
  if (!header) throw new Error(`wrangler.toml has no [env.${env}] section`);
  const start = header.index;
  const rest = text.slice(start + header[0].length);
  const next = new RegExp(`^\\[\\[?(?!env\\.${env}[.\\]])`, 'm').exec(rest);
  return { start, end: next ? start + header[0].length + next.index : text.length };
}

/**
 * Writes ids over the placeholders of one environment, leaving every other one as it is.
 * @param {string} text wrangler.toml
 * @param {string} env
 * @param {{ d1?: Record<string, string>, kv?: Record<string, string> }} ids by binding
 */
export function withIds(text, env, ids) {
  const { start, end } = sectionOf(text, env);
  let section = text.slice(start, end);
  /**
   * @param {string} binding
   * @param {string} key
   * @param {string} id
   */
  const replace = (binding, key, id) => {
    // An inline table `{ binding = "DB", …, database_id = "0000…" }` on one line.
    const entry = new RegExp(`(\\{[^}\\n]*binding\\s*=\\s*"${binding}"[^}\\n]*\\b${key}\\s*=\\s*")([0-9a-f-]+)(")`);
    const match = entry.exec(section);
    if (!match || !isPlaceholder(match[2])) {
      throw new Error(`no placeholder ${key} for binding ${binding} in [env.${env}]: edit wrangler.toml by hand`);
    }
    section = section.replace(entry, `$1${id}$3`);
  };
  for (const [binding, id] of Object.entries(ids.d1 ?? {})) replace(binding, 'database_id', id);
  for (const [binding, id] of Object.entries(ids.kv ?? {})) replace(binding, 'id', id);
  return text.slice(0, start) + section + text.slice(end);
}
