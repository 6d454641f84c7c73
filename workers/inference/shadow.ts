import type { Config } from '../core/config';
import { withDeadline } from '../core/deadline';
import type { Signature } from '../core/signature';
import { instancesToTensors, outputsArePerRow, outputsToPredictions } from './instances';
import { encodeOutputs, runModel, type ModelRunDeps } from './model-runs';
import type { ServedVersion } from './served-versions';
import type { NamedTensors, ResponseTensor } from './types';
import { selectOutputs, validateInputs } from './validate-inputs';

/*
 * Shadow traffic: after the caller has its answer, the alias's shadow version runs on the same
 * inputs and its outputs are compared with the answer's. Nothing of it reaches the caller: it
 * starts only once the response is on its way (a later turn of the event loop, inside
 * waitUntil), and its failures, hangs included (SHADOW_TIMEOUT_MS), are counted, never raised.
 */

/** Element-wise differences of one output (|a − b|, and |a − b| / max(|a|, |b|)). */
export interface OutputDifference {
  name: string;
  elements: number;
  /** Elements exactly equal (for non-numeric outputs, the only comparison made). */
  equal: number;
  absSum: number;
  absMax: number;
  relSum: number;
  relMax: number;
}

export interface ShadowComparison {
  rows: number;
  /** Classifiers: rows whose labels agree, and the largest probability difference of any row. */
  labels?: { agree: number; maxProbabilityDiff: number };
  /** Other models: every output both versions gave. */
  outputs: OutputDifference[];
}

export interface ShadowReport {
  alias: string;
  /** The version that answered the caller, and the shadow. */
  primary: ServedVersion;
  shadow: ServedVersion;
  primaryMs: number;
  shadowMs: number;
  comparison?: ShadowComparison;
  error?: unknown;
}

export interface ShadowDeps extends ModelRunDeps {
  config: Config;
  /** Where the comparison goes (monitoring). */
  observer: { shadowed(report: ShadowReport): void };
}

/** What the shadow needs of the answered request. */
export interface Mirrored {
  alias: string;
  primary: ServedVersion;
  /** The inputs as the caller sent them, and as the primary decoded them. */
  inputs:
    | { kind: 'tensors'; outputs?: { name: string }[]; raw: Parameters<typeof validateInputs>[1] }
    | { kind: 'records'; records: unknown[] };
  decoded: NamedTensors;
  rows: number;
  outputsJson: string;
  primaryMs: number;
}

/** Runs the shadow once the response is on its way; never throws, never delays the caller. */
export function mirrorAfterResponse(deps: ShadowDeps, shadow: ServedVersion, request: Mirrored): void {
  const afterResponse = new Promise((resolve) => setTimeout(resolve, 0));
  deps.defer(afterResponse.then(() => runShadow(deps, shadow, request)));
}

export async function runShadow(deps: ShadowDeps, shadow: ServedVersion, request: Mirrored): Promise<void> {
  const started = performance.now();
  const report = { alias: request.alias, primary: request.primary, shadow, primaryMs: request.primaryMs };
  try {
    const comparison = await withDeadline(
      compute(deps, shadow, request),
      deps.config.SHADOW_TIMEOUT_MS,
      `shadow version ${shadow.version}`,
    );
    deps.observer.shadowed({ ...report, shadowMs: performance.now() - started, comparison });
  } catch (error) {
    deps.observer.shadowed({ ...report, shadowMs: performance.now() - started, error });
  }
}

const sameInputs = (a: Signature, b: Signature) => a === b || JSON.stringify(a.inputs) === JSON.stringify(b.inputs);

async function compute(deps: ShadowDeps, shadow: ServedVersion, request: Mirrored): Promise<ShadowComparison> {
  const { inputs } = request;
  let tensors: NamedTensors;
  let names: string[];
  if (inputs.kind === 'tensors') {
    tensors = sameInputs(request.primary.signature, shadow.signature)
      ? request.decoded
      : validateInputs(shadow.signature, inputs.raw);
    names = selectOutputs(shadow.signature, inputs.outputs);
  } else {
    tensors = instancesToTensors(shadow, inputs.records);
    names = selectOutputs(shadow.signature, undefined);
  }
  const results = await runModel(deps, shadow, tensors, names);
  const primary = JSON.parse(request.outputsJson) as ResponseTensor[];
  return compareOutputs(request.primary, primary, shadow, encodeOutputs(results, names), request.rows);
}

/** Label agreement and probability differences for classifiers; per-output differences otherwise. */
export function compareOutputs(
  primaryServed: ServedVersion,
  primary: ResponseTensor[],
  shadowServed: ServedVersion,
  shadow: ResponseTensor[],
  rows: number,
): ShadowComparison {
  const labelled = classified(primaryServed, primary, rows);
  const shadowLabelled = labelled && classified(shadowServed, shadow, rows);
  if (labelled && shadowLabelled) {
    let agree = 0;
    let maxProbabilityDiff = 0;
    labelled.forEach((row, i) => {
      const other = shadowLabelled[i]!;
      if (row.label === other.label) agree += 1;
      for (const label of new Set([...Object.keys(row.probabilities), ...Object.keys(other.probabilities)])) {
        const diff = Math.abs((row.probabilities[label] ?? 0) - (other.probabilities[label] ?? 0));
        if (diff > maxProbabilityDiff) maxProbabilityDiff = diff;
      }
    });
    return { rows, labels: { agree, maxProbabilityDiff }, outputs: [] };
  }
  const byName = new Map(shadow.map((o) => [o.name, o]));
  const outputs: OutputDifference[] = [];
  for (const output of primary) {
    const other = byName.get(output.name);
    if (other) outputs.push(difference(output, other));
  }
  if (outputs.length === 0) {
    throw new Error(`shadow version ${shadowServed.version} gave none of the outputs the answer has`);
  }
  return { rows, outputs };
}

interface Labelled {
  label: unknown;
  probabilities: Record<string, number>;
}

function classified(served: ServedVersion, outputs: ResponseTensor[], rows: number): Labelled[] | undefined {
  if (served.task !== 'classification' || !served.classLabels || !outputsArePerRow(outputs, rows)) return undefined;
  const predictions = outputsToPredictions(served, outputs, rows) as Partial<Labelled>[];
  if (!predictions.every((p) => typeof p === 'object' && p !== null && 'label' in p)) return undefined;
  return predictions.map((p) => ({ label: p.label, probabilities: p.probabilities ?? {} }));
}

/** JSON tensor data carries non-finite and big values as strings (core contract): read them back. */
const numeric = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined;

function difference(a: ResponseTensor, b: ResponseTensor): OutputDifference {
  const result: OutputDifference = { name: a.name, elements: 0, equal: 0, absSum: 0, absMax: 0, relSum: 0, relMax: 0 };
  const n = Math.max(a.data.length, b.data.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.data[i];
    const y = b.data[i];
    result.elements += 1;
    if (x === y) {
      result.equal += 1;
      continue;
    }
    const nx = numeric(x);
    const ny = numeric(y);
    if (nx === undefined || ny === undefined || !Number.isFinite(nx - ny)) continue;
    const abs = Math.abs(nx - ny);
    const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(nx), Math.abs(ny));
    if (abs === 0) result.equal += 1;
    result.absSum += abs;
    result.relSum += rel;
    if (abs > result.absMax) result.absMax = abs;
    if (rel > result.relMax) result.relMax = rel;
  }
  return result;
}
