import type { Rewrite } from '../../core/signature';
import {
  attribute,
  isDefaultDomain,
  newNode,
  setIntAttribute,
  type ModelProto,
  type Names,
  type NodeProto,
} from './onnx-graph';

/*
 * onnxruntime runs LSTM, GRU and RNN only sequence-first (layout = 0). A batchwise node
 * (layout = 1) is given Transposes that turn its batch-first inputs into sequence-first ones
 * and its outputs back, and runs with layout = 0: the same computation, the same shapes seen
 * from outside.
 *   X [batch, seq, input] -> [seq, batch, input]; initial_h, initial_c [batch, dirs, hidden] -> [dirs, batch, hidden]
 *   Y [seq, dirs, batch, hidden] -> [batch, seq, dirs, hidden]; Y_h, Y_c [dirs, batch, hidden] -> [batch, dirs, hidden]
 */

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const SWAP_FIRST_TWO = [1, 0, 2];
/** Input positions in batch-first layout: X, then initial_h (and initial_c for LSTM). */
const TRANSPOSED_INPUTS = [0, 5, 6];
const OUTPUT_PERMS: Record<number, number[]> = { 0: [2, 0, 1, 3], 1: SWAP_FIRST_TWO, 2: SWAP_FIRST_TWO };

const isBatchwise = (node: NodeProto) =>
  RECURRENT.has(node.opType) && isDefaultDomain(node.domain) && attribute(node, 'layout')?.i === 1n;

export function rewriteBatchwiseRnns(model: ModelProto, names: Names): Rewrite[] {
  const graph = model.graph!;
  const rewrites: Rewrite[] = [];
  const nodes: NodeProto[] = [];
  for (const node of graph.node) {
    if (!isBatchwise(node)) {
      nodes.push(node);
      continue;
    }
    const label = node.name || `${node.opType}:${node.output[0] ?? ''}`;
    for (const at of TRANSPOSED_INPUTS) {
      const name = node.input[at];
      if (!name) continue;
      const seqFirst = names.fresh(`${name}/modelflare_seq_first`);
      nodes.push(
        newNode('Transpose', [name], [seqFirst], names.fresh(`${label}/modelflare_in${at}`), { perm: SWAP_FIRST_TWO }),
      );
      node.input[at] = seqFirst;
    }
    nodes.push(node);
    node.output.forEach((name, at) => {
      const perm = OUTPUT_PERMS[at];
      if (!name || !perm) return;
      const seqFirst = names.fresh(`${name}/modelflare_seq_first`);
      node.output[at] = seqFirst;
      nodes.push(newNode('Transpose', [seqFirst], [name], names.fresh(`${label}/modelflare_out${at}`), { perm }));
    });
    setIntAttribute(node, 'layout', 0);
    rewrites.push({ kind: 'batchwise_rnn', node: label, op: node.opType });
  }
  graph.node = nodes;
  return rewrites;
}
