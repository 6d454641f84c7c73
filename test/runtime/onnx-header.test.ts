import { describe, expect, it } from 'vitest';
import { DomainError } from '../../workers/core/errors';
import { readOnnxHeader } from '../../workers/runtime/onnx-header';
import { cleanOrtMessage } from '../../workers/runtime/onnx-session';
import { fixture } from '../helpers';

describe('readOnnxHeader', () => {
  it('reads ir_version, producer and every opset domain', () => {
    const header = readOnnxHeader(fixture('models/onnx-node.test_ai_onnx_ml_tree_ensemble_single_tree.onnx'));
    expect(header.irVersion).toBeGreaterThanOrEqual(3);
    expect(header.producerName).toBe('backend-test');
    expect(header.opsets.map((o) => o.domain)).toContain('ai.onnx.ml');
    expect(header.opsets.every((o) => o.version > 0)).toBe(true);
  });

  it("counts the main graph's nodes", () => {
    // The demo iris MLP: Gemm, Relu, Gemm, Softmax, ArgMax.
    expect(readOnnxHeader(fixture('generated/iris.onnx')).nodes).toBe(5);
    expect(readOnnxHeader(fixture('models/onnx-node.test_add.onnx')).nodes).toBe(1);
  });

  it('says the file is empty, truncated or has no graph', () => {
    const message = (bytes: Uint8Array) => {
      try {
        readOnnxHeader(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect((err as DomainError).kind).toBe('invalid_model');
        return (err as Error).message;
      }
      throw new Error('expected a failure');
    };
    expect(message(new Uint8Array(0))).toBe('the model file is empty');
    const good = fixture('models/onnx-node.test_add.onnx');
    expect(message(good.slice(0, good.length - 5))).toMatch(
      /protobuf cannot be read \(.+\); the file may be truncated/,
    );
    expect(message(good.slice(0, 40))).toMatch(/declares \d+ bytes at byte \d+ but only \d+ remain/);
    // field 1 (ir_version) alone: a valid protobuf, but no graph
    expect(message(Uint8Array.of(0x08, 0x08))).toBe('not a valid ONNX model: the file holds no graph');
    expect(message(Uint8Array.of(0x0f, 0x01))).toMatch(/unknown protobuf wire type 7/);
    expect(message(Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toMatch(
      /malformed varint/,
    );
  });
});

describe('cleanOrtMessage', () => {
  it('keeps the reason and drops build paths and C++ frames', () => {
    const raw =
      "Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: /mnt/azure/_work/1/s/onnxruntime/core/providers/cpu/rnn/lstm_base.h:54 onnxruntime::LSTMBase::LSTMBase(const OpKernelInfo &) layout_ == 0 was false. Batchwise recurrent operations (layout == 1) are not supported.";
    expect(cleanOrtMessage(new Error(raw))).toBe(
      'layout_ == 0 was false. Batchwise recurrent operations (layout == 1) are not supported.',
    );
    expect(cleanOrtMessage('plain reason')).toBe('plain reason');
  });

  // Raw messages onnxruntime-web gave for the mutated files of test/hostile.
  it.each([
    [
      '/mnt/a/onnxruntime/core/providers/cpu/ml/tree_ensemble_attribute.h:54 onnxruntime::ml::detail::TreeEnsembleAttributesV3<float>::TreeEnsembleAttributesV3(const OpKernelInfo &, bool) [ThresholdType = float] nodes_falsenodeids.size() == nodes_treeids.size() was false.',
      'nodes_falsenodeids.size() == nodes_treeids.size() was false.',
    ],
    ['tensorprotoutils.cc:1422 GetSizeInBytesFromTensorProto Out of bounds dimensions', 'Out of bounds dimensions'],
    [
      'External data path validation failed for initializer: w. Error: tensorprotoutils.cc:434 ValidateExternalDataPathFromDir Absolute path not allowed',
      'External data path validation failed for initializer: w. Error: Absolute path not allowed',
    ],
    [
      '/mnt/a/onnxruntime/core/providers/cpu/ml/ml_common.h:90 NODE_MODE_ONNX onnxruntime::ml::MakeTreeNodeMode(const std::string &) Unexpected value for node_mode\n',
      'Unexpected value for node_mode',
    ],
    [
      '/mnt/a/onnxruntime/core/graph/graph.cc:1500 void onnxruntime::Graph::InitializeStateFromModelFileGraphProto() This is an invalid model. Graph output (y) does not exist in the graph.',
      'This is an invalid model. Graph output (y) does not exist in the graph.',
    ],
    [
      '/mnt/a/onnxruntime/core/optimizer/initializer.cc:30 onnxruntime::Initializer::Initializer(const onnx::TensorProto &, const std::filesystem::path &) [ONNXRuntimeError] : 1 : FAIL : Failed to load external data file',
      'Failed to load external data file',
    ],
    [
      '/mnt/a/onnxruntime/core/graph/model_load_utils.h:56 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::string, int> &, const logging::Logger &, bool, const std::string &, int) ONNX Runtime only *guarantees* support',
      'ONNX Runtime only *guarantees* support',
    ],
    [
      '/mnt/a/onnxruntime/core/common/safeint.h:17 static void SafeIntExceptionHandler<onnxruntime::OnnxRuntimeException>::SafeIntOnOverflow() Integer overflow',
      'Integer overflow',
    ],
    ['parse_string.h:33 ParseStringWithClassicLocale Failed to parse value: "1"', 'Failed to parse value: "1"'],
    ['Unrecognized attribute: ke\u0001\u0002s for operator X', 'Unrecognized attribute: ke\ufffds for operator X'],
  ])('cleans %s', (raw, clean) => {
    expect(cleanOrtMessage(new Error(`Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: ${raw}`))).toBe(clean);
  });
});
