/** Deterministic FP32 weights of a K x N matrix (row-major). */
export declare function largeModelWeights(k: number, n: number): Float32Array;
/** A MatMul + Tanh model of about `bytes`: features [batch, inputs] -> scores [batch, outputs]. */
export declare function buildLargeModel(
  bytes: number,
  inputs?: number,
  head?: number,
): { bytes: Uint8Array; inputs: number; outputs: number };
