// @ts-check
/*
 * Rollouts: an alias that splits its traffic between versions, with a shadow, a guard and
 * steps (`aliases set`), what it looks like now (`aliases show`), how each route is doing
 * (`aliases scorecard`), and ending it by hand (`aliases promote`, `aliases rollback`). Flags
 * are checked here, so a typo is named before anything is sent; what only the server knows
 * (the versions exist, are not archived) it says itself.
 */
import { list, positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { renderTable, shortTime } from '../output.mjs';
import { confirm } from '../prompt.mjs';
import { closest, didYouMean } from '../suggest.mjs';

/** @typedef {import('../args.mjs').Command} Command */
/** @typedef {import('../../api/types').Schemas['Alias']} Alias */
/** @typedef {import('../../api/types').Schemas['Scorecard']} Scorecard */
/** @typedef {import('../../api/types').JsonBody<'/v1/models/{name}/aliases/{alias}', 'put'>} AliasBody */
/** @typedef {NonNullable<AliasBody['guard']>} Guard */

/**
 * The guard's limits by the names `--guard` takes (the API's own names work too), and what
 * each takes.
 * @type {Record<string, { field: keyof Guard, kind: 'fraction' | 'ms' | 'count' }>}
 */
const GUARD_KEYS = {
  error_rate: { field: 'max_error_rate', kind: 'fraction' },
  p99_ms: { field: 'max_p99_ms', kind: 'ms' },
  accuracy_drop: { field: 'max_accuracy_drop', kind: 'fraction' },
  min_requests: { field: 'min_requests', kind: 'count' },
  min_feedback: { field: 'min_feedback', kind: 'count' },
  window_minutes: { field: 'window_minutes', kind: 'count' },
};
const GUARD_NAMES = Object.keys(GUARD_KEYS);
/** @param {string} key */
const guardKey = (key) =>
  GUARD_KEYS[key] ?? Object.values(GUARD_KEYS).find((g) => g.field === key && key.startsWith('max_'));

const EXPECTED = {
  fraction: 'a fraction from 0 to 1 (0.02 is 2%)',
  ms: 'milliseconds, above 0',
  count: 'a whole number, 1 or more',
};

/** @param {string} text */
const wholeNumber = (text) => (/^\d+$/.test(text) ? Number(text) : NaN);

/**
 * `--route VERSION=WEIGHT`
 * @param {string} text
 */
function routeOf(text) {
  const at = text.indexOf('=');
  if (at < 0) throw usage(`--route takes VERSION=WEIGHT, e.g. --route 3=90; not ${text}`);
  const version = wholeNumber(text.slice(0, at).trim());
  const weight = wholeNumber(text.slice(at + 1).trim());
  if (!(version >= 1)) throw usage(`--route ${text}: the version is a version number, not '${text.slice(0, at)}'`);
  if (!(weight >= 0 && weight <= 100)) {
    throw usage(`--route ${text}: the weight is a whole percent from 0 to 100, not '${text.slice(at + 1)}'`);
  }
  return { version, weight };
}

/**
 * `--shadow VERSION@PERCENT`
 * @param {string} text
 */
function shadowOf(text) {
  const match = /^\s*(\d+)\s*@\s*([0-9.]+)\s*%?\s*$/.exec(text);
  if (!match)
    throw usage(`--shadow takes VERSION@PERCENT, e.g. --shadow 5@25 (version 5 gets 25% of requests); not ${text}`);
  const version = Number(match[1]);
  const percent = Number(match[2]);
  if (!(version >= 1)) throw usage(`--shadow ${text}: the version is a version number, not '${match[1]}'`);
  if (!(percent > 0 && percent <= 100)) {
    throw usage(`--shadow ${text}: the percent is above 0 and at most 100, not '${match[2]}'`);
  }
  return { version, percent };
}

/**
 * `--guard KEY=VALUE`, repeated, into the API's guard.
 * @param {string[]} pairs
 * @returns {Guard | undefined}
 */
function guardOf(pairs) {
  if (pairs.length === 0) return undefined;
  /** @type {Record<string, number>} */
  const guard = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw usage(`--guard takes KEY=VALUE, e.g. --guard error_rate=0.02; not ${pair}`);
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    const spec = guardKey(key);
    if (!spec) {
      throw usage(
        `--guard does not know '${key}' (it takes ${GUARD_NAMES.join(', ')})${didYouMean(closest(key, GUARD_NAMES))}`,
      );
    }
    const value = spec.kind === 'count' ? wholeNumber(raw) : raw === '' ? NaN : Number(raw);
    const fits =
      spec.kind === 'count'
        ? value >= 1
        : spec.kind === 'fraction'
          ? Number.isFinite(value) && value >= 0 && value <= 1
          : Number.isFinite(value) && value > 0;
    if (!fits) throw usage(`--guard ${key} takes ${EXPECTED[spec.kind]}, not '${raw}'`);
    guard[spec.field] = value;
  }
  if (guard.min_requests === undefined) {
    throw usage('--guard needs min_requests=N: how many requests a route must serve in the window before it is judged');
  }
  if (guard.max_error_rate === undefined && guard.max_p99_ms === undefined && guard.max_accuracy_drop === undefined) {
    throw usage('--guard needs a limit to judge by: error_rate, p99_ms or accuracy_drop');
  }
  return /** @type {Guard} */ (guard);
}

