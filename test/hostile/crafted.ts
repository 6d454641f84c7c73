import type { Hostile } from './mutations';
import { ELEM, graph, model, node, pb, tensor, valueInfo, type Dim } from './onnx-writer';

/*
 * Well-formed protobufs that say hostile things: dimensions no memory can hold, graphs deep or
 * long enough to stall a loader, operators and opsets that do not exist, weights that live in a
 * file on the server.
 */

const X = valueInfo('x', ELEM.FP32, [1, 2]);
const Y = valueInfo('y', ELEM.FP32, [1, 2]);
const int64s = (values: bigint[]) => new Uint8Array(new BigInt64Array(values).buffer);

/** y = x + w, with `w` an initializer described by `dims` and whatever data is given. */
const addInitializer = (w: Parameters<typeof tensor>[0]) =>
  model({ nodes: [node('Add', ['x', 'w'], ['y'])], inputs: [X], outputs: [Y], initializers: [tensor(w)] });

const reluWithInput = (shape: Dim[]) =>
  model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [valueInfo('x', ELEM.FP32, shape)], outputs: [Y] });

/** ConstantOfShape of a constant shape: onnxruntime folds it while loading, allocating it all. */
const constantOfShape = (shape: bigint[]) =>
  model({
    nodes: [
      node('ConstantOfShape', ['s'], ['big']),
      node('ReduceSum', ['big'], ['r'], [{ name: 'keepdims', i: 0 }]),
      node('Add', ['x', 'r'], ['y']),
    ],
    inputs: [X],
    outputs: [Y],
    initializers: [tensor({ name: 's', elemType: ELEM.INT64, dims: [shape.length], raw: int64s(shape) })],
  });

const P31 = 2n ** 31n;
const P62 = 2n ** 62n;

export function hugeDimensions(): Hostile[] {
  const files: [string, Uint8Array][] = [
    ['input dim 2^31', reluWithInput([P31, 2])],
    ['input dim 2^62', reluWithInput([P62, 2])],
    ['input dim -5', reluWithInput([-5, 2])],
    ['input dim -2^63', reluWithInput([-(2n ** 63n), 2])],
    ['input of 64 dims of 2^31', reluWithInput(Array.from({ length: 64 }, () => P31))],
    ['initializer dims [2^62], no data', addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [P62] })],
    ['initializer dims [2^31, 2^31], no data', addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [P31, P31] })],
    [
      'initializer dims [2^31], 8 raw bytes',
      addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [P31], raw: new Uint8Array(8) }),
    ],
    ['initializer dims [-1], 2 floats', addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [-1], floats: [1, 2] })],
    [
      'initializer dims [2^33, 2^31, 2] (product wraps to 2 in 64 bits)',
      addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [2n ** 33n, P31, 2], floats: [1, 2] }),
    ],
    [
      'initializer dims [2^32 + 2] (wraps to 2 in 32 bits)',
      addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [2 ** 32 + 2], floats: [1, 2] }),
    ],
    [
      'string initializer dims [2^40], no strings',
      addInitializer({ name: 'w', elemType: ELEM.BYTES, dims: [2n ** 40n] }),
    ],
    ['ConstantOfShape [1e7] folded at load (40 MB)', constantOfShape([10_000_000n])],
    ['ConstantOfShape [1e8] folded at load (400 MB)', constantOfShape([100_000_000n])],
    ['ConstantOfShape [1.2e9] (4.8 GB)', constantOfShape([1_200_000_000n])],
    ['ConstantOfShape [2^31, 2^31]', constantOfShape([P31, P31])],
    [
      'Expand to [1e8, 2] from a constant shape',
      model({
        nodes: [node('Expand', ['x', 's'], ['big']), node('ReduceSum', ['big'], ['r'], [{ name: 'keepdims', i: 0 }])],
        inputs: [X],
        outputs: [valueInfo('r', ELEM.FP32, [])],
        initializers: [tensor({ name: 's', elemType: ELEM.INT64, dims: [2], raw: int64s([100_000_000n, 2n]) })],
      }),
    ],
    [
      'Range(0, 1e9, 1) folded at load',
      model({
        nodes: [
          node('Range', ['a', 'b', 'c'], ['big']),
          node('ReduceSum', ['big'], ['y'], [{ name: 'keepdims', i: 0 }]),
        ],
        inputs: [X],
        outputs: [valueInfo('y', ELEM.FP32, [])],
        initializers: [
          tensor({ name: 'a', elemType: ELEM.FP32, dims: [], floats: [0] }),
          tensor({ name: 'b', elemType: ELEM.FP32, dims: [], floats: [1e9] }),
          tensor({ name: 'c', elemType: ELEM.FP32, dims: [], floats: [1] }),
        ],
      }),
    ],
  ];
  return files.map(([label, bytes]) => ({ kind: 'huge dimensions', label, bytes }));
}

