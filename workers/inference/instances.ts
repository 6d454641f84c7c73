import { invalidInput } from '../core/errors';
import type { TensorSpec } from '../core/signature';
import { DATATYPE_INFO, type Tensor } from '../core/tensor';
import type { ServedVersion } from './served-versions';
import { allocate, decodeInto } from './tensor-decode';
import type { NamedTensors, ResponseTensor } from './types';

/*
 * The friendly `instances` API: one JSON record per row, mapped onto the model's batch
 * dimension. A record is an object keyed by feature name (for a model with one [batch,
 * features] input and feature names), an object keyed by input name, or an array in signature
 * order. Predictions come back one per instance; classifiers with class labels answer with the
 * label and the class probabilities.
 */

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The nested shape of one instance's value (scalars are rank 0). */
function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let level = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/** `missing`: what an absent feature counts as, or undefined when every feature is required. */
function featureRow(
  instance: Record<string, unknown>,
  featureNames: string[],
  who: string,
  missing: unknown = undefined,
): unknown[] {
  const unknown = Object.keys(instance).filter((k) => !featureNames.includes(k));
  if (unknown.length > 0) {
    throw invalidInput(
      `${who} has unknown feature${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; the model's features are ${featureNames.join(', ')}`,
    );
  }
  return featureNames.map((name) => {
    if (Object.hasOwn(instance, name)) return instance[name];
    if (missing === undefined) throw invalidInput(`${who} lacks feature '${name}'`);
    return missing;
  });
}

/** A DictVectorizer leaves a key the map lacks at 0 (an empty string for text values). */
const absentValue = (served: ServedVersion, spec: TensorSpec) =>
  served.sparseInput === spec.name ? (spec.datatype === 'BYTES' ? '' : 0) : undefined;

/** Each instance's value for each input, in signature order. */
function valuesPerInput(served: ServedVersion, instances: unknown[], name: (i: number) => string): unknown[][] {
  const inputs = served.signature.inputs;
  const single = inputs.length === 1 ? inputs[0]! : undefined;
  const features = single && single.shape.length === 2 ? served.featureNames : null;
  const columns: unknown[][] = inputs.map(() => []);
  instances.forEach((instance, i) => {
    const who = name(i);
    if (single) {
      if (!isRecord(instance)) columns[0]!.push(instance);
      else if (Object.keys(instance).length === 1 && Object.hasOwn(instance, single.name))
        columns[0]!.push(instance[single.name]);
      else if (features) columns[0]!.push(featureRow(instance, features, who, absentValue(served, single)));
      else {
        throw invalidInput(
          `${who} is an object but the model has no feature names; send an array, or {"${single.name}": value}`,
        );
      }
      return;
    }
    if (Array.isArray(instance)) {
      if (instance.length !== inputs.length) {
        throw invalidInput(
          `${who} has ${instance.length} values but the model has ${inputs.length} inputs (${inputs.map((s) => s.name).join(', ')})`,
        );
      }
      instance.forEach((v, k) => columns[k]!.push(v));
    } else if (isRecord(instance)) {
      const unknown = Object.keys(instance).filter((k) => !inputs.some((s) => s.name === k));
      if (unknown.length > 0) throw invalidInput(`${who} has unknown input '${unknown[0]}'`);
      inputs.forEach((spec, k) => {
        if (!Object.hasOwn(instance, spec.name)) throw invalidInput(`${who} lacks input '${spec.name}'`);
        columns[k]!.push(instance[spec.name]);
      });
    } else {
      throw invalidInput(`${who} must be an object keyed by input name or an array in signature order`);
    }
  });
  return columns;
}

/** One input's batch: each instance's value decoded straight into its row of the tensor. */
function batchTensor(spec: TensorSpec, values: unknown[], name: (i: number) => string): Tensor {
  const n = values.length;
  if (spec.shape.length === 0) throw invalidInput(`input '${spec.name}' is a scalar and has no batch dimension`);
  // A fixed batch of 1 is run row by row (model-runs.ts).
  if (spec.shape[0] !== -1 && spec.shape[0] !== n && spec.shape[0] !== 1) {
    throw invalidInput(
      `input '${spec.name}' has a fixed batch dimension of ${spec.shape[0]}; send exactly ${spec.shape[0]} instance${spec.shape[0] === 1 ? '' : 's'}`,
    );
  }
  const rowShape = spec.shape.slice(1).map((d, axis) => (d === -1 ? (shapeOf(values[0])[axis] ?? 0) : d));
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const data = allocate(spec.datatype, n * rowSize);
  values.forEach((value, i) => {
    const where = `${name(i)}, input '${spec.name}'`;
    if (rowShape.length === 0) {
      if (Array.isArray(value)) throw invalidInput(`${where}: expected a single value`);
      decodeInto(data, i, [value], [1], spec.datatype, where, 1);
      return;
    }
    const row = Array.isArray(value) ? value : [value];
    if (!row.some(Array.isArray) && row.length !== rowSize) {
      throw invalidInput(
        `${where}: has ${row.length} values but the model expects ${rowSize} ([${rowShape.join(', ')}])`,
      );
    }
    decodeInto(data, i * rowSize, row, rowShape, spec.datatype, where, rowSize);
  });
  return { datatype: spec.datatype, shape: [n, ...rowShape], data };
}

