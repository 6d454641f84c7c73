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
});
