import { and, eq, gte, sql, type SQL } from 'drizzle-orm';
import { LATENCY_BOUNDS_MS } from '../core/latency-buckets';
import type { ShadowReport } from '../inference/shadow';
import type { Db } from '../storage/db';
import { LATENCY_COLUMNS, routeRollups, routeTotals, shadowRollups, shadowTotals } from '../storage/schema';
import { addInto, countInference, emptyCounters, type Counters, type InferenceOutcome } from './counters';
import { FlushSchedule } from './flush-schedule';
import type { ObserveDeps } from './observe';

/*
 * What each route of a split alias served, and what its shadow compared, buffered in the
 * isolate and added to per-minute rollups (and monotonic totals) in D1 like the version
 * counts: nothing is written on the request's path. After a write, the aliases a guard or
 * steps watch are handed to the rollout check (at most every ROLLOUT_CHECK_SECONDS per alias
 * and isolate), so a breach is judged within seconds of the traffic that shows it.
 */

export interface RouteRef {
  workspaceId: string;
  model: string;
  alias: string;
  route: number;
  version: number;
}

/** An alias whose guard or steps should judge fresh counts. */
export interface WatchedAlias {
  workspaceId: string;
  model: string;
  alias: string;
}

export interface RouteMetricsDeps extends ObserveDeps {
  routeMetrics: RouteMetrics;
  /** Judges the guards and steps of these aliases (rollouts/check.ts, wired by the platform). */
  judgeRollouts?: (aliases: WatchedAlias[]) => Promise<void>;
}

/** The route counters, as columns: the part of the version counters a route keeps. */
const ROUTE_COUNTERS = [
  'requests',
  'rows',
  'clientErrors',
  'serverErrors',
  'cacheHits',
  'cacheMisses',
  'cacheBypasses',
  'latencyMsSum',
] as const;
const LATENCY_KEYS = LATENCY_COLUMNS.map((_, i) => `latencyB${i}`);

function routeColumns(c: Counters): Record<string, number> {
  const columns: Record<string, number> = {};
  for (const key of ROUTE_COUNTERS) columns[key] = c[key];
  c.latency.forEach((n, i) => (columns[`latencyB${i}`] = n));
  return columns;
}

function countersFrom(row: Record<string, unknown>): Counters {
  const c = emptyCounters();
  for (const key of ROUTE_COUNTERS) c[key] = Number(row[key] ?? 0);
  c.latency = c.latency.map((_, i) => Number(row[`latencyB${i}`] ?? 0));
  return c;
}

/** What a shadow's comparisons add up to, per minute and output ('' for the request level). */
export interface ShadowTally {
  requests: number;
  errors: number;
  rows: number;
  agreeRows: number;
  probDiffSum: number;
  probDiffMax: number;
  elements: number;
  equalElements: number;
  absDiffSum: number;
  absDiffMax: number;
  relDiffSum: number;
  relDiffMax: number;
  primaryMsSum: number;
  shadowMsSum: number;
}

const SHADOW_SUMS = [
  'requests',
  'errors',
  'rows',
  'agreeRows',
  'probDiffSum',
  'elements',
  'equalElements',
  'absDiffSum',
  'relDiffSum',
  'primaryMsSum',
  'shadowMsSum',
] as const;
const SHADOW_MAXES = ['probDiffMax', 'absDiffMax', 'relDiffMax'] as const;

export const emptyTally = (): ShadowTally => ({
  requests: 0,
  errors: 0,
  rows: 0,
  agreeRows: 0,
  probDiffSum: 0,
  probDiffMax: 0,
  elements: 0,
  equalElements: 0,
  absDiffSum: 0,
  absDiffMax: 0,
  relDiffSum: 0,
  relDiffMax: 0,
  primaryMsSum: 0,
  shadowMsSum: 0,
});

export function addTally(into: ShadowTally, more: ShadowTally): ShadowTally {
  for (const key of SHADOW_SUMS) into[key] += more[key];
  for (const key of SHADOW_MAXES) into[key] = Math.max(into[key], more[key]);
  return into;
}

type RouteEntry = { key: RouteRef & { minute: number }; counters: Counters };
type ShadowEntry = { key: WatchedAlias & { version: number; minute: number; output: string }; tally: ShadowTally };

const minuteOf = (at: number) => Math.floor(at / 60000);
const aliasId = (a: WatchedAlias) => `${a.workspaceId}\0${a.model}\0${a.alias}`;

