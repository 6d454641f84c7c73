/** A tensor value's name, datatype and shape (numbers fixed, strings symbolic). */
export declare function valueInfo(name: string, datatype: string, shape: (number | string)[]): unknown;
/** A graph node; `attrs` values are numbers, strings or arrays of them. */
export declare function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs?: Record<string, unknown>,
  domain?: string,
): unknown;
/** The model's protobuf bytes. */
export declare function model(options: {
  nodes: unknown[];
  inputs: unknown[];
  outputs: unknown[];
  initializers?: unknown[];
  opset?: number;
  extraOpsets?: unknown[];
  name?: string;
  doc?: string;
}): Uint8Array;
/** The model with more graph outputs (name: datatype). */
export declare function withOutputs(bytes: Uint8Array, outputs: Record<string, string>): Uint8Array;
export declare const ElemType: Record<string, number>;
export declare function tensor(name: string, datatype: string, dims: number[], values: unknown[]): unknown;
export declare function mapValueInfo(name: string, keyDatatype: string, valueDatatype: string): unknown;
export declare function mapSequenceValueInfo(name: string, keyDatatype: string, valueDatatype: string): unknown;
