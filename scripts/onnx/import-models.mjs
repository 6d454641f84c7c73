// Models that onnxruntime-web cannot serve as they are, written as scikit-learn, LightGBM or
// PyTorch exporters write them, for the tests of the import's rewrites (workers/runtime/import):
// ZipMap over int64 and string labels, a DictVectorizer pipeline, batchwise LSTM and GRU. Each
// comes with a reference twin that onnxruntime-node can run (it reads no sequence of maps,
// takes no map input, and runs no batchwise recurrent layer either), so that a test can check
// what the platform serves against onnxruntime-node.
import { rng } from '../demo-model.mjs';
import { mapSequenceValueInfo, mapValueInfo, model, node, tensor, valueInfo, withOutputs } from './build.mjs';

const ML = [{ domain: 'ai.onnx.ml', version: 1 }];

function weights(count, seed, scale = 1) {
  const r = rng(seed);
  return Array.from({ length: count }, () => Math.round(r.normal() * scale * 1000) / 1000 + 0.0005);
}

/** A linear classifier with softmax scores, ending in a ZipMap keyed by its classes. */
function zipmapClassifier({ features, labels, seed }) {
  const key = typeof labels[0] === 'number' ? 'INT64' : 'BYTES';
  const classes = key === 'INT64' ? { classlabels_ints: labels } : { classlabels_strings: labels };
  const zipmapClasses = key === 'INT64' ? { classlabels_int64s: labels } : { classlabels_strings: labels };
  const original = model({
    inputs: [valueInfo('features', 'FP32', ['N', features])],
    outputs: [valueInfo('label', key, ['N']), mapSequenceValueInfo('probabilities', key, 'FP32')],
    nodes: [
      node(
        'LinearClassifier',
        ['features'],
        ['label', 'scores'],
        {
          ...classes,
          coefficients: { floats: weights(labels.length * features, seed) },
          intercepts: { floats: weights(labels.length, seed + 1, 0.5) },
          post_transform: 'SOFTMAX',
        },
        'ai.onnx.ml',
      ),
      node('ZipMap', ['scores'], ['probabilities'], zipmapClasses, 'ai.onnx.ml'),
    ],
    extraOpsets: ML,
  });
  return { original, reference: withOutputs(original, { scores: 'FP32' }) };
}

/**
 * A DictVectorizer pipeline: a record (map of feature name to value) vectorized in the
 * vocabulary's order, scaled, then classified, with ZipMap probabilities. The reference takes
 * the vectorized tensor itself (what the DictVectorizer would have made of the record).
 */
function dictVectorizerPipeline() {
  const vocabulary = ['height', 'weight', 'age', 'income'];
  const labels = ['no', 'yes', 'maybe'];
  const rest = [
    node(
      'Scaler',
      ['dense'],
      ['scaled'],
      { offset: { floats: [170, 70, 40, 50000] }, scale: { floats: [0.1, 0.05, 0.04, 0.00002] } },
      'ai.onnx.ml',
    ),
    node(
      'LinearClassifier',
      ['scaled'],
      ['label', 'scores'],
      {
        classlabels_strings: labels,
        coefficients: { floats: weights(labels.length * vocabulary.length, 31) },
        intercepts: { floats: weights(labels.length, 37, 0.5) },
        post_transform: 'SOFTMAX',
      },
      'ai.onnx.ml',
    ),
    node('ZipMap', ['scores'], ['probabilities'], { classlabels_strings: labels }, 'ai.onnx.ml'),
  ];
  const outputs = [valueInfo('label', 'BYTES', ['N']), mapSequenceValueInfo('probabilities', 'BYTES', 'FP32')];
  const original = model({
    inputs: [mapValueInfo('record', 'BYTES', 'FP32')],
    outputs,
    nodes: [node('DictVectorizer', ['record'], ['dense'], { string_vocabulary: vocabulary }, 'ai.onnx.ml'), ...rest],
    extraOpsets: ML,
  });
  const reference = model({
    inputs: [valueInfo('dense', 'FP32', ['N', vocabulary.length])],
    outputs: [outputs[0], valueInfo('scores', 'FP32', ['N', labels.length])],
    nodes: rest.slice(0, 2),
    extraOpsets: ML,
  });
  return { original, reference, vocabulary, labels };
}

