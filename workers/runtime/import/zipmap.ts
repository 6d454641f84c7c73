import type { Rewrite } from '../../core/signature';
import {
  attribute,
  defaultOpset,
  ElemType,
  int64Initializer,
  intsOf,
  ML_DOMAIN,
  newNode,
  stringsOf,
  tensorType,
  type ModelProto,
  type Names,
  type NodeProto,
} from './onnx-graph';

/*
 * ZipMap turns a [batch, classes] tensor of probabilities into a sequence of maps, one per
 * row, keyed by class label: a value onnxruntime-web cannot read. A ZipMap that ends the graph
 * is replaced by a Reshape of its input to [-1, classes] (a 1-D input is one row, as ZipMap
 * reads it): the output keeps its name and becomes FP32 [batch, classes], columns in the order
 * of the ZipMap's class labels, which is how each map's entries are defined.
 */

const isZipMap = (node: NodeProto) => node.opType === 'ZipMap' && node.domain === ML_DOMAIN;

/** The batch dimension to declare: the first input's, which is the classifier's rows. */
function batchDim(model: ModelProto): number | string {
  const first = model.graph!.input[0]?.type?.value;
  const dim = first?.case === 'tensorType' ? first.value.shape?.dim[0]?.value : undefined;
  if (dim?.case === 'dimValue') return Number(dim.value);
  if (dim?.case === 'dimParam' && dim.value) return dim.value;
  return 'batch';
}

/**
 * A graph input the ZipMap reads directly, declared without a shape: onnxruntime reports it as
 * a scalar, so it is given the shape ZipMap reads, [batch, classes].
 */
function declareShape(model: ModelProto, name: string, dims: (number | string)[]): void {
  const input = model.graph!.input.find((i) => i.name === name);
  const type = input?.type?.value;
  if (input && type?.case === 'tensorType' && !type.value.shape) input.type = tensorType(type.value.elemType, dims);
}

export function rewriteZipMaps(model: ModelProto, names: Names): Rewrite[] {
  const graph = model.graph!;
  const read = new Set(graph.node.flatMap((n) => n.input));
  const rewrites: Rewrite[] = [];
  graph.node.forEach((node, at) => {
    if (!isZipMap(node)) return;
    const [input, output] = [node.input[0], node.output[0]];
    const graphOutput = graph.output.find((o) => o.name === output);
    // A ZipMap whose maps other nodes read stays: those nodes need the maps.
    if (!input || !output || !graphOutput || read.has(output)) return;
    const ints = attribute(node, 'classlabels_int64s');
    const labels = ints && ints.ints.length > 0 ? intsOf(ints) : stringsOf(attribute(node, 'classlabels_strings'));
    if (labels.length === 0) return;
    const name = names.fresh(`${output}/modelflare_zipmap`);
    const shape = [-1, labels.length];
    let reshape: NodeProto;
    if (defaultOpset(model) >= 5) {
      const shapeName = names.fresh(`${output}/modelflare_shape`);
      int64Initializer(graph, shapeName, shape);
      reshape = newNode('Reshape', [input, shapeName], [output], name);
    } else {
      // Reshape-1 took the shape as an attribute.
      reshape = newNode('Reshape', [input], [output], name, { shape });
    }
    graph.node[at] = reshape;
    const batch = batchDim(model);
    graphOutput.type = tensorType(ElemType.FLOAT, [batch, labels.length]);
    declareShape(model, input, [batch, labels.length]);
    rewrites.push({ kind: 'zipmap', node: node.name || `ZipMap:${output}`, output, labels });
  });
  return rewrites;
}
