import type { Signature } from '../../core/signature';
import type { NamedTensors } from '../../inference/types';

/*
 * The features drift is watched on: the columns of a model's rows. A `[batch, F]` input gives F
 * features (named by the model's feature names when it has them), a `[batch]` or `[batch, 1]`
 * input one; inputs with more dimensions (images, sequences) are not tabular and are left out.
 */
export interface FeatureColumn {
  name: string;
  input: string;
  /** Elements per row of the input, and this feature's place among them. */
  stride: number;
  offset: number;
}

export const MAX_FEATURES = 100;

export function featureColumns(signature: Signature, featureNames: string[] | null): FeatureColumn[] {
  const columns: FeatureColumn[] = [];
  for (const spec of signature.inputs) {
    const [batch, ...rest] = spec.shape;
    if (batch === undefined || rest.length > 1) continue;
    const width = rest.length === 0 ? 1 : rest[0]!;
    if (width < 1) continue;
    const named = signature.inputs.length === 1 && featureNames?.length === width;
    for (let j = 0; j < width; j++) {
      const name = width === 1 ? spec.name : named ? featureNames![j]! : `${spec.name}[${j}]`;
      columns.push({ name, input: spec.name, stride: width, offset: j });
    }
  }
  return columns.slice(0, MAX_FEATURES);
}

export type FeatureValue = number | string;

/** Row r's value of each feature, read from the validated tensors of one request. */
export function featureRows(columns: FeatureColumn[], inputs: NamedTensors, rows: number): FeatureValue[][] {
  const out: FeatureValue[][] = [];
  for (let r = 0; r < rows; r++) {
    out.push(
      columns.map((c) => {
        const v = inputs[c.input]!.data[r * c.stride + c.offset];
        return typeof v === 'string' ? v : Number(v);
      }),
    );
  }
  return out;
}