/**
 * A recurrent layer as PyTorch's `batch_first=True` exports it (layout = 1: inputs and outputs
 * batch first). The reference is the same layer sequence-first (layout = 0); the test
 * transposes data to and from it.
 */
function batchwiseRecurrent({ op, direction, withInitialState, seed }) {
  const gates = { LSTM: 4, GRU: 3 }[op];
  const [input, hidden, seq] = [2, 3, 4];
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const initializers = [
    tensor('W', 'FP32', [dirs, gates * hidden, input], weights(dirs * gates * hidden * input, seed, 0.5)),
    tensor('R', 'FP32', [dirs, gates * hidden, hidden], weights(dirs * gates * hidden * hidden, seed + 1, 0.5)),
    tensor('B', 'FP32', [dirs, 2 * gates * hidden], weights(dirs * 2 * gates * hidden, seed + 2, 0.1)),
  ];
  const states = withInitialState ? (op === 'LSTM' ? ['initial_h', 'initial_c'] : ['initial_h']) : [];
  const outputs = op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const attrs = { hidden_size: hidden, direction, ...(op === 'GRU' ? { linear_before_reset: 1 } : {}) };
  const build = (layout) => {
    const batchFirst = layout === 1;
    return model({
      inputs: [
        valueInfo('X', 'FP32', batchFirst ? ['N', seq, input] : [seq, 'N', input]),
        ...states.map((s) => valueInfo(s, 'FP32', batchFirst ? ['N', dirs, hidden] : [dirs, 'N', hidden])),
      ],
      outputs: outputs.map((o) =>
        valueInfo(
          o,
          'FP32',
          o === 'Y'
            ? batchFirst
              ? ['N', seq, dirs, hidden]
              : [seq, dirs, 'N', hidden]
            : batchFirst
              ? ['N', dirs, hidden]
              : [dirs, 'N', hidden],
        ),
      ),
      initializers,
      nodes: [node(op, ['X', 'W', 'R', 'B', '', ...states], outputs, { ...attrs, layout })],
    });
  };
  return { original: build(1), reference: build(0), shape: { input, hidden, seq, dirs } };
}

/** A map input read by something other than a DictVectorizer: the import cannot serve it. */
function castMapModel() {
  return model({
    inputs: [mapValueInfo('m', 'INT64', 'FP32')],
    outputs: [valueInfo('dense', 'FP32', [1, 3])],
    nodes: [node('CastMap', ['m'], ['dense'], { cast_to: 'TO_FLOAT', map_form: 'DENSE', max_map: 3 }, 'ai.onnx.ml')],
    extraOpsets: ML,
  });
}

/** A tensor output beside a sequence of tensors: nothing to rewrite, served with the tensor. */
function sequenceOutputModel() {
  return model({
    inputs: [valueInfo('x', 'FP32', ['N', 2])],
    outputs: [
      valueInfo('y', 'FP32', ['N', 2]),
      { name: 'parts', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } },
    ],
    nodes: [node('Relu', ['x'], ['y']), node('SequenceConstruct', ['x', 'y'], ['parts'])],
  });
}

/** Each model with its reference twin and what a test needs to know to use them. */
export function buildImportModels() {
  return {
    zipmap_int64: { ...zipmapClassifier({ features: 3, labels: [3, 7, 11], seed: 5 }), labels: ['3', '7', '11'] },
    zipmap_string: {
      ...zipmapClassifier({ features: 2, labels: ['cat', 'dog', 'bird', 'fish'], seed: 17 }),
      labels: ['cat', 'dog', 'bird', 'fish'],
    },
    dictvectorizer: dictVectorizerPipeline(),
    lstm_batchwise: batchwiseRecurrent({ op: 'LSTM', direction: 'bidirectional', withInitialState: true, seed: 41 }),
    gru_batchwise: batchwiseRecurrent({ op: 'GRU', direction: 'forward', withInitialState: false, seed: 53 }),
  };
}

/** The originals by name, and a model the import must refuse, for the test suite's fixtures. */
export function buildImportTestModels() {
  const models = Object.fromEntries(Object.entries(buildImportModels()).map(([name, m]) => [name, m.original]));
  return { ...models, castmap: castMapModel(), sequence_output: sequenceOutputModel() };
}
