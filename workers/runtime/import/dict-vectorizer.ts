import { invalidModel } from '../../core/errors';
import type { Rewrite } from '../../core/signature';
import {
  attribute,
  intsOf,
  ML_DOMAIN,
  newNode,
  nodeLabel,
  stringsOf,
  tensorType,
  type ModelProto,
  type Names,
  type NodeProto,
} from './onnx-graph';

/*
 * A map input (a scikit-learn DictVectorizer pipeline, exported with a map(key, value) input)
 * cannot be fed to onnxruntime-web. DictVectorizer only places each value at its key's index
 * in the vocabulary, keys it does not know ignored, missing keys 0: so the input becomes that
 * tensor itself, [batch, vocabulary] of the map's value type, and each DictVectorizer reading
 * it an Identity. The vocabulary becomes the version's feature names.
 */

const isDictVectorizer = (node: NodeProto) => node.opType === 'DictVectorizer' && node.domain === ML_DOMAIN;

function vocabularyOf(node: NodeProto): string[] {
  const strings = stringsOf(attribute(node, 'string_vocabulary'));
  return strings.length > 0 ? strings : intsOf(attribute(node, 'int64_vocabulary'));
}

/**
 * The map was one record, so an output declared with a first dimension of 1 held that record's
 * answer: it now holds one row per record of the batch.
 */
function outputsPerRecord(model: ModelProto, batch: string): void {
  for (const output of model.graph!.output) {
    const type = output.type?.value;
    if (type?.case !== 'tensorType') continue;
    const dims = type.value.shape?.dim;
    const first = dims?.[0]?.value;
    if (!dims || first?.case !== 'dimValue' || first.value !== 1n) continue;
    const rest = dims
      .slice(1)
      .map((d, i) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.value || `${batch}_${i + 1}`));
    output.type = tensorType(type.value.elemType, [batch, ...rest]);
  }
}

export function rewriteDictVectorizers(model: ModelProto, names: Names): Rewrite[] {
  const graph = model.graph!;
  const rewrites: Rewrite[] = [];
  for (const input of graph.input) {
    const type = input.type?.value;
    if (type?.case !== 'mapType') continue;
    const readers = graph.node.filter((n) => n.input.includes(input.name));
    const other = readers.find((n) => !isDictVectorizer(n));
    if (other) {
      throw invalidModel(
        `this model cannot be served: input '${input.name}' is a map, read by node ${nodeLabel(other)} (${other.opType}); only a map read by DictVectorizer can be turned into a tensor input`,
      );
    }
    if (readers.length === 0) continue;
    const vocabulary = vocabularyOf(readers[0]!);
    const differs = readers.find((n) => vocabularyOf(n).join('\0') !== vocabulary.join('\0'));
    if (differs || vocabulary.length === 0) {
      throw invalidModel(
        `this model cannot be served: the DictVectorizer node ${nodeLabel(differs ?? readers[0]!)} reading input '${input.name}' has ${differs ? 'another vocabulary than the others' : 'no vocabulary'}`,
      );
    }
    const value = type.value.valueType?.value;
    if (value?.case !== 'tensorType') {
      throw invalidModel(`this model cannot be served: input '${input.name}' is a map whose values are not tensors`);
    }
    const batch = names.fresh('batch');
    input.type = tensorType(value.value.elemType, [batch, vocabulary.length]);
    outputsPerRecord(model, batch);
    for (const reader of readers) {
      const at = graph.node.indexOf(reader);
      graph.node[at] = newNode(
        'Identity',
        [input.name],
        [reader.output[0]!],
        names.fresh(`${reader.name || 'DictVectorizer'}/modelflare`),
      );
      rewrites.push({
        kind: 'dict_vectorizer',
        node: reader.name || `DictVectorizer:${reader.output[0]}`,
        input: input.name,
        vocabulary,
      });
    }
  }
  return rewrites;
}