/**
 * The model's input tensors for JSON records, checked and decoded in one pass. `name` says how
 * messages refer to the i-th record ("instance 3", or "the row" in a batch job).
 */
export function instancesToTensors(
  served: ServedVersion,
  instances: unknown[],
  name: (i: number) => string = (i) => `instance ${i}`,
): NamedTensors {
  const columns = valuesPerInput(served, instances, name);
  const tensors: NamedTensors = {};
  served.signature.inputs.forEach((spec, k) => {
    tensors[spec.name] = batchTensor(spec, columns[k]!, name);
  });
  return tensors;
}

/** Instance i's part of an output batched on its first dimension, nested to its row shape. */
function rowOf(output: ResponseTensor, i: number): unknown {
  const rowShape = output.shape.slice(1);
  const size = rowShape.reduce((a, b) => a * b, 1);
  const flat = output.data.slice(i * size, (i + 1) * size);
  if (rowShape.length === 0 || (rowShape.length === 1 && rowShape[0] === 1)) return flat[0];
  const nest = (values: unknown[], dims: number[]): unknown[] => {
    if (dims.length === 1) return values;
    const step = values.length / dims[0]!;
    return Array.from({ length: dims[0]! }, (_, j) => nest(values.slice(j * step, (j + 1) * step), dims.slice(1)));
  };
  return nest(flat, rowShape);
}

function classify(served: ServedVersion, outputs: ResponseTensor[], n: number): unknown[] | undefined {
  const labels = served.classLabels;
  const { zipmap } = served;
  if ((served.task !== 'classification' && !zipmap) || !labels) return undefined;
  const perRow = (o: ResponseTensor) => o.shape.slice(1).reduce((a, b) => a * b, 1);
  const probabilities = zipmap
    ? outputs.find((o) => o.name === zipmap.output)
    : outputs.find((o) => DATATYPE_INFO[o.datatype].kind === 'float' && perRow(o) === labels.length);
  const label = outputs.find(
    (o) => ['int', 'bigint', 'bytes'].includes(DATATYPE_INFO[o.datatype].kind) && perRow(o) === 1,
  );
  if (!probabilities && !label) return undefined;
  return Array.from({ length: n }, (_, i) => {
    const probs = probabilities ? (rowOf(probabilities, i) as number[]) : undefined;
    let name: string;
    if (label) {
      name = labelName(served, labels, rowOf(label, i));
    } else {
      name = labels[probs!.indexOf(Math.max(...probs!))]!;
    }
    return probs
      ? { label: name, probabilities: Object.fromEntries(labels.map((l, k) => [l, probs[k]])) }
      : { label: name };
  });
}

/**
 * A label output's value as a class label. Next to a ZipMap it holds the class itself (as the
 * ZipMap keys it), else an index into the labels.
 */
function labelName(served: ServedVersion, labels: string[], value: unknown): string {
  if (served.zipmap) {
    const at = served.zipmap.labels.indexOf(String(value));
    return at >= 0 ? labels[at]! : String(value);
  }
  return typeof value === 'number' ? (labels[value] ?? String(value)) : String(value);
}

/** Whether every output has one row per instance (what outputsToPredictions needs). */
export const outputsArePerRow = (outputs: ResponseTensor[], n: number): boolean =>
  outputs.every((o) => o.shape[0] === n);

export function outputsToPredictions(served: ServedVersion, outputs: ResponseTensor[], n: number): unknown[] {
  for (const output of outputs) {
    if (output.shape[0] !== n) {
      throw invalidInput(
        `output '${output.name}' has shape [${output.shape.join(', ')}], not one row per instance; use the Open Inference Protocol route for this model`,
      );
    }
  }
  const classified = classify(served, outputs, n);
  if (classified) return classified;
  return Array.from({ length: n }, (_, i) =>
    outputs.length === 1 ? rowOf(outputs[0]!, i) : Object.fromEntries(outputs.map((o) => [o.name, rowOf(o, i)])),
  );
}

/** What one row predicted, as feedback is compared with: a classifier's label, else the value. */
export function predictedValue(prediction: unknown): unknown {
  if (typeof prediction === 'object' && prediction !== null && 'label' in prediction) {
    return (prediction as { label: unknown }).label;
  }
  return prediction;
}
