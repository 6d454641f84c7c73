import { auditOf, type AuditEntry } from '../audit/audit-log';
import { bucketOf, bucketsFor } from '../monitoring/buckets';
import { addInto, emptyCounters, type Counters } from '../monitoring/counters';
import {
  addTally,
  emptyTally,
  readRouteRollups,
  readShadowRollups,
  type ShadowTally,
} from '../monitoring/route-metrics';
import { point, type SeriesPoint } from '../monitoring/stats';
import type { AliasState } from '../registry/aliases';
import type { ModelRow } from '../registry/types';
import type { Db } from '../storage/db';
import { routesOf } from './scorecard';

/*
 * An alias's traffic over time, per version it routed to and per shadow version, in the same
 * buckets as the model's stats (so the dashboard draws a line per route on its charts), with the
 * rollout's changes in the window — set, stepped, rolled back, promoted, removed — read from the
 * audit log, so a chart can mark them and a plain alias can say it was promoted.
 */

export interface RouteLine {
  /** Its index among the alias's routes now; null for a version it no longer routes to. */
  route: number | null;
  version: number;
  /** Its weight now; null when it is no longer a route. */
  weight: number | null;
  points: SeriesPoint[];
}

export interface ShadowPoint {
  at: number;
  requests: number;
  errors: number;
  errorRate: number | null;
  agreementRate: number | null;
  shadowMsMean: number | null;
}

export interface ShadowLine {
  version: number;
  /** Whether it is the alias's shadow now. */
  current: boolean;
  points: ShadowPoint[];
}

export type RolloutEventKind = 'set' | 'stepped' | 'rolled_back' | 'promoted' | 'removed';

export interface RolloutEvent {
  at: number;
  kind: RolloutEventKind;
  /** Who made it: `system` for the guard and steps, else the caller's kind. */
  actor: string;
  /** `guard` or `hand` for a rollback, `steps` or `hand` for a promotion. */
  by: string | null;
  /** The weights the alias had after it (null once removed). */
  routes: { version: number; weight: number }[] | null;
}

export interface AliasSeries {
  fromMinute: number;
  toMinute: number;
  stepMinutes: number;
  routes: RouteLine[];
  shadows: ShadowLine[];
  events: RolloutEvent[];
}

const KINDS: Record<string, RolloutEventKind> = {
  'alias.set': 'set',
  'alias.stepped': 'stepped',
  'alias.rolled_back': 'rolled_back',
  'alias.promoted': 'promoted',
  'alias.delete': 'removed',
};

type Weights = { version: number; weight: number }[];

const weightsIn = (value: unknown): Weights | null =>
  Array.isArray(value) && value.every((r) => typeof r?.version === 'number' && typeof r?.weight === 'number')
    ? value.map((r: { version: number; weight: number }) => ({ version: r.version, weight: r.weight }))
    : null;

const one = (version: unknown): Weights | null => (typeof version === 'number' ? [{ version, weight: 100 }] : null);

/** An audit entry of the alias as a rollout event: the weights after it, from what the entry recorded. */
export function eventOf(entry: AuditEntry): RolloutEvent | null {
  const kind = KINDS[entry.action];
  if (!kind) return null;
  const d = entry.details;
  const by = typeof d.by === 'string' ? d.by : null;
  const routes =
    kind === 'set'
      ? (weightsIn(d.routes) ?? one(d.version))
      : kind === 'stepped'
        ? weightsIn(d.to)
        : kind === 'rolled_back'
          ? (weightsIn(d.routes)?.map((r, i) => ({ version: r.version, weight: i === 0 ? 100 : 0 })) ?? null)
          : kind === 'promoted'
            ? one(d.version)
            : null;
  return { at: entry.createdAt, kind, actor: entry.actorKind, by, routes };
}

const add = <K>(map: Map<K, Counters>, key: K, c: Counters) =>
  addInto(map.get(key) ?? map.set(key, emptyCounters()).get(key)!, c);

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

function shadowPoint(at: number, t: ShadowTally): ShadowPoint {
  return {
    at,
    requests: t.requests,
    errors: t.errors,
    errorRate: ratio(t.errors, t.requests),
    agreementRate: ratio(t.agreeRows, t.rows),
    shadowMsMean: t.requests === 0 ? null : Math.round((t.shadowMsSum / t.requests) * 1000) / 1000,
  };
}

/**
 * The alias's lines over the last `windowMinutes`: one per version it routed traffic to in the
 * window (its routes now first, in route order, even without traffic yet), one per shadow version.
 */
export async function aliasSeries(
  db: Db,
  model: ModelRow,
  state: AliasState,
  windowMinutes: number,
  now = Date.now(),
): Promise<AliasSeries> {
  const { fromMinute, toMinute, stepMinutes, starts } = bucketsFor(windowMinutes, now);
  const ref = { workspaceId: model.workspaceId, model: model.name, alias: state.alias };
  const [rollups, shadowRows, audit] = await Promise.all([
    readRouteRollups(db, ref, fromMinute),
    readShadowRollups(db, ref, fromMinute),
    auditOf(db, model.workspaceId, `model:${model.name}/alias:${state.alias}`, fromMinute * 60000, Object.keys(KINDS)),
  ]);
  const perStep = new Map<string, Counters>();
  const served = new Set<number>();
  for (const r of rollups) {
    served.add(r.version);
    add(perStep, `${r.version}:${bucketOf(r.minute, stepMinutes)}`, r.counters);
  }
  const current = state.routes ? routesOf(state) : [];
  const others = [...served].filter((v) => !current.some((r) => r.version === v)).sort((a, b) => a - b);
  const routes: RouteLine[] = [
    ...current.map((r, i) => ({ route: i, version: r.version, weight: r.weight })),
    ...others.map((version) => ({ route: null, version, weight: null })),
  ].map((line) => ({
    ...line,
    points: starts.map((s) => point(s * 60000, perStep.get(`${line.version}:${s}`) ?? emptyCounters())),
  }));

  const shadowSteps = new Map<string, ShadowTally>();
  const shadowVersions = new Set<number>(state.shadow ? [state.shadow.version] : []);
  for (const row of shadowRows) {
    if (row.output !== '') continue;
    shadowVersions.add(row.version);
    const id = `${row.version}:${bucketOf(row.minute, stepMinutes)}`;
    addTally(shadowSteps.get(id) ?? shadowSteps.set(id, emptyTally()).get(id)!, row.tally);
  }
  const shadows: ShadowLine[] = [...shadowVersions]
    .sort((a, b) => (a === state.shadow?.version ? -1 : b === state.shadow?.version ? 1 : a - b))
    .map((version) => ({
      version,
      current: version === state.shadow?.version,
      points: starts.map((s) => shadowPoint(s * 60000, shadowSteps.get(`${version}:${s}`) ?? emptyTally())),
    }));

  const events = audit.map(eventOf).filter((e): e is RolloutEvent => e !== null);
  return { fromMinute, toMinute, stepMinutes, routes, shadows, events };
}
