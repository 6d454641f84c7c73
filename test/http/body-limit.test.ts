import { describe, expect, it } from 'vitest';
import { DomainError } from '../../workers/core/errors';
import { readBodyLimited } from '../../workers/http/read-body';
import { call, fixture, newModel } from '../helpers';

describe('prediction request bodies', () => {
  it('over MAX_INFER_BYTES answer 413, in the protocol’s error shape, every time', async () => {
    const name = await newModel(fixture('generated/iris.onnx'), 'bl');
    const body = `{"inputs": [], "pad": "${'x'.repeat(8 * 1024 * 1024)}"}`;
    const headers = { 'content-type': 'application/json' };
    for (let i = 0; i < 2; i++) {
      const v2 = await call('POST', `/v2/models/${name}/infer`, { body, headers });
      expect(v2.status).toBe(413);
      expect(await v2.json()).toEqual({ error: 'the request body is larger than the limit of 8 MiB' });
    }
    const v1 = await call('POST', `/v1/models/${name}/predict`, { body, headers });
    expect(v1.status).toBe(413);
    expect(((await v1.json()) as any).error.code).toBe('payload_too_large');
  });
});

describe('a body the client stops sending', () => {
  it('is the request’s failure (400, how much arrived), not a storage outage', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 3) return controller.error(new Error('Network connection lost.'));
        sent += 1;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const request = new Request('https://modelflare.test/', { method: 'POST', body });
    const failure = await readBodyLimited(request, 1024 * 1024, 'the model file').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DomainError);
    expect(failure).toMatchObject({
      kind: 'invalid_argument',
      message: 'the model file did not arrive whole: the connection closed after 3 KiB',
    });
  });
});