export class RouteMetrics {
  private routes = new Map<string, RouteEntry>();
  private shadows = new Map<string, ShadowEntry>();
  private watched = new Map<string, WatchedAlias>();
  private since = 0;
  /** When this isolate last handed each alias to the rollout check. */
  private readonly judgedAt = new Map<string, number>();
  private readonly writing = new Set<Promise<void>>();
  private readonly schedule = new FlushSchedule((db, deps) => this.flushBuffer(db, deps as RouteMetricsDeps));

  /** A request served (or failed) through an alias's route. */
  served(deps: RouteMetricsDeps, ref: RouteRef, watched: boolean, o: InferenceOutcome): void {
    const minute = minuteOf(Date.now());
    const id = `${ref.workspaceId}\0${ref.model}\0${ref.alias}\0${ref.route}\0${ref.version}\0${minute}`;
    let entry = this.routes.get(id);
    if (!entry) {
      entry = { key: { ...ref, minute }, counters: emptyCounters() };
      this.routes.set(id, entry);
    }
    countInference(entry.counters, o);
    if (watched) this.watched.set(aliasId(ref), { workspaceId: ref.workspaceId, model: ref.model, alias: ref.alias });
    this.counted(deps);
  }

  /** A shadow run's comparison (or its failure). */
  shadowed(deps: RouteMetricsDeps, report: ShadowReport): void {
    const base = { workspaceId: report.shadow.workspaceId, model: report.shadow.modelName, alias: report.alias };
    const minute = minuteOf(Date.now());
    const add = (output: string, update: (t: ShadowTally) => void) => {
      const id = `${aliasId(base)}\0${report.shadow.version}\0${minute}\0${output}`;
      let entry = this.shadows.get(id);
      if (!entry) {
        entry = { key: { ...base, version: report.shadow.version, minute, output }, tally: emptyTally() };
        this.shadows.set(id, entry);
      }
      update(entry.tally);
    };
    const { comparison } = report;
    add('', (t) => {
      t.requests += 1;
      t.primaryMsSum += report.primaryMs;
      t.shadowMsSum += report.shadowMs;
      if (!comparison) {
        t.errors += 1;
        return;
      }
      t.rows += comparison.rows;
      if (comparison.labels) {
        t.agreeRows += comparison.labels.agree;
        t.probDiffSum += comparison.labels.maxProbabilityDiff;
        t.probDiffMax = Math.max(t.probDiffMax, comparison.labels.maxProbabilityDiff);
      }
    });
    for (const o of comparison?.outputs ?? []) {
      add(o.name, (t) => {
        t.requests += 1;
        t.elements += o.elements;
        t.equalElements += o.equal;
        t.absDiffSum += o.absSum;
        t.absDiffMax = Math.max(t.absDiffMax, o.absMax);
        t.relDiffSum += o.relSum;
        t.relDiffMax = Math.max(t.relDiffMax, o.relMax);
      });
    }
    this.counted(deps);
  }

  /** Counts of a purged model that this isolate has not written yet are not written at all. */
  forgetModel(workspaceId: string, model: string): void {
    const prefix = `${workspaceId}\0${model}\0`;
    for (const map of [this.routes, this.shadows, this.watched] as Map<string, unknown>[]) {
      for (const id of map.keys()) if (id.startsWith(prefix)) map.delete(id);
    }
  }

  /** Writes everything buffered (and waits for writes under way), then judges watched aliases. */
  async flush(deps: RouteMetricsDeps): Promise<void> {
    await this.flushBuffer(deps.db, deps);
    await Promise.allSettled([...this.writing]);
  }

  private counted(deps: RouteMetricsDeps): void {
    if (this.since === 0) this.since = Date.now();
    const size = this.routes.size + this.shadows.size;
    const due = size > 0 && (Date.now() - this.since >= deps.config.METRICS_FLUSH_SECONDS * 1000 || size >= 200);
    this.schedule.afterCount(deps, due);
  }

