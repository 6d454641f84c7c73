import type { Datatype, Tensor } from '../core/tensor';

/** An input tensor as a client sends it (Open Inference Protocol), before validation. */
export interface RequestTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

export interface InferenceRequest {
  id?: string;
  inputs: RequestTensor[];
  outputs?: { name: string }[];
}

/** An output tensor ready for JSON: data flat, row-major, per the platform's JSON contract. */
export interface ResponseTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: unknown[];
}

export type NamedTensors = Record<string, Tensor>;
