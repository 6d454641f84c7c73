import type { Datatype } from './tensor';

/** One input or output of a model: -1 marks a dynamic dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Outputs onnxruntime-web cannot read (sequences, maps such as ZipMap): never returned. */
  unservedOutputs: { name: string; reason: string }[];
}

/** What the top level of the ONNX file says about itself, where it says it. */
export interface OnnxHeader {
  irVersion: number | null;
  producerName: string | null;
  producerVersion: string | null;
  opsets: { domain: string; version: number }[];
}
