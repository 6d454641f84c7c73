import { invalidInput } from '../core/errors';
import type { Signature, TensorSpec } from '../core/signature';
import { DATATYPE_INFO, isDatatype } from '../core/tensor';
import { decodeBinary } from './tensor-binary';
import { allocate, decodeInto } from './tensor-decode';
import type { NamedTensors, RequestedOutput, RequestTensor } from './types';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const describe = (spec: TensorSpec) => `${spec.name} (${spec.datatype} ${fmt(spec.shape)})`;

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  const where = `input '${spec.name}'`;
  if (shape.length !== spec.shape.length) {
    throw invalidInput(
      `${where} has shape ${fmt(shape)} (rank ${shape.length}) but the model expects rank ${spec.shape.length}: ${fmt(spec.shape)}`,
    );
  }
  spec.shape.forEach((expected, axis) => {
    if (expected !== -1 && shape[axis] !== expected) {
      throw invalidInput(
        `${where} has ${shape[axis]} in dimension ${axis} but the model expects ${expected} (shape ${fmt(spec.shape)}; -1 is free)`,
      );
    }
  });
}

/** A served version's signature is immutable: its lookup table is built once, not per request. */
const specTables = new WeakMap<Signature, Map<string, TensorSpec>>();

function specsByName(signature: Signature): Map<string, TensorSpec> {
  let table = specTables.get(signature);
  if (!table) {
    table = new Map(signature.inputs.map((s) => [s.name, s]));
    specTables.set(signature, table);
  }
  return table;
}

/**
 * Checks a request's inputs against the model's signature and decodes them into tensors.
 * Every message names the input and says what was expected; nothing reaches the runtime unchecked.
 */
export function validateInputs(signature: Signature, inputs: readonly RequestTensor[]): NamedTensors {
  const specs = specsByName(signature);
  const tensors: NamedTensors = {};
  for (const input of inputs) {
    const spec = specs.get(input.name);
    if (!spec) {
      throw invalidInput(
        `unknown input '${input.name}'; the model's inputs are ${signature.inputs.map(describe).join(', ')}`,
      );
    }
    if (tensors[input.name]) throw invalidInput(`input '${input.name}' is given more than once`);
    if (!isDatatype(input.datatype)) {
      throw invalidInput(`input '${input.name}' has unknown datatype '${input.datatype}'`);
    }
    if (input.datatype !== spec.datatype) {
      throw invalidInput(`input '${input.name}' has datatype ${input.datatype} but the model expects ${spec.datatype}`);
    }
    checkShape(spec, input.shape);
    const where = `input '${input.name}'`;
    if (input.binary) {
      tensors[input.name] = {
        datatype: spec.datatype,
        shape: input.shape,
        data: decodeBinary(input.binary, input.shape, spec.datatype, where),
      };
      continue;
    }
    const count = input.shape.reduce((a, b) => a * b, 1);
    const data = allocate(spec.datatype, count);
    decodeInto(data, 0, input.data, input.shape, spec.datatype, where, count);
    tensors[input.name] = { datatype: spec.datatype, shape: input.shape, data };
  }
  const missing = signature.inputs.filter((s) => !tensors[s.name]);
  if (missing.length > 0) {
    throw invalidInput(`missing input${missing.length > 1 ? 's' : ''} ${missing.map(describe).join(', ')}`);
  }
  return tensors;
}

/**
 * The outputs to compute, in the order to return them: those asked for, or all served ones. An
 * output asked for as classes must hold numbers to rank.
 */
export function selectOutputs(signature: Signature, requested: readonly RequestedOutput[] | undefined): string[] {
  if (!requested || requested.length === 0) return signature.outputs.map((o) => o.name);
  const served = new Map(signature.outputs.map((o) => [o.name, o]));
  const names: string[] = [];
  for (const { name, classification } of requested) {
    const spec = served.get(name);
    if (!spec) {
      const unserved = signature.unservedOutputs.find((u) => u.name === name);
      throw invalidInput(
        unserved
          ? `output '${name}' cannot be returned: ${unserved.reason}, which onnxruntime-web cannot read`
          : `unknown output '${name}'; the model's outputs are ${signature.outputs.map((o) => o.name).join(', ')}`,
      );
    }
    if (names.includes(name)) throw invalidInput(`output '${name}' is requested more than once`);
    const kind = DATATYPE_INFO[spec.datatype].kind;
    if (classification && (kind === 'bytes' || kind === 'bool')) {
      throw invalidInput(
        `output '${name}' is ${spec.datatype}: classification ranks numbers, so it needs a numeric output`,
      );
    }
    names.push(name);
  }
  return names;
}