/** `n` nodes in a chain, with names as short as possible so that many fit under the size limit. */
function chain(n: number, op: string): Uint8Array {
  const name = (i: number) => (i === 0 ? 'x' : i === n ? 'y' : `t${i.toString(36)}`);
  const nodes: Uint8Array[] = [];
  for (let i = 0; i < n; i++) nodes.push(pb.body(pb.str(1, name(i)), pb.str(2, name(i + 1)), pb.str(4, op)));
  return model({ nodes, inputs: [X], outputs: [Y] });
}

/** If nodes nested `depth` deep through their then-branches; each else-branch is a single Relu. */
function nestedIf(depth: number): Uint8Array {
  const leaf = (out: string) =>
    graph({ nodes: [node('Relu', ['x'], [out])], inputs: [], outputs: [valueInfo(out, ELEM.FP32, [1, 2])] });
  let inner = leaf('r0');
  for (let d = 1; d <= depth; d++) {
    const out = d === depth ? 'y' : `r${d}`;
    const ifNode = node(
      'If',
      ['c'],
      [out],
      [
        { name: 'then_branch', g: inner },
        { name: 'else_branch', g: leaf(`e${d}`) },
      ],
    );
    if (d === depth) {
      return model({
        nodes: [ifNode],
        inputs: [X],
        outputs: [Y],
        initializers: [tensor({ name: 'c', elemType: 9, dims: [], raw: Uint8Array.of(1) })],
      });
    }
    inner = graph({ nodes: [ifNode], inputs: [], outputs: [valueInfo(out, ELEM.FP32, [1, 2])] });
  }
  throw new Error('depth must be at least 1');
}

/** A value type nested `depth` sequences deep: protobuf nesting without any graph structure. */
function nestedSequenceType(depth: number): Uint8Array {
  let type = pb.msg(1, pb.int(1, ELEM.FP32)); // TypeProto.tensor_type
  for (let d = 0; d < depth; d++) type = pb.msg(4, pb.msg(1, type)); // TypeProto.sequence_type.elem_type
  const input = pb.body(pb.str(1, 'x'), pb.bytes(2, type));
  return model({ nodes: [node('Identity', ['x'], ['y'])], inputs: [input], outputs: [input.slice()] });
}

export function deepGraphs(): Hostile[] {
  const wide = Array.from({ length: 3000 }, (_, i) => node('Relu', ['x'], [`o${i}`]));
  const files: [string, Uint8Array][] = [
    ['chain of 1,000 Relu', chain(1000, 'Relu')],
    ['chain of 5,000 Relu', chain(5000, 'Relu')],
    ['chain of 10,000 Relu', chain(10000, 'Relu')],
    ['chain of 10,000 Identity', chain(10000, 'Identity')],
    ['chain of 20,000 Relu (over the size limit here)', chain(20000, 'Relu')],
    [
      '3,000 Relu side by side, one output',
      model({ nodes: [...wide, node('Relu', ['x'], ['y'])], inputs: [X], outputs: [Y] }),
    ],
    ['If nested 8 deep', nestedIf(8)],
    ['If nested 30 deep', nestedIf(30)],
    ['If nested 200 deep', nestedIf(200)],
    ['If nested 2,000 deep', nestedIf(2000)],
    ['sequence type nested 1,000 deep', nestedSequenceType(1000)],
    ['sequence type nested 20,000 deep', nestedSequenceType(20000)],
    [
      'a cycle: y = Relu(z), z = Relu(y)',
      model({ nodes: [node('Relu', ['z'], ['y']), node('Relu', ['y'], ['z'])], inputs: [X], outputs: [Y] }),
    ],
    [
      'one node with 20,000 inputs',
      model({
        nodes: [
          node(
            'Sum',
            Array.from({ length: 20000 }, () => 'x'),
            ['y'],
          ),
        ],
        inputs: [X],
        outputs: [Y],
      }),
    ],
  ];
  return files.map(([label, bytes]) => ({ kind: 'deep graph', label, bytes }));
}

