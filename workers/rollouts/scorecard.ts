import { and, eq, gte, inArray } from 'drizzle-orm';
import { quantile } from '../core/latency-buckets';
import { addInto, emptyCounters, type Counters } from '../monitoring/counters';
import { latestReport } from '../monitoring/drift/report';
import { emptyTally, readRouteRollups, readShadowTallies } from '../monitoring/route-metrics';
import type { AliasState } from '../registry/aliases';
import type { ModelRow } from '../registry/types';
import type { Db } from '../storage/db';
import { predictionFeedback } from '../storage/schema';
import { twoProportionTest, type ProportionTest } from './statistics';

/*
 * How each route of an alias is doing over a window, side by side with the first route: the
 * traffic it served through the alias (route rollups), its quality from feedback on the
 * predictions its version made, and its version's drift status; and what the shadow's
 * comparisons say. The guard judges it, the scorecard route shows it, the rollback event
 * carries it.
 */

/** Below this many requests (or feedback rows), a comparison is not said to mean anything. */
export const DEFAULT_MIN_REQUESTS = 100;
export const DEFAULT_MIN_FEEDBACK = 30;
/** The significance level of the tests. */
export const ALPHA = 0.05;

export interface Quality {
  kind: 'classification' | 'regression';
  /** Rows with feedback. */
  count: number;
  correct: number;
  accuracy: number | null;
  mae: number | null;
}

export interface Comparison extends ProportionTest {
  significant: boolean;
}

export interface RouteCard {
  route: number;
  version: number;
  weight: number;
  requests: number;
  errors: { client: number; server: number };
  errorRate: number | null;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
  cacheHitRatio: number | null;
  quality: Quality | null;
  drift: { status: string; checkedAt: number } | null;
  /** Against the first route (null for the first itself). */
  vsFirst: {
    enoughRequests: boolean;
    errorRate: Comparison | null;
    enoughFeedback: boolean;
    accuracy: Comparison | null;
  } | null;
}

export interface OutputCard {
  name: string;
  elements: number;
  equalRate: number | null;
  absDiff: { mean: number | null; max: number };
  relDiff: { mean: number | null; max: number };
}

export interface ShadowCard {
  version: number;
  percent: number;
  requests: number;
  errors: number;
  errorRate: number | null;
  rows: number;
  /** Classifiers: rows whose labels agreed, of those compared. */
  agreementRate: number | null;
  probabilityDiff: { mean: number | null; max: number } | null;
  outputs: OutputCard[];
  latencyMs: { primaryMean: number | null; shadowMean: number | null };
}

