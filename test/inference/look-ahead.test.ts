import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, createKey, fixture, registerUser, uploadRaw } from '../helpers';

afterEach(() => vi.restoreAllMocks());

const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };
const predict = (token: string) =>
  call('POST', '/v2/models/iris/infer', { token, body, headers: { 'cache-control': 'no-store' } });

const readsKey = (sql: string) => /from "api_keys"/.test(sql) && !/from "models"/.test(sql);
const readsModel = (sql: string) => /^\s*select/i.test(sql) && /from "models"/.test(sql);

/**
 * Records D1 statements. The key lookup is held back until a model read has been prepared
 * (or a second has passed): only a model read made beside it can open the gate.
 */
function watchD1() {
  const statements: string[] = [];
  let openGate!: () => void;
  const modelReadSeen = new Promise<void>((resolve) => (openGate = resolve));
  const state = { overlapped: false };
  const prepare = env.DB.prepare.bind(env.DB);
  vi.spyOn(env.DB, 'prepare').mockImplementation((sql: string) => {
    statements.push(sql);
    if (readsModel(sql)) openGate();
    const statement = prepare(sql);
    if (!readsKey(sql)) return statement;
    const gated = (bound: D1PreparedStatement): D1PreparedStatement =>
      new Proxy(bound, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === 'bind') return (...args: unknown[]) => gated(target.bind(...args));
          if (typeof value !== 'function' || !['all', 'raw', 'first', 'run'].includes(prop as string)) return value;
          return async (...args: unknown[]) => {
            await Promise.race([
              modelReadSeen.then(() => (state.overlapped = true)),
              new Promise((resolve) => setTimeout(resolve, 1_000)),
            ]);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    return gated(statement);
  });
  return { statements, state };
}

describe('a prediction with an API key the isolate has not seen', () => {
  it('reads the key and the model at once, and the data plane reads the model no more', async () => {
    const user = await registerUser();
    expect((await uploadRaw('iris', fixture('generated/iris.onnx'), { token: user.token })).status).toBe(201);
    const { key } = await createKey(['predict'], { token: user.token });

    const d1 = watchD1();
    const res = await predict(key);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model_name: string }).model_name).toBe('iris');

    expect(d1.state.overlapped).toBe(true);
    expect(d1.statements.filter(readsKey)).toHaveLength(1);
    // One model read, the one made beside the key's: the data plane found its copy.
    const modelReads = d1.statements.filter(readsModel);
    expect(modelReads).toHaveLength(1);
    expect(modelReads[0]).toContain(
      '"models"."workspace_id" = (select "api_keys"."workspace_id" from "api_keys" where "api_keys"."key_hash" = ?)',
    );

    // Known now: the next prediction reads neither.
    d1.statements.length = 0;
    expect((await predict(key)).status).toBe(200);
    expect(d1.statements.filter((sql) => readsKey(sql) || readsModel(sql))).toEqual([]);
  });

  it('keeps nothing for a key that is refused, or that may not predict', async () => {
    const user = await registerUser();
    expect((await uploadRaw('iris', fixture('generated/iris.onnx'), { token: user.token })).status).toBe(201);
    const revoked = await createKey(['predict'], { token: user.token });
    expect((await call('DELETE', `/v1/api-keys/${revoked.id}`, { token: user.token })).status).toBe(200);
    const readOnly = await createKey(['models:read'], { token: user.token });

    const d1 = watchD1();
    const refused = await predict(revoked.key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'this API key has been revoked' });
    const forbidden = await predict(readOnly.key);
    expect(forbidden.status).toBe(403);
    // Both looked the model up beside their key, and neither read was kept.
    expect(d1.statements.filter(readsModel)).toHaveLength(2);

    // A session names its workspace without a key row: the data plane reads the model itself.
    d1.statements.length = 0;
    expect((await predict(user.token)).status).toBe(200);
    expect(d1.statements.filter(readsModel)).toHaveLength(1);
    expect(d1.statements.filter(readsModel)[0]).not.toMatch(/api_keys/);
  });

  it('answers a model the key cannot see, or a malformed name, as before', async () => {
    const owner = await registerUser();
    expect((await uploadRaw('iris', fixture('generated/iris.onnx'), { token: owner.token })).status).toBe(201);
    const stranger = await registerUser();
    const { key } = await createKey(['predict'], { token: stranger.token });

    const missing = await predict(key);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'iris' not found" });

    const malformed = await call('POST', '/v2/models/-bad-/infer', { token: key, body });
    expect(malformed.status).toBe(400);
  });
});