  private async flushBuffer(db: Db, deps: RouteMetricsDeps): Promise<void> {
    const routes = [...this.routes.values()];
    const shadows = [...this.shadows.values()];
    const watched = [...this.watched.values()];
    this.routes = new Map();
    this.shadows = new Map();
    this.watched = new Map();
    this.since = 0;
    if (routes.length + shadows.length > 0) {
      const write = writeRouteCounts(db, routes, shadows).catch((err: unknown) => {
        // Put the counts back: the next flush writes them with whatever came since.
        for (const entry of routes) this.putBack(this.routes, entry, (into) => addInto(into.counters, entry.counters));
        for (const entry of shadows) this.putBack(this.shadows, entry, (into) => addTally(into.tally, entry.tally));
        for (const a of watched) this.watched.set(aliasId(a), a);
        throw err;
      });
      this.writing.add(write);
      try {
        await write;
      } finally {
        this.writing.delete(write);
      }
    }
    await this.judge(deps, watched);
  }

  private putBack<E extends { key: object }>(map: Map<string, E>, entry: E, merge: (into: E) => void): void {
    const id = Object.values(entry.key).join('\0');
    const held = map.get(id);
    if (held) merge(held);
    else map.set(id, entry);
  }

  private async judge(deps: RouteMetricsDeps, watched: WatchedAlias[]): Promise<void> {
    if (!deps.judgeRollouts || watched.length === 0) return;
    const now = Date.now();
    const every = deps.config.ROLLOUT_CHECK_SECONDS * 1000;
    const due = watched.filter((a) => now - (this.judgedAt.get(aliasId(a)) ?? -Infinity) >= every);
    if (due.length === 0) return;
    for (const a of due) this.judgedAt.set(aliasId(a), now);
    if (this.judgedAt.size > 4096) this.judgedAt.delete(this.judgedAt.keys().next().value!);
    await deps.judgeRollouts(due);
  }
}

/** D1 binds at most 100 parameters a statement: a route row binds 28, a shadow row 20. */
const ROUTE_ROWS_PER_STATEMENT = 3;
const SHADOW_ROWS_PER_STATEMENT = 4;

