import { describe, expect, it } from 'vitest';
import { ortHeapBytes } from '../../workers/runtime/ort-env';
import { warmUpRuntime, warmUpState } from '../../workers/runtime/warm-up';
import { ADMIN, call, infer } from '../helpers';

// One isolate for this file: the order of the cases is the isolate's life.
describe('runtime warm-up', () => {
  it('is not started by requests that run no model', async () => {
    expect((await call('GET', '/v1/models', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect((await call('GET', '/v2/health/ready')).status).toBe(200);
    expect(warmUpState()).toBe('idle');
    expect(ortHeapBytes()).toBe(0);
  });

  it('starts with the first prediction request, before its credential is checked', async () => {
    const refused = await call('POST', '/v2/models/iris/infer', { token: null, body: { inputs: [] } });
    expect(refused.status).toBe(401);
    expect(warmUpState()).not.toBe('idle');
    const started = warmUpRuntime();
    expect(warmUpRuntime()).toBe(started);
    await started;
    expect(warmUpState()).toBe('ready');
    // onnxruntime is up: its heap exists, and the built-in model left no session behind.
    expect(ortHeapBytes()).toBeGreaterThan(0);
  });

  it('leaves predictions answering as before', async () => {
    const response = await infer('/v2/models/nothing-here/infer', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }],
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toMatch(/model 'nothing-here'/);
  });
});