export function unknownOperators(): Hostile[] {
  const relu = (opsets: { domain: string; version: number | bigint }[], domain = '', irVersion?: number | bigint) =>
    model({ nodes: [node('Relu', ['x'], ['y'], [], domain)], inputs: [X], outputs: [Y], opsets, irVersion });
  const files: [string, Uint8Array][] = [
    ['unknown op', model({ nodes: [node('FrobnicateX', ['x'], ['y'])], inputs: [X], outputs: [Y] })],
    [
      'unknown domain',
      relu(
        [
          { domain: '', version: 17 },
          { domain: 'com.evil', version: 1 },
        ],
        'com.evil',
      ),
    ],
    ['domain used but not imported', relu([{ domain: '', version: 17 }], 'com.microsoft.nchwc')],
    ['opset 1,000,000', relu([{ domain: '', version: 1_000_000 }])],
    ['opset 2^62', relu([{ domain: '', version: P62 }])],
    ['opset -1', relu([{ domain: '', version: -1 }])],
    ['opset 0', relu([{ domain: '', version: 0 }])],
    ['no opset import', relu([])],
    [
      'the same domain imported twice',
      relu([
        { domain: '', version: 17 },
        { domain: '', version: 9 },
      ]),
    ],
    ['ir_version 2^62', relu([{ domain: '', version: 17 }], '', P62)],
    ['ir_version 0', relu([{ domain: '', version: 17 }], '', 0)],
    ['ir_version -1', relu([{ domain: '', version: 17 }], '', -1)],
    ['op from a later opset (Gelu at 17)', model({ nodes: [node('Gelu', ['x'], ['y'])], inputs: [X], outputs: [Y] })],
    [
      'a function-op name with no function',
      model({
        nodes: [node('MyFunction', ['x'], ['y'], [], 'local')],
        inputs: [X],
        outputs: [Y],
        opsets: [
          { domain: '', version: 17 },
          { domain: 'local', version: 1 },
        ],
      }),
    ],
    ['graph output nothing produces', model({ nodes: [node('Relu', ['x'], ['z'])], inputs: [X], outputs: [Y] })],
    ['no outputs at all', model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [X], outputs: [] })],
  ];
  return files.map(([label, bytes]) => ({ kind: 'unknown op or opset', label, bytes }));
}

export function externalData(): Hostile[] {
  const external = (entries: Record<string, string>) =>
    addInitializer({ name: 'w', elemType: ELEM.FP32, dims: [2], external: entries });
  const files: [string, Uint8Array][] = [
    ['absolute path', external({ location: '/etc/passwd' })],
    ['absolute path with offset and length', external({ location: '/etc/passwd', offset: '0', length: '8' })],
    ['relative path', external({ location: 'weights.bin' })],
    ['parent directory', external({ location: '../../../../etc/passwd' })],
    ['proc file', external({ location: '/proc/self/environ', length: '8' })],
    ['file URL', external({ location: 'file:///etc/passwd' })],
    ['http URL', external({ location: 'http://169.254.169.254/latest/meta-data' })],
    [
      'huge offset and length',
      external({ location: 'weights.bin', offset: String(2n ** 62n), length: String(2n ** 62n) }),
    ],
    ['data_location EXTERNAL without a location', external({})],
    [
      'external and inline data at once',
      addInitializer({
        name: 'w',
        elemType: ELEM.FP32,
        dims: [2],
        floats: [1, 2],
        external: { location: '/etc/passwd' },
      }),
    ],
  ];
  return files.map(([label, bytes]) => ({ kind: 'external data', label, bytes }));
}