/**
 * @param {unknown} value
 * @returns {number[] | undefined}
 */
function stepsOf(value) {
  const steps = list(value);
  if (steps.length === 0) return undefined;
  const numbers = steps.map(wholeNumber);
  if (numbers.some((n, i) => !(n >= 1 && n <= 100) || (i > 0 && n <= /** @type {number} */ (numbers[i - 1])))) {
    throw usage(`--steps takes rising whole percents up to 100, e.g. --steps 10,25,50,100; not ${steps.join(',')}`);
  }
  return numbers;
}

/**
 * The body of `aliases set`: a version, or routes, with the rest.
 * @param {string | undefined} version
 * @param {Record<string, unknown>} values
 * @returns {AliasBody}
 */
function aliasBody(version, values) {
  const routes = (Array.isArray(values.route) ? values.route : []).map((r) => routeOf(String(r)));
  const shadowText = str(values.shadow);
  const shadow = shadowText === undefined ? undefined : shadowOf(shadowText);
  const guard = guardOf(Array.isArray(values.guard) ? values.guard.map(String) : []);
  const steps = stepsOf(values.steps);
  const stepMinutes = positiveInt(values['step-minutes'], 'step-minutes');
  if (version !== undefined && routes.length > 0) {
    throw usage('give a version (a plain alias) or --route flags (a split), not both');
  }
  if (version === undefined && routes.length === 0) {
    throw usage('aliases set needs a version (a plain alias) or --route VERSION=WEIGHT, twice or more (a split)');
  }
  if (routes.length === 1) {
    throw usage(
      `one --route is not a split: for one version, give it as the argument (aliases set … ${routes[0]?.version})`,
    );
  }
  if (routes.length === 0 && (guard || steps)) {
    throw usage(
      `--${guard ? 'guard' : 'steps'} needs a split (--route twice or more): it judges or ramps the routes after the first`,
    );
  }
  const total = routes.reduce((sum, r) => sum + r.weight, 0);
  if (routes.length > 1 && total !== 100) {
    throw usage(`--route weights add up to ${total}; they must add up to 100 (e.g. --route 3=90 --route 4=10)`);
  }
  const twice = routes.find((r, i) => routes.findIndex((o) => o.version === r.version) !== i);
  if (twice) throw usage(`--route names version ${twice.version} twice: each route is another version`);
  if ((steps === undefined) !== (stepMinutes === undefined)) {
    throw usage('--steps and --step-minutes go together, e.g. --steps 10,25,50,100 --step-minutes 30');
  }
  if (version !== undefined) {
    const n = wholeNumber(version);
    if (!(n >= 1)) throw usage(`the version is a version number, not ${version}`);
    return { version: n, ...(shadow && { shadow }) };
  }
  return {
    routes,
    ...(shadow && { shadow }),
    ...(guard && { guard }),
    ...(steps && { steps, step_minutes: stepMinutes }),
  };
}

// ── what people read ───────────────────────────────────────────────────────────────────────

/** @param {number | null | undefined} x */
const pct = (x) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`);
/** @param {number | null | undefined} x */
const ms = (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : String(Math.round(x)));
/** @param {number | null | undefined} x */
const num = (x) => (x === null || x === undefined ? '-' : String(Number(x.toPrecision(4))));
/** Percentage points, signed. @param {number} x */
const points = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(Math.abs(x) < 0.001 && x !== 0 ? 3 : 2)} pp`;