/** `column = column + excluded.column` for sums, `max(column, excluded.column)` for maxima. */
function merging(table: object, sums: readonly string[], maxes: readonly string[] = []): Record<string, SQL> {
  const columns = table as Record<string, { name: string }>;
  const set: Record<string, SQL> = {};
  for (const key of sums) set[key] = sql.raw(`"${columns[key]!.name}" + excluded."${columns[key]!.name}"`);
  for (const key of maxes) set[key] = sql.raw(`max("${columns[key]!.name}", excluded."${columns[key]!.name}")`);
  return set;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function writeRouteCounts(db: Db, routes: RouteEntry[], shadows: ShadowEntry[]): Promise<void> {
  const routeSums = [...ROUTE_COUNTERS, ...LATENCY_KEYS];
  const totals = new Map<string, { key: RouteRef; columns: Record<string, number> }>();
  for (const { key, counters } of routes) {
    const { minute: _minute, ...ref } = key;
    const id = Object.values(ref).join('\0');
    const columns = routeColumns(counters);
    const held = totals.get(id);
    if (held) for (const [k, n] of Object.entries(columns)) held.columns[k]! += n;
    else totals.set(id, { key: ref, columns });
  }
  const shadowTotalsById = new Map<string, { key: WatchedAlias & { version: number }; tally: ShadowTally }>();
  for (const { key, tally } of shadows) {
    if (key.output !== '') continue;
    const { minute: _minute, output: _output, ...ref } = key;
    const id = Object.values(ref).join('\0');
    const held = shadowTotalsById.get(id);
    if (held) addTally(held.tally, tally);
    else shadowTotalsById.set(id, { key: ref, tally: { ...tally } });
  }
  const statements = [
    ...chunks(routes, ROUTE_ROWS_PER_STATEMENT).map((part) =>
      db
        .insert(routeRollups)
        .values(part.map(({ key, counters }) => ({ ...key, ...routeColumns(counters) })) as never)
        .onConflictDoUpdate({
          target: [
            routeRollups.workspaceId,
            routeRollups.model,
            routeRollups.alias,
            routeRollups.route,
            routeRollups.version,
            routeRollups.minute,
          ],
          set: merging(routeRollups, routeSums),
        }),
    ),
    ...chunks([...totals.values()], ROUTE_ROWS_PER_STATEMENT).map((part) =>
      db
        .insert(routeTotals)
        .values(part.map(({ key, columns }) => ({ ...key, ...columns })) as never)
        .onConflictDoUpdate({
          target: [
            routeTotals.workspaceId,
            routeTotals.model,
            routeTotals.alias,
            routeTotals.route,
            routeTotals.version,
          ],
          set: merging(routeTotals, routeSums),
        }),
    ),
    ...chunks(shadows, SHADOW_ROWS_PER_STATEMENT).map((part) =>
      db
        .insert(shadowRollups)
        .values(part.map(({ key, tally }) => ({ ...key, ...tally })))
        .onConflictDoUpdate({
          target: [
            shadowRollups.workspaceId,
            shadowRollups.model,
            shadowRollups.alias,
            shadowRollups.version,
            shadowRollups.minute,
            shadowRollups.output,
          ],
          set: merging(shadowRollups, SHADOW_SUMS, SHADOW_MAXES),
        }),
    ),
    ...chunks([...shadowTotalsById.values()], SHADOW_ROWS_PER_STATEMENT).map((part) =>
      db
        .insert(shadowTotals)
        .values(
          part.map(({ key, tally }) => ({
            ...key,
            requests: tally.requests,
            errors: tally.errors,
            rows: tally.rows,
            agreeRows: tally.agreeRows,
          })),
        )
        .onConflictDoUpdate({
          target: [shadowTotals.workspaceId, shadowTotals.model, shadowTotals.alias, shadowTotals.version],
          set: merging(shadowTotals, ['requests', 'errors', 'rows', 'agreeRows']),
        }),
    ),
  ];
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

export interface RouteRollup {
  route: number;
  version: number;
  minute: number;
  counters: Counters;
}

/** An alias's route rollups since `fromMinute`. */
export async function readRouteRollups(db: Db, alias: WatchedAlias, fromMinute: number): Promise<RouteRollup[]> {
  const rows = await db
    .select()
    .from(routeRollups)
    .where(
      and(
        eq(routeRollups.workspaceId, alias.workspaceId),
        eq(routeRollups.model, alias.model),
        eq(routeRollups.alias, alias.alias),
        gte(routeRollups.minute, fromMinute),
      ),
    );
  return rows.map((r) => ({ route: r.route, version: r.version, minute: r.minute, counters: countersFrom(r) }));
}

export interface ShadowRollup {
  version: number;
  minute: number;
  /** '' for the request level, else an output's name. */
  output: string;
  tally: ShadowTally;
}

/** An alias's shadow comparisons since `fromMinute`, per shadow version, minute and output. */
export async function readShadowRollups(db: Db, alias: WatchedAlias, fromMinute: number): Promise<ShadowRollup[]> {
  const rows = await db
    .select()
    .from(shadowRollups)
    .where(
      and(
        eq(shadowRollups.workspaceId, alias.workspaceId),
        eq(shadowRollups.model, alias.model),
        eq(shadowRollups.alias, alias.alias),
        gte(shadowRollups.minute, fromMinute),
      ),
    );
  return rows.map((row) => {
    const tally: ShadowTally = { ...emptyTally() };
    for (const key of [...SHADOW_SUMS, ...SHADOW_MAXES]) tally[key] = row[key];
    return { version: row.version, minute: row.minute, output: row.output, tally };
  });
}

/** An alias's shadow comparisons since `fromMinute`, added up per shadow version and output. */
export async function readShadowTallies(
  db: Db,
  alias: WatchedAlias,
  fromMinute: number,
): Promise<{ version: number; output: string; tally: ShadowTally }[]> {
  const added = new Map<string, { version: number; output: string; tally: ShadowTally }>();
  for (const { version, output, tally } of await readShadowRollups(db, alias, fromMinute)) {
    const id = `${version}\0${output}`;
    const held = added.get(id);
    if (held) addTally(held.tally, tally);
    else added.set(id, { version, output, tally });
  }
  return [...added.values()];
}

/** Deletes what routes and shadows counted for a model (a purge: its name may be taken again). */
export async function deleteRouteCounts(db: Db, workspaceId: string, model: string): Promise<void> {
  await db.batch([
    db.delete(routeRollups).where(and(eq(routeRollups.workspaceId, workspaceId), eq(routeRollups.model, model))),
    db.delete(routeTotals).where(and(eq(routeTotals.workspaceId, workspaceId), eq(routeTotals.model, model))),
    db.delete(shadowRollups).where(and(eq(shadowRollups.workspaceId, workspaceId), eq(shadowRollups.model, model))),
    db.delete(shadowTotals).where(and(eq(shadowTotals.workspaceId, workspaceId), eq(shadowTotals.model, model))),
  ]);
}

/** Rollups older than the retention, by the cron trigger. */
export async function pruneRouteRollups(db: Db, beforeMinute: number): Promise<void> {
  await db.batch([
    db.delete(routeRollups).where(sql`${routeRollups.minute} < ${beforeMinute}`),
    db.delete(shadowRollups).where(sql`${shadowRollups.minute} < ${beforeMinute}`),
  ]);
}

// ── Prometheus: the route as a label. ──

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string | number>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escape(String(v))}"`)
    .join(',')}}`;

/** The alias route and shadow families of /metrics, for one workspace or all of them. */
export async function routeExposition(db: Db, workspaceId?: string): Promise<string> {
  const [routes, shadows] = await db.batch([
    db
      .select()
      .from(routeTotals)
      .where(workspaceId ? eq(routeTotals.workspaceId, workspaceId) : undefined)
      .orderBy(routeTotals.workspaceId, routeTotals.model, routeTotals.alias, routeTotals.route),
    db
      .select()
      .from(shadowTotals)
      .where(workspaceId ? eq(shadowTotals.workspaceId, workspaceId) : undefined)
      .orderBy(shadowTotals.workspaceId, shadowTotals.model, shadowTotals.alias, shadowTotals.version),
  ]);
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const routeLabels = (r: (typeof routes)[number]) => ({
    workspace: r.workspaceId,
    model: r.model,
    alias: r.alias,
    route: r.route,
    version: r.version,
  });
  family(
    'modelflare_alias_route_requests_total',
    'counter',
    "Prediction requests through an alias's route, by outcome",
  );
  for (const r of routes) {
    const success = r.requests - r.clientErrors - r.serverErrors;
    for (const [outcome, n] of [
      ['success', success],
      ['client_error', r.clientErrors],
      ['server_error', r.serverErrors],
    ] as const) {
      lines.push(`modelflare_alias_route_requests_total${labels({ ...routeLabels(r), outcome })} ${n}`);
    }
  }
  family('modelflare_alias_route_duration_seconds', 'histogram', "Latency of requests through an alias's route");
  for (const r of routes) {
    const c = countersFrom(r);
    let cumulative = 0;
    LATENCY_BOUNDS_MS.forEach((bound, i) => {
      cumulative += c.latency[i]!;
      lines.push(
        `modelflare_alias_route_duration_seconds_bucket${labels({ ...routeLabels(r), le: String(bound / 1000) })} ${cumulative}`,
      );
    });
    lines.push(
      `modelflare_alias_route_duration_seconds_bucket${labels({ ...routeLabels(r), le: '+Inf' })} ${c.requests}`,
    );
    lines.push(`modelflare_alias_route_duration_seconds_sum${labels(routeLabels(r))} ${c.latencyMsSum / 1000}`);
    lines.push(`modelflare_alias_route_duration_seconds_count${labels(routeLabels(r))} ${c.requests}`);
  }
  family(
    'modelflare_alias_route_cache_hit_total',
    'counter',
    "Requests through an alias's route answered from the cache",
  );
  for (const r of routes) lines.push(`modelflare_alias_route_cache_hit_total${labels(routeLabels(r))} ${r.cacheHits}`);
  const shadowLabels = (s: (typeof shadows)[number]) => ({
    workspace: s.workspaceId,
    model: s.model,
    alias: s.alias,
    version: s.version,
  });
  family('modelflare_shadow_requests_total', 'counter', 'Requests mirrored to an alias’s shadow version, by outcome');
  for (const s of shadows) {
    lines.push(
      `modelflare_shadow_requests_total${labels({ ...shadowLabels(s), outcome: 'compared' })} ${s.requests - s.errors}`,
    );
    lines.push(`modelflare_shadow_requests_total${labels({ ...shadowLabels(s), outcome: 'error' })} ${s.errors}`);
  }
  family(
    'modelflare_shadow_compared_rows_total',
    'counter',
    'Rows on which a shadow version was compared with the answer',
  );
  for (const s of shadows) lines.push(`modelflare_shadow_compared_rows_total${labels(shadowLabels(s))} ${s.rows}`);
  family('modelflare_shadow_agreeing_rows_total', 'counter', 'Compared rows whose labels agreed (classifiers)');
  for (const s of shadows) lines.push(`modelflare_shadow_agreeing_rows_total${labels(shadowLabels(s))} ${s.agreeRows}`);
  return `${lines.join('\n')}\n`;
}
