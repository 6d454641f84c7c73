import type { Datatype } from '../../core/tensor';
import type { FeatureBaseline } from '../../storage/schema';
import type { FeatureColumn, FeatureValue } from './features';

/*
 * A baseline's bins. Numeric features get up to 10 bins at the baseline's deciles (the usual PSI
 * binning, which its thresholds assume), so each
 * holds about as many baseline rows; categorical ones (strings, booleans, integers with few
 * distinct values) one bin per frequent category and one for all the rest.
 */
export const NUMERIC_BINS = 10;
export const MAX_CATEGORIES = 20;

const INTEGER_TYPES = new Set<Datatype>(['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'UINT64', 'INT64']);

function isCategorical(datatype: Datatype, values: FeatureValue[]): boolean {
  if (datatype === 'BYTES' || datatype === 'BOOL') return true;
  return INTEGER_TYPES.has(datatype) && new Set(values).size <= MAX_CATEGORIES;
}

function quantileEdges(values: number[]): number[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < NUMERIC_BINS; k++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / NUMERIC_BINS))];
    if (edge !== undefined && edge !== edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

export function binOf(feature: Omit<FeatureBaseline, 'counts'>, value: FeatureValue): number | undefined {
  if (feature.kind === 'categorical') {
    const at = feature.categories!.indexOf(String(value));
    return at === -1 ? feature.categories!.length : at;
  }
  if (typeof value !== 'number' || Number.isNaN(value)) return undefined;
  const edges = feature.edges!;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const binCount = (feature: Omit<FeatureBaseline, 'counts'>) =>
  feature.kind === 'categorical' ? feature.categories!.length + 1 : feature.edges!.length + 1;

/** The bins and baseline counts of every feature, from the baseline's rows. */
export function buildBaseline(
  columns: FeatureColumn[],
  datatypes: Record<string, Datatype>,
  rows: FeatureValue[][],
): FeatureBaseline[] {
  return columns.map((column, j) => {
    const values = rows.map((r) => r[j]!);
    let feature: Omit<FeatureBaseline, 'counts'>;
    if (isCategorical(datatypes[column.input]!, values)) {
      const frequency = new Map<string, number>();
      for (const v of values) frequency.set(String(v), (frequency.get(String(v)) ?? 0) + 1);
      const categories = [...frequency.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, MAX_CATEGORIES)
        .map(([category]) => category);
      feature = { name: column.name, kind: 'categorical', categories };
    } else {
      feature = { name: column.name, kind: 'numeric', edges: quantileEdges(values as number[]) };
    }
    const counts = new Array<number>(binCount(feature)).fill(0);
    for (const v of values) {
      const bin = binOf(feature, v);
      if (bin !== undefined) counts[bin]! += 1;
    }
    return { ...feature, counts };
  });
}
