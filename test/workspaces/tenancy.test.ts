import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADD_MODEL,
  type CallOptions,
  type TestUser,
  addMember,
  call,
  callJson,
  createKey,
  fixture,
  inWorkspace,
  registerUser,
  uniqueName,
  uploadRaw,
} from '../helpers';

/*
 * Workspace A owns one of everything; callers from workspace B try to read, change and use
 * each of them. Every attempt answers 404, exactly like a resource that does not exist, and
 * A's resources are unchanged afterwards.
 */

let a: TestUser;
const res = {
  model: '',
  keyId: '',
  memberId: '',
  invitationId: '',
  regressor: '',
  jobId: '',
  uploadId: '',
  triggerId: '',
  webhookId: '',
  deliveryId: '',
};
const ONES = Array(60).fill(1);
const addInputs = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [3, 4, 5], data: ONES },
    { name: 'y', datatype: 'FP32', shape: [3, 4, 5], data: ONES },
  ],
};

beforeAll(async () => {
  a = await registerUser('tenant-a');
  res.model = uniqueName('secret-model');
  expect((await uploadRaw(res.model, fixture(ADD_MODEL), { token: a.token })).status).toBe(201);
  await callJson('PUT', `/v1/models/${res.model}/aliases/production`, 200, { token: a.token, body: { version: 1 } });
  res.keyId = (await createKey(['models:read'], { token: a.token })).id;
  res.memberId = (await addMember(a, 'viewer')).userId;
  res.invitationId = (
    await callJson('POST', '/v1/invitations', 201, {
      token: a.token,
      body: { email: `${uniqueName()}@example.com` },
    })
  ).id;
  res.regressor = uniqueName('secret-regressor');
  expect((await uploadRaw(res.regressor, fixture('generated/regressor.onnx'), { token: a.token })).status).toBe(201);
  res.uploadId = (
    await callJson('POST', '/v1/uploads', 201, {
      token: a.token,
      body: new TextEncoder().encode('[1, 2]\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    })
  ).id;
  res.jobId = (
    await callJson('POST', '/v1/jobs', 202, {
      token: a.token,
      body: { model: res.regressor, input: { upload_id: res.uploadId } },
    })
  ).id;
  res.triggerId = (
    await callJson('POST', '/v1/triggers', 201, { token: a.token, body: { name: 'a-trigger', model: res.regressor } })
  ).id;
  res.webhookId = (
    await callJson('POST', '/v1/webhooks', 201, {
      token: a.token,
      body: { url: 'http://127.0.0.1:9/a', events: ['model.version.created'] },
    })
  ).id;
  // an event for A's endpoint, so that it has a delivery
  expect((await uploadRaw(res.regressor, fixture('generated/regressor2.onnx'), { token: a.token })).status).toBe(201);
  const deliveries = await callJson('GET', `/v1/webhooks/${res.webhookId}/deliveries`, 200, { token: a.token });
  res.deliveryId = deliveries.deliveries[0].id;
});

/** Each attempt on A's resources: method, path, body. */
const attempts = (): [string, string, object?][] => [
  ['GET', `/v1/models/${res.model}`],
  ['PATCH', `/v1/models/${res.model}`, { description: 'mine now' }],
  ['DELETE', `/v1/models/${res.model}`],
  ['DELETE', `/v1/models/${res.model}?purge=true`],
  ['GET', `/v1/models/${res.model}/versions`],
  ['GET', `/v1/models/${res.model}/versions/1`],
  ['GET', `/v1/models/${res.model}/versions/production`],
  ['PATCH', `/v1/models/${res.model}/versions/1`, { description: 'mine now' }],
  ['DELETE', `/v1/models/${res.model}/versions/1`],
  ['GET', `/v1/models/${res.model}/versions/1/artifact`],
  ['PUT', `/v1/models/${res.model}/aliases/production`, { version: 1 }],
  ['DELETE', `/v1/models/${res.model}/aliases/production`],
  ['GET', `/v1/api-keys/${res.keyId}`],
  ['DELETE', `/v1/api-keys/${res.keyId}`],
  ['PATCH', `/v1/members/${res.memberId}`, { role: 'admin' }],
  ['DELETE', `/v1/members/${res.memberId}`],
  ['DELETE', `/v1/invitations/${res.invitationId}`],
  ['GET', `/v2/models/${res.model}`],
  ['GET', `/v2/models/${res.model}/versions/1`],
  ['GET', `/v2/models/${res.model}/ready`],
  ['POST', `/v2/models/${res.model}/infer`, addInputs],
  ['POST', `/v2/models/${res.model}/versions/production/infer`, addInputs],
  ['POST', `/v1/models/${res.regressor}/predict`, { instances: [[1, 2]] }],
  ['GET', `/v1/jobs/${res.jobId}`],
  ['POST', `/v1/jobs/${res.jobId}/cancel`],
  ['GET', `/v1/jobs/${res.jobId}/results`],
  ['POST', '/v1/jobs', { model: res.regressor, input: { rows: [[1, 2]] } }],
  ['POST', '/v1/jobs', { model: res.regressor, input: { upload_id: res.uploadId } }],
  ['GET', `/v1/triggers/${res.triggerId}`],
  ['POST', `/v1/triggers/${res.triggerId}/rotate-secret`],
  ['DELETE', `/v1/triggers/${res.triggerId}`],
  ['GET', `/v1/webhooks/${res.webhookId}`],
  ['PATCH', `/v1/webhooks/${res.webhookId}`, { enabled: false }],
  ['POST', `/v1/webhooks/${res.webhookId}/rotate-secret`],
  ['GET', `/v1/webhooks/${res.webhookId}/deliveries`],
  ['POST', `/v1/webhooks/${res.webhookId}/deliveries/${res.deliveryId}/resend`],
  ['DELETE', `/v1/webhooks/${res.webhookId}`],
];

async function expectAll404(as: CallOptions) {
  for (const [method, path, body] of attempts()) {
    const response = await call(method, path, { ...as, body });
    expect(response.status, `${method} ${path}`).toBe(404);
  }
}

async function expectUntouched() {
  const model = await callJson('GET', `/v1/models/${res.model}`, 200, { token: a.token });
  expect(model).toMatchObject({ description: '', archived_at: null, latest_version: 1, aliases: { production: 1 } });
  const key = await callJson('GET', `/v1/api-keys/${res.keyId}`, 200, { token: a.token });
  expect(key.revoked_at).toBeNull();
  const members = await callJson('GET', '/v1/members', 200, { token: a.token });
  expect(members.members).toContainEqual(expect.objectContaining({ user_id: res.memberId, role: 'viewer' }));
  const invitations = await callJson('GET', '/v1/invitations', 200, { token: a.token });
  expect(invitations.invitations[0]).toMatchObject({ id: res.invitationId, status: 'pending' });
  const job = await callJson('GET', `/v1/jobs/${res.jobId}`, 200, { token: a.token });
  expect(job.status).not.toBe('cancelled');
  const trigger = await callJson('GET', `/v1/triggers/${res.triggerId}`, 200, { token: a.token });
  expect(trigger.id).toBe(res.triggerId);
  const webhook = await callJson('GET', `/v1/webhooks/${res.webhookId}`, 200, { token: a.token });
  expect(webhook.enabled).toBe(true);
}

describe('tenancy: another workspace’s resources answer 404', () => {
  it('for a user of another workspace (owner there, so permissions are not what stops them)', async () => {
    const b = await registerUser('tenant-b');
    await expectAll404({ token: b.token });
    await expectUntouched();
  });

  it('for an admin-scoped API key of another workspace', async () => {
    const b = await registerUser('tenant-b');
    const { key } = await createKey(['models:read', 'models:write', 'predict', 'jobs', 'admin'], { token: b.token });
    await expectAll404({ token: key });
    await expectUntouched();
  });

  it('naming A’s workspace in the header does not help: the workspace itself is 404', async () => {
    const b = await registerUser('tenant-b');
    const { key } = await createKey(['models:read', 'models:write', 'predict', 'jobs', 'admin'], { token: b.token });
    for (const token of [b.token, key]) {
      for (const [method, path] of [...attempts(), ['GET', '/v1/audit-log'], ['GET', '/v1/members']] as const) {
        const response = await call(method, path, { token, headers: inWorkspace(a.workspaceId) });
        expect(response.status, `${method} ${path}`).toBe(404);
        const { error } = await response.json<any>();
        // /v2 answers in the Open Inference Protocol's form, a bare message
        if (path.startsWith('/v2/')) expect(error).toMatch(/workspace/);
        else expect(error.code).toBe('workspace_not_found');
      }
    }
    await expectUntouched();
  });

  it('lists and the audit log show nothing of A', async () => {
    const b = await registerUser('tenant-b');
    const models = await callJson('GET', '/v1/models?include_archived=true', 200, { token: b.token });
    expect(models.models).toEqual([]);
    const keys = await callJson('GET', '/v1/api-keys', 200, { token: b.token });
    expect(keys.api_keys).toEqual([]);
    const members = await callJson('GET', '/v1/members', 200, { token: b.token });
    expect(members.members.map((m: any) => m.user_id)).toEqual([b.userId]);
    expect((await callJson('GET', '/v1/invitations', 200, { token: b.token })).invitations).toEqual([]);
    const audit = await callJson('GET', '/v1/audit-log', 200, { token: b.token });
    expect(JSON.stringify(audit)).not.toContain(res.model);
    expect((await callJson('GET', '/v1/jobs', 200, { token: b.token })).jobs).toEqual([]);
    expect((await callJson('GET', '/v1/triggers', 200, { token: b.token })).triggers).toEqual([]);
    expect((await callJson('GET', '/v1/webhooks', 200, { token: b.token })).webhooks).toEqual([]);
  });

  it('never serves B a prediction A cached, even for the same model name, bytes and input', async () => {
    const b = await registerUser('tenant-b');
    expect((await uploadRaw(res.model, fixture(ADD_MODEL), { token: b.token })).status).toBe(201);
    const path = `/v2/models/${res.model}/infer`;
    // A's answer must be in the cache first, or B's MISS below would show nothing about isolation.
    let mine: string | null = null;
    for (let i = 0; i < 50 && mine !== 'HIT'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 10));
      const hit = await call('POST', path, { token: a.token, body: addInputs });
      expect(hit.status).toBe(200);
      mine = hit.headers.get('x-cache');
    }
    expect(mine).toBe('HIT');
    const theirs = await call('POST', path, { token: b.token, body: addInputs });
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get('x-cache')).toBe('MISS');
  });

  it('uploading under the same name creates B’s own model, leaving A’s alone', async () => {
    const b = await registerUser('tenant-b');
    const up = await uploadRaw(res.model, fixture(ADD_MODEL), { token: b.token });
    expect(up.status).toBe(201);
    expect((await up.json<any>()).version).toBe(1);
    await expectUntouched();
    const mine = await callJson('GET', `/v1/models/${res.model}`, 200, { token: b.token });
    expect(mine.created_by).toBe(b.userId);
  });

  it('the platform administrator sees A’s resources (control)', async () => {
    const artifact = await call('GET', `/v1/models/${res.model}/versions/1/artifact`, {
      headers: inWorkspace(a.workspaceId),
    });
    expect(artifact.status).toBe(200);
    expect(new Uint8Array(await artifact.arrayBuffer())).toEqual(fixture(ADD_MODEL));
    await callJson('GET', `/v1/api-keys/${res.keyId}`, 200, { headers: inWorkspace(a.workspaceId) });
  });
});
