import { describe, expect, it } from 'vitest';
import { callJson, fixture, uniqueName } from '../helpers';
import { sendJson } from '../faults/drive';
import { faultyEnv } from '../faults/faulty-env';

/*
 * A graph with more nodes than MAX_MODEL_NODES is refused before onnxruntime spends CPU on it
 * (about 1.3 s per 5,000 nodes), and nothing is stored. The demo iris MLP has five nodes.
 */
const IRIS = fixture('generated/iris.onnx');

describe('MAX_MODEL_NODES', () => {
  it('refuses a graph over the limit with 422 naming it, and stores nothing', async () => {
    const name = uniqueName('nodes');
    const strict = faultyEnv({ MAX_MODEL_NODES: '4' });
    const res = await sendJson(strict.env, 'POST', `/v1/models/${name}/versions`, { body: IRIS });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'invalid_model' });
    expect(res.body.error.message).toBe('the graph has 5 nodes, over the limit of 4 (MAX_MODEL_NODES)');
    await callJson('GET', `/v1/models/${name}`, 404);
    // Refused before anything was written: no file put, no row inserted.
    expect(strict.count('BUCKET', 'put')).toBe(0);
    expect(strict.count('DB', 'batch')).toBe(0);
  });

  it('accepts a graph at the limit', async () => {
    const res = await sendJson(
      faultyEnv({ MAX_MODEL_NODES: '5' }).env,
      'POST',
      `/v1/models/${uniqueName('nodes')}/versions`,
      {
        body: IRIS,
      },
    );
    expect(res.status).toBe(201);
  });
});