/** @param {Record<string, number> | null} guard */
function guardText(guard) {
  if (!guard) return '-';
  const parts = [`min_requests ${guard.min_requests}`];
  if (guard.max_error_rate !== undefined) parts.push(`error rate ≤ ${pct(guard.max_error_rate)}`);
  if (guard.max_p99_ms !== undefined) parts.push(`p99 ≤ ${guard.max_p99_ms} ms`);
  if (guard.max_accuracy_drop !== undefined) parts.push(`accuracy drop ≤ ${pct(guard.max_accuracy_drop)}`);
  if (guard.min_feedback !== undefined) parts.push(`min_feedback ${guard.min_feedback}`);
  parts.push(`over ${guard.window_minutes ?? 60} min`);
  return parts.join(', ');
}

/**
 * A guard limit's value as people read it: a rate or drop in percent, a latency in ms.
 * @param {string} limit
 * @param {number} value
 */
const limitValue = (limit, value) => (limit.endsWith('_ms') ? `${ms(value)} ms` : pct(value));

/** @param {Alias['state']['rollback']} rollback */
function rollbackText(rollback) {
  if (!rollback) return '';
  const why = rollback.breaches.map(
    (b) =>
      `route ${b.route} (version ${b.version}) ${b.limit} ${limitValue(b.limit, b.value)} > ${limitValue(b.limit, b.threshold)}`,
  );
  return rollback.by === 'guard' ? `by the guard: ${why.join('; ')}` : 'by hand';
}

/**
 * @param {import('../output.mjs').Output} out
 * @param {Alias & { previous_version?: number | null }} a
 * @param {{ at: string, by: string | null }} [promoted] the promotion that made it plain
 */