export interface Scorecard {
  model: string;
  alias: string;
  from: number;
  to: number;
  minRequests: number;
  routes: RouteCard[];
  shadow: ShadowCard | null;
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
const round = (x: number | null, digits = 6) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Labels as strings; a numeric class index maps to its label when the model has labels. */
const asLabel = (value: unknown, labels: string[] | null) =>
  typeof value === 'number' && labels?.[value] !== undefined ? labels[value]! : String(value);

async function qualityByVersion(
  db: Db,
  model: ModelRow,
  versions: number[],
  from: number,
): Promise<Map<number, Quality>> {
  const rows = await db
    .select({
      version: predictionFeedback.version,
      actual: predictionFeedback.actual,
      predicted: predictionFeedback.predicted,
    })
    .from(predictionFeedback)
    .where(
      and(
        eq(predictionFeedback.workspaceId, model.workspaceId),
        eq(predictionFeedback.model, model.name),
        inArray(predictionFeedback.version, versions),
        gte(predictionFeedback.predictedAt, from),
      ),
    );
  const scored = rows.filter((r) => r.predicted !== null && r.predicted !== undefined);
  const numeric =
    scored.length > 0 && scored.every((r) => typeof r.actual === 'number' && typeof r.predicted === 'number');
  const kind =
    model.task === 'classification' || (model.task !== 'regression' && !numeric) ? 'classification' : 'regression';
  const out = new Map<number, Quality>();
  for (const version of versions) {
    const mine = scored.filter((r) => r.version === version);
    if (mine.length === 0) continue;
    if (kind === 'classification') {
      const correct = mine.filter(
        (r) => asLabel(r.actual, model.classLabels) === asLabel(r.predicted, model.classLabels),
      ).length;
      out.set(version, { kind, count: mine.length, correct, accuracy: correct / mine.length, mae: null });
    } else {
      const mae = mine.reduce((sum, r) => sum + Math.abs(Number(r.predicted) - Number(r.actual)), 0) / mine.length;
      out.set(version, { kind, count: mine.length, correct: 0, accuracy: null, mae });
    }
  }
  return out;
}

const compared = (test: ProportionTest | null, enough: boolean): Comparison | null =>
  test && { ...test, significant: enough && test.pValue !== null && test.pValue < ALPHA };

/** The routes of an alias as the scorecard lists them (a plain alias is one route). */
export const routesOf = (state: AliasState) =>
  state.routes ?? [{ version: state.version, weight: 100, versionId: state.versionId }];

export async function scorecard(
  db: Db,
  model: ModelRow,
  state: AliasState,
  from: number,
  to = Date.now(),
): Promise<Scorecard> {
  const routes = routesOf(state);
  const ref = { workspaceId: model.workspaceId, model: model.name, alias: state.alias };
  const fromMinute = Math.floor(from / 60000);
  const [rollups, tallies, quality, drift] = await Promise.all([
    readRouteRollups(db, ref, fromMinute),
    state.shadow ? readShadowTallies(db, ref, fromMinute) : Promise.resolve([]),
    qualityByVersion(
      db,
      model,
      routes.map((r) => r.version),
      from,
    ),
    Promise.all(routes.map((r) => latestReport(db, r.versionId))),
  ]);
  const minRequests = state.guard?.min_requests ?? DEFAULT_MIN_REQUESTS;
  const minFeedback = state.guard?.min_feedback ?? DEFAULT_MIN_FEEDBACK;
  const counted = new Map<number, Counters>();
  for (const r of rollups) {
    addInto(counted.get(r.version) ?? counted.set(r.version, emptyCounters()).get(r.version)!, r.counters);
  }
  const cards: RouteCard[] = routes.map((route, index) => {
    const c = counted.get(route.version) ?? emptyCounters();
    const report = drift[index];
    return {
      route: index,
      version: route.version,
      weight: route.weight,
      requests: c.requests,
      errors: { client: c.clientErrors, server: c.serverErrors },
      errorRate: ratio(c.clientErrors + c.serverErrors, c.requests),
      latencyMs: {
        mean: round(ratio(c.latencyMsSum, c.requests), 3),
        p50: round(quantile(c.latency, 0.5), 3),
        p95: round(quantile(c.latency, 0.95), 3),
        p99: round(quantile(c.latency, 0.99), 3),
      },
      cacheHitRatio: ratio(c.cacheHits, c.cacheHits + c.cacheMisses),
      quality: quality.get(route.version) ?? null,
      drift: report ? { status: report.status, checkedAt: report.createdAt } : null,
      vsFirst: null,
    };
  });
  const first = cards[0]!;
  for (const card of cards.slice(1)) {
    const enoughRequests = first.requests >= minRequests && card.requests >= minRequests;
    const fq = first.quality;
    const q = card.quality;
    const enoughFeedback =
      fq?.kind === 'classification' &&
      q?.kind === 'classification' &&
      fq.count >= minFeedback &&
      q.count >= minFeedback;
    card.vsFirst = {
      enoughRequests,
      errorRate: compared(
        twoProportionTest(
          first.errors.client + first.errors.server,
          first.requests,
          card.errors.client + card.errors.server,
          card.requests,
        ),
        enoughRequests,
      ),
      enoughFeedback,
      accuracy:
        fq?.kind === 'classification' && q?.kind === 'classification'
          ? compared(twoProportionTest(fq.correct, fq.count, q.correct, q.count), enoughFeedback)
          : null,
    };
  }
  return {
    model: model.name,
    alias: state.alias,
    from,
    to,
    minRequests,
    routes: cards,
    shadow: state.shadow ? shadowCard(state.shadow, tallies) : null,
  };
}

function shadowCard(
  shadow: NonNullable<AliasState['shadow']>,
  tallies: Awaited<ReturnType<typeof readShadowTallies>>,
): ShadowCard {
  const mine = tallies.filter((t) => t.version === shadow.version);
  const top = mine.find((t) => t.output === '')?.tally ?? emptyTally();
  const compared = top.requests - top.errors;
  const outputs = mine
    .filter((t) => t.output !== '')
    .sort((a, b) => a.output.localeCompare(b.output))
    .map(({ output, tally }) => ({
      name: output,
      elements: tally.elements,
      equalRate: ratio(tally.equalElements, tally.elements),
      absDiff: { mean: ratio(tally.absDiffSum, tally.elements), max: tally.absDiffMax },
      relDiff: { mean: ratio(tally.relDiffSum, tally.elements), max: tally.relDiffMax },
    }));
  return {
    version: shadow.version,
    percent: shadow.percent,
    requests: top.requests,
    errors: top.errors,
    errorRate: ratio(top.errors, top.requests),
    rows: top.rows,
    // Classifiers are compared by label (no per-output rows); other models output by output.
    agreementRate: outputs.length === 0 ? ratio(top.agreeRows, top.rows) : null,
    probabilityDiff:
      outputs.length === 0 && compared > 0 ? { mean: ratio(top.probDiffSum, compared), max: top.probDiffMax } : null,
    outputs,
    latencyMs: {
      primaryMean: round(ratio(top.primaryMsSum, top.requests), 3),
      shadowMean: round(ratio(top.shadowMsSum, top.requests), 3),
    },
  };
}
