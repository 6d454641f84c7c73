import type { Datatype, Tensor } from '../core/tensor';

/**
 * An input tensor as a client sends it (Open Inference Protocol), before validation: its data as
 * JSON (`data`), or as the bytes of the binary tensor data extension (`binary`).
 */
export interface RequestTensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  binary?: Uint8Array;
}

/** An output the caller asks for; `classification` asks for its top K classes (Triton's extension). */
export interface RequestedOutput {
  name: string;
  classification?: number;
}

export interface InferenceRequest {
  id?: string;
  inputs: RequestTensor[];
  outputs?: RequestedOutput[];
}

/** An output tensor ready for JSON: data flat, row-major, per the platform's JSON contract. */
export interface ResponseTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: unknown[];
}

export type NamedTensors = Record<string, Tensor>;