function describeAlias(out, a, promoted) {
  const was =
    a.previous_version !== undefined && a.previous_version !== null && a.previous_version !== a.version
      ? ` (was version ${a.previous_version})`
      : '';
  if (!a.routes) {
    out.line(`${a.model} ${a.alias} -> version ${a.version}${was}`);
  } else {
    out.line(`${a.model} ${a.alias}: ${a.state.status.replace('_', ' ')} (revision ${a.state.revision})${was}`);
    out.line(
      renderTable(a.routes, [
        ['route', (r) => a.routes?.indexOf(r)],
        ['version', (r) => r.version],
        ['weight', (r) => `${r.weight}%`],
      ])
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (a.shadow) out.line(`  shadow       version ${a.shadow.version}, ${a.shadow.percent}% of requests mirrored`);
  if (a.routes) {
    out.line(`  guard        ${guardText(a.guard)}`);
    const next = a.state.next_step !== null ? `; next ${a.state.next_step}% at ${shortTime(a.state.next_step_at)}` : '';
    const stopped = a.state.status === 'rolled_back' ? ' (stopped)' : '';
    out.line(
      `  steps        ${a.steps ? `${a.steps.join(' → ')}% every ${a.step_minutes} min${next}${stopped}` : '-'}`,
    );
    out.line(`  split at     ${shortTime(a.state.split_at)}; weights set ${shortTime(a.state.weights_changed_at)}`);
    if (a.state.rolled_back_at) {
      out.line(`  rolled back  ${shortTime(a.state.rolled_back_at)} ${rollbackText(a.state.rollback)}`);
    }
  }
  if (promoted) {
    out.line(`  promoted     ${shortTime(promoted.at)} ${promoted.by === 'steps' ? 'by its steps' : 'by hand'}`);
  }
  out.line(`  updated      ${shortTime(a.updated_at)} by ${a.updated_by}`);
}

/**
 * @param {NonNullable<Scorecard['routes'][number]['vs_first']>['error_rate']} test
 * @param {boolean} enough
 * @param {string} what
 * @param {string} short what there is too little of
 */
function verdict(test, enough, what, short) {
  const label = what.padEnd(10);
  if (!test) return `${label}  nothing to compare yet`;
  const p = test.p_value === null ? 'p -' : test.p_value < 0.001 ? 'p<0.001' : `p=${test.p_value.toFixed(3)}`;
  const said = !enough ? `too few ${short} to say` : test.significant ? 'SIGNIFICANT' : 'not significant';
  return `${label}  ${points(test.difference)} (${p}): ${said}`;
}

/**
 * @param {import('../output.mjs').Output} out
 * @param {Scorecard} card
 */
function describeScorecard(out, card) {
  out.line(
    `${card.model} ${card.alias}: ${shortTime(card.from)} to ${shortTime(card.to)}, comparisons need ${card.min_requests} requests a side`,
  );
  const quality = card.routes.find((r) => r.quality)?.quality?.kind === 'regression' ? 'mae' : 'accuracy';
  out.table(card.routes, [
    ['route', (r) => r.route],
    ['version', (r) => r.version],
    ['weight', (r) => `${r.weight}%`],
    ['requests', (r) => r.requests],
    ['errors', (r) => r.errors.client + r.errors.server],
    ['error rate', (r) => pct(r.error_rate)],
    ['p50 ms', (r) => ms(r.latency_ms.p50)],
    ['p95 ms', (r) => ms(r.latency_ms.p95)],
    ['p99 ms', (r) => ms(r.latency_ms.p99)],
    ['cache hits', (r) => pct(r.cache_hit_ratio)],
    [
      quality,
      (r) =>
        r.quality
          ? `${quality === 'mae' ? num(r.quality.mae) : pct(r.quality.accuracy)} (${r.quality.feedback_rows})`
          : '-',
    ],
    ['drift', (r) => r.drift?.status ?? '-'],
  ]);
  const first = card.routes[0];
  for (const r of card.routes.slice(1)) {
    if (!r.vs_first || !first) continue;
    out.line(`route ${r.route} (version ${r.version}) against route 0 (version ${first.version}):`);
    out.line(`  ${verdict(r.vs_first.error_rate, r.vs_first.enough_requests, 'error rate', 'requests')}`);
    if (r.vs_first.accuracy || quality === 'accuracy') {
      out.line(`  ${verdict(r.vs_first.accuracy, r.vs_first.enough_feedback, 'accuracy', 'feedback rows')}`);
    }
  }
  const s = card.shadow;
  if (!s) return;
  out.line(
    `shadow version ${s.version} (${s.percent}% mirrored): ${s.requests} requests, ${s.errors} errors (${pct(s.error_rate)}), ${s.rows} rows compared`,
  );
  if (s.agreement_rate !== null) {
    const diff = s.probability_difference;
    out.line(
      `  labels agree ${pct(s.agreement_rate)}${diff ? `; probability difference mean ${num(diff.mean)}, max ${num(diff.max)}` : ''}`,
    );
  }
  if (s.outputs.length > 0) {
    out.line(
      renderTable(s.outputs, [
        ['output', (o) => o.name],
        ['elements', (o) => o.elements],
        ['equal', (o) => pct(o.equal_rate)],
        ['abs diff mean', (o) => num(o.abs_difference.mean)],
        ['abs diff max', (o) => num(o.abs_difference.max)],
        ['rel diff mean', (o) => num(o.rel_difference.mean)],
        ['rel diff max', (o) => num(o.rel_difference.max)],
      ])
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (s.requests > 0) {
    out.line(`  mean latency ${ms(s.latency_ms.primary_mean)} ms answered, ${ms(s.latency_ms.shadow_mean)} ms shadow`);
  }
}

/** @param {string[]} args */
const aliasParams = (args) => ({ name: String(args[0]), alias: String(args[1]) });

/** @type {Command[]} */
export const aliasCommands = [
  {
    name: 'aliases set',
    group: 'Registry',
    operations: ['PUT /v1/models/{name}/aliases/{alias}'],
    args: '<model> <alias> [version]',
    summary: 'Point an alias at a version, or split its traffic between versions with a shadow, guard and steps',
    notes: [
      'A plain alias: aliases set iris production 3 (with --shadow too, if you like).',
      'A split: --route VERSION=WEIGHT twice to five times, whole percents adding up to 100, e.g.',
      '  aliases set iris production --route 3=90 --route 4=10 --shadow 5@25 \\',
      '    --guard error_rate=0.02 --guard min_requests=200 --guard p99_ms=250 --guard accuracy_drop=0.05 \\',
      '    --steps 10,25,50,100 --step-minutes 30',
      `--guard takes ${GUARD_NAMES.join(', ')} (min_requests and one limit at least).`,
      'The guard sends all traffic back to the first route when a later one breaks a limit; steps raise',
      'the last route to the next weight every --step-minutes while the guard holds (at 100 it is promoted).',
      'A new setting replaces the whole alias.',
    ].join('\n'),
    options: {
      route: { type: 'string', value: 'V=W', multiple: true, description: 'A route: version V gets W% of the traffic' },
      shadow: { type: 'string', value: 'V@P', description: 'Mirror P% of the requests to version V, and compare' },
      guard: { type: 'string', value: 'K=N', multiple: true, description: 'A guard limit, e.g. error_rate=0.02' },
      steps: { type: 'string', value: 'LIST', description: "The last route's weights, e.g. 10,25,50,100" },
      'step-minutes': { type: 'string', value: 'N', description: 'Minutes between steps' },
    },
    async run({ client, args, values, out }) {
      const body = aliasBody(str(args[2]), values);
      const set = await client().request('put', '/v1/models/{name}/aliases/{alias}', {
        params: aliasParams(args),
        body,
      });
      out.result(set, () => describeAlias(out, set));
    },
  },
  {
    name: 'aliases show',
    group: 'Registry',
    operations: ['GET /v1/models/{name}/aliases/{alias}'],
    args: '<model> <alias>',
    summary: 'Show an alias: its version, or its routes and weights, shadow, guard, steps and state',
    async run({ client, args, out }) {
      const params = aliasParams(args);
      const alias = await client().request('get', '/v1/models/{name}/aliases/{alias}', { params });
      // A plain alias may be one a rollout just promoted: its last change of the day says.
      const last =
        alias.routes || out.json
          ? undefined
          : (
              await client().request('get', '/v1/models/{name}/aliases/{alias}/series', {
                params,
                query: { window: '24h' },
              })
            ).events.at(-1);
      out.result(alias, () => describeAlias(out, alias, last?.kind === 'promoted' ? last : undefined));
    },
  },
  {
    name: 'aliases scorecard',
    group: 'Registry',
    operations: ['GET /v1/models/{name}/aliases/{alias}/scorecard'],
    args: '<model> <alias>',
    summary: 'How each of an alias’s routes and its shadow are doing, against the first route',
    notes: [
      'Per route: requests, errors and error rate, latency percentiles, cache hit ratio, accuracy (or MAE)',
      'from feedback and drift; against the first route, the difference in error rate and accuracy with',
      'a two-proportion test, significant at p < 0.05 once both sides have enough requests or feedback.',
    ].join('\n'),
    options: { window: { type: 'string', value: 'W', description: 'How far back: 15m, 1h (default), 24h, 7d…' } },
    async run({ client, args, values, out }) {
      const card = await client().request('get', '/v1/models/{name}/aliases/{alias}/scorecard', {
        params: aliasParams(args),
        query: { window: str(values.window) },
      });
      out.result(card, () => describeScorecard(out, card));
    },
  },
  {
    name: 'aliases promote',
    group: 'Registry',
    operations: ['POST /v1/models/{name}/aliases/{alias}/promote'],
    args: '<model> <alias>',
    summary: 'End a split: the alias points at its last route’s version (or --version’s) alone',
    notes: 'Its routes, shadow, guard and steps end. Asks on a terminal; elsewhere it needs --yes.',
    options: {
      version: { type: 'string', value: 'V', description: 'The route to promote (default the last)' },
      yes: { type: 'boolean', short: 'y', description: 'Do it without asking' },
    },
    async run({ client, args, values, out }) {
      const params = aliasParams(args);
      const version = positiveInt(values.version, 'version');
      const before = await client().request('get', '/v1/models/{name}/aliases/{alias}', { params });
      const target = version ?? before.routes?.at(-1)?.version;
      // A plain alias is refused by the server (409 alias_not_split): nothing to ask about.
      if (before.routes) {
        await confirm(
          values,
          `aliases promote ${params.name} ${params.alias}`,
          `sends all of ${params.alias}'s traffic to version ${target} and ends its split, shadow, guard and steps`,
        );
      }
      const after = await client().request('post', '/v1/models/{name}/aliases/{alias}/promote', {
        params,
        body: version === undefined ? {} : { version },
      });
      out.result(after, () =>
        describeAlias(out, { ...after, previous_version: before.version }, { at: after.updated_at, by: 'hand' }),
      );
    },
  },
  {
    name: 'aliases rollback',
    group: 'Registry',
    operations: ['POST /v1/models/{name}/aliases/{alias}/rollback'],
    args: '<model> <alias>',
    summary: 'Send all of a split alias’s traffic back to its first route, as the guard does',
    notes: [
      'The other routes stay listed at weight 0 (the scorecard keeps showing them); steps stop;',
      'alias.rolled_back goes to webhooks. Asks on a terminal; elsewhere it needs --yes.',
    ].join('\n'),
    options: { yes: { type: 'boolean', short: 'y', description: 'Do it without asking' } },
    async run({ client, args, values, out }) {
      const params = aliasParams(args);
      const before = await client().request('get', '/v1/models/{name}/aliases/{alias}', { params });
      // A plain alias is refused by the server (409 alias_not_split); one rolled back already stays as it is.
      if (before.routes && before.state.status !== 'rolled_back') {
        await confirm(
          values,
          `aliases rollback ${params.name} ${params.alias}`,
          `sends all of ${params.alias}'s traffic to version ${before.version} and stops its steps`,
        );
      }
      const after = await client().request('post', '/v1/models/{name}/aliases/{alias}/rollback', { params });
      out.result(after, () => describeAlias(out, after));
    },
  },
];
