import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, newModel, registerUser, resultLines, uniqueName, waitForJob } from '../helpers';

/*
 * Counterexamples the properties in this folder found, shrunk and kept as plain tests so they
 * fail loudly, with a readable input, if the defect comes back.
 */

describe('inbound webhook signatures: found by webhook-signature.test.ts', () => {
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'reg-hook');
    trigger = await callJson('POST', '/v1/triggers', 201, { body: { name: 'regressions', model } });
  });

  const body = JSON.stringify({ upload_id: 'upl_missing_00000000-0000-1000-8000-000000000000' });
  const id = 'msg_00000000-0000-1000-8000-000000000000';
  const signed = (payload = body) => {
    const at = new Date();
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(trigger.secret).sign(id, at, payload),
    };
  };
  const post = (payload: BodyInit, headers: Record<string, string>) =>
    call('POST', `/v1/hooks/${trigger.id}`, {
      token: null,
      body: payload,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('the unchanged delivery passes the signature check (the upload it names is missing: 404)', async () => {
    expect((await post(body, signed())).status).toBe(404);
  });

  it('refuses a signed delivery whose timestamp gained a leading zero or trailing characters', async () => {
    for (const form of ['0%s', '%s.9', '%sabc', '+%s']) {
      const headers = signed();
      headers['webhook-timestamp'] = form.replace('%s', headers['webhook-timestamp']);
      const res = await post(body, headers);
      expect(res.status, form).toBe(401);
      expect((await res.json<any>()).error.message).toContain('webhook-timestamp');
    }
  });

  it('refuses a signed delivery whose signature gained ",junk"', async () => {
    const headers = signed();
    headers['webhook-signature'] += ',extra';
    expect((await post(body, headers)).status).toBe(401);
  });

  it('refuses a signed delivery whose body gained a leading BOM, and accepts one signed with it', async () => {
    expect((await post(`\ufeff${body}`, signed())).status).toBe(401);
    // Signed over the BOM too: the signature holds; the body is then not valid JSON.
    const res = await post(`\ufeff${body}`, signed(`\ufeff${body}`));
    expect(res.status).toBe(400);
    expect((await res.json<any>()).error.message).toContain('not valid JSON');
  });

  it('refuses a body that is not UTF-8 with 400 rather than decoding it to other text', async () => {
    const res = await post(new Uint8Array([0x7b, 0xff, 0x7d]), signed('{\ufffd}'));
    expect(res.status).toBe(400);
    expect((await res.json<any>()).error.message).toContain('not UTF-8');
  });
});

describe('JSONL batch jobs: found by jsonl-jobs.test.ts', () => {
  it('a BOM that opens a later chunk is data, as anywhere after the start of the file', async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'reg-jsonl');
    const body = new TextEncoder().encode('{"x":[0,0]}\n\ufeff[1,2]');
    const upload = await callJson('POST', '/v1/uploads', 201, {
      body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    // chunk_size 1 put the BOM at the start of chunk 1, where it was dropped and the row scored.
    for (const chunkSize of [1, 2]) {
      const job = await callJson('POST', '/v1/jobs', 202, {
        body: { model, input: { upload_id: upload.id }, chunk_size: chunkSize },
      });
      await waitForJob(job.id);
      const results = await resultLines(job.id);
      expect(results[0], `chunk_size ${chunkSize}`).toEqual({ index: 0, prediction: 0.5 });
      expect(results[1], `chunk_size ${chunkSize}`).toMatchObject({
        index: 1,
        error: expect.stringContaining('not valid JSON'),
      });
    }
  });
});

describe('names and metadata: found by names-metadata.test.ts', () => {
  // Accepted before, stored by D1 as U+FFFD and read back as other text.
  const lone = '\ud800';
  const refusedNaming = async (res: Response, field: string) => {
    const body = await res.json<any>();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.message).toContain(`'${field}'`);
    expect(body.error.message).toContain('lone UTF-16 surrogate');
  };

  it('refuses a lone surrogate in model and version metadata, naming the field', async () => {
    await refusedNaming(
      await call('POST', '/v1/models', { body: { name: uniqueName('reg-meta'), description: lone } }),
      'description',
    );
    const model = await newModel(fixture('generated/regressor.onnx'), 'reg-meta');
    await refusedNaming(
      await call('PATCH', `/v1/models/${model}/versions/1`, { body: { class_labels: ['a', `b${lone}`] } }),
      'class_labels[1]',
    );
    const form = new FormData();
    form.append('file', new File([fixture('generated/regressor.onnx')], 'model.onnx'));
    form.append('metadata', JSON.stringify({ description: lone }));
    await refusedNaming(
      await call('POST', `/v1/models/${uniqueName('reg-meta')}/versions`, { body: form }),
      'description',
    );
  });

  it('refuses a lone surrogate in API key and workspace names', async () => {
    await refusedNaming(await call('POST', '/v1/api-keys', { body: { name: lone, scopes: ['predict'] } }), 'name');
    const user = await registerUser('reg-ws');
    await refusedNaming(await call('PATCH', '/v1/workspace', { token: user.token, body: { name: lone } }), 'name');
  });
});

describe('uploads: found by names-metadata.test.ts', () => {
  it('reads a multipart upload whose boundary has capitals, as browsers send it', async () => {
    const b = '----WebKitFormBoundaryAbC123';
    const encoder = new TextEncoder();
    const head = encoder.encode(
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const file = fixture('generated/regressor.onnx');
    const tail = encoder.encode(
      `\r\n--${b}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"description":"from a browser"}\r\n--${b}--\r\n`,
    );
    const body = new Uint8Array([...head, ...file, ...tail]);
    const name = uniqueName('reg-upl');
    const res = await call('POST', `/v1/models/${name}/versions`, {
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${b}` },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await res.json<any>()).description).toBe('from a browser');
  });
});

describe('metadata records: found by names-metadata.test.ts', () => {
  it('refuses a tag or metric named __proto__ (a record would have dropped it) naming the field', async () => {
    const tags = JSON.parse('{"__proto__": "x", "team": "fraud"}');
    const refused = await callJson('POST', '/v1/models', 400, { body: { name: uniqueName('proto'), tags } });
    expect(refused.error.message).toContain("request body 'tags.__proto__'");
    expect(refused.error.message).toContain("'__proto__' is not allowed as a key");
    const name = uniqueName('proto');
    await callJson('POST', '/v1/models', 201, { body: { name, tags: { team: 'fraud' } } });
    expect((await callJson('GET', `/v1/models/${name}`, 200)).tags).toEqual({ team: 'fraud' });
  });
});
