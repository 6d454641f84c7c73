import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, fixture, newModel, waitForJob } from '../helpers';
import { answer, check, expectEnvelope, headerString, oddString, wellFormed } from './support';

/*
 * Property: an inbound trigger accepts a delivery exactly when it is signed with the trigger's
 * secret over exactly the bytes sent, with a timestamp within five minutes. Any change to the
 * body, webhook-id, webhook-timestamp or webhook-signature after signing is refused (401, or
 * 400 for a body that cannot be text), in the envelope, never 5xx.
 *
 * "Accepted" is read from the answer: a body naming an upload that does not exist passes the
 * signature check and then answers 404 upload_not_found, so most runs start no job. A few runs
 * send real rows and follow the job they start.
 */

const TIMEOUT = 300_000;
const RUNS = { mutations: 400, stale: 60, junk: 300, jobs: 8 };
const TOLERANCE_S = 300;

interface Delivery {
  body: string;
  id: string;
  timestamp: string;
  signature: string;
}

const sign = (secret: string, id: string, seconds: number, body: string): Delivery => ({
  body,
  id,
  timestamp: String(seconds),
  signature: new Webhook(secret).sign(id, new Date(seconds * 1000), body),
});

const now = () => Math.floor(Date.now() / 1000);

const post = async (trigger: string, d: Delivery) =>
  answer(
    await call('POST', `/v1/hooks/${trigger}`, {
      token: null,
      body: d.body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': d.id,
        'webhook-timestamp': d.timestamp,
        'webhook-signature': d.signature,
      },
    }),
  );

/** What fetch actually sends for a header value (it trims spaces and tabs at both ends). */
const sent = (header: string) => header.replace(/^[ \t]+|[ \t]+$/g, '');

const bodyArb = fc.oneof(
  { arbitrary: fc.uuid().map((u) => JSON.stringify({ upload_id: `upl_missing_${u}` })), weight: 4 },
  fc.jsonValue().map((v) => JSON.stringify(v)),
  // Senders sign bytes: a lone surrogate has no UTF-8 form, so bodies are well-formed text.
  oddString(60).map(wellFormed),
);

const idArb = fc.oneof(
  fc.uuid().map((u) => `msg_${u}`),
  headerString(40).filter((s) => s !== '' && sent(s) === s),
);

/** One change to a signed delivery. */
const mutation = fc.oneof(
  fc.record({ part: fc.constant('body' as const), at: fc.nat(), insert: fc.string({ minLength: 1, maxLength: 3 }) }),
  fc.record({ part: fc.constant('body' as const), at: fc.nat(), remove: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ part: fc.constant('body' as const), prefix: fc.constantFrom('\ufeff', ' ', '\n', '\u00a0', '\ufffd') }),
  fc.record({ part: fc.constant('body' as const), suffix: fc.constantFrom('\n', ' ', '\r\n', '\u0000', '}') }),
  fc.record({ part: fc.constant('id' as const), at: fc.nat(), insert: headerString(3).filter((s) => s !== '') }),
  fc.record({ part: fc.constant('id' as const), at: fc.nat(), remove: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    part: fc.constant('timestamp' as const),
    shift: fc.integer({ min: -10_000, max: 10_000 }).filter((d) => d !== 0),
  }),
  fc.record({
    part: fc.constant('timestamp' as const),
    form: fc.constantFrom('0%s', '00%s', '+%s', '%s.0', '%s.9', '%sabc', '%s ms', '%s,1', '%se0', '%s5'),
  }),
  fc.record({ part: fc.constant('signature' as const), at: fc.nat(), insert: headerString(2).filter((s) => s !== '') }),
  fc.record({ part: fc.constant('signature' as const), at: fc.nat(), remove: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    part: fc.constant('signature' as const),
    form: fc.constantFrom('v2,%s', 'V1,%s', '%s,extra', 'v1,%s,v1', '%s=', 'v1;%s', 'v1 %s', ''),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

const splice = (s: string, at: number, remove: number, insert = '') => {
  const i = s.length === 0 ? 0 : at % (s.length + 1);
  return s.slice(0, i) + insert + s.slice(i + remove);
};

function mutate(d: Delivery, m: Mutation): Delivery {
  const out = { ...d };
  if ('form' in m) {
    const key = m.part === 'timestamp' ? 'timestamp' : 'signature';
    out[key] = m.form.replace('%s', m.part === 'signature' ? d.signature.slice(3) : d[key]);
    if (m.part === 'signature' && m.form === '') out.signature = '';
  } else if ('shift' in m) out.timestamp = String(Number(d.timestamp) + m.shift);
  else if ('prefix' in m) out.body = m.prefix + d.body;
  else if ('suffix' in m) out.body = d.body + m.suffix;
  else {
    const key = m.part;
    out[key] = splice(d[key], m.at, 'remove' in m ? m.remove : 0, 'insert' in m ? m.insert : '');
  }
  return out;
}

/**
 * Whether the mutation changed what goes on the wire: fetch trims header values and sends a
 * lone surrogate in a body as U+FFFD.
 */
const changed = (a: Delivery, b: Delivery) =>
  wellFormed(a.body) !== wellFormed(b.body) ||
  sent(a.id) !== sent(b.id) ||
  sent(a.timestamp) !== sent(b.timestamp) ||
  sent(a.signature) !== sent(b.signature);

/** Accepted: past the signature check. The upload is missing (404) or the body is not a job (400). */
function expectAccepted(a: Awaited<ReturnType<typeof post>>) {
  expect(a.status, a.text).not.toBe(401);
  if (a.status !== 202) expectEnvelope(a);
}

function expectRefused(a: Awaited<ReturnType<typeof post>>) {
  expect([400, 401], a.text).toContain(a.status);
  const message = expectEnvelope(a);
  if (a.status === 401) expect(message).toMatch(/signature|timestamp|header/i);
}

describe('inbound webhook signatures, property-based', () => {
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    const model = await newModel(fixture('generated/regressor.onnx'), 'prop-hook');
    trigger = await callJson('POST', '/v1/triggers', 201, { body: { name: 'property', model, chunk_size: 5 } });
  });

  it(
    `a fresh, correctly signed delivery is accepted; any change to it is refused (${RUNS.mutations} runs)`,
    async () => {
      await check(
        fc.asyncProperty(bodyArb, idArb, fc.integer({ min: -240, max: 240 }), mutation, async (body, id, offset, m) => {
          const original = sign(trigger.secret, id, now() + offset, body);
          const mutated = mutate(original, m);
          fc.pre(changed(original, mutated));
          expectRefused(await post(trigger.id, mutated));
          expectAccepted(await post(trigger.id, original));
        }),
        RUNS.mutations,
      );
    },
    TIMEOUT,
  );

  it(
    `a correctly signed delivery outside the five-minute window is refused (${RUNS.stale} runs)`,
    async () => {
      const offset = fc.oneof(
        fc.integer({ min: TOLERANCE_S + 10, max: 10 ** 9 }),
        fc.integer({ min: -(10 ** 9), max: -(TOLERANCE_S + 10) }),
      );
      await check(
        fc.asyncProperty(bodyArb, idArb, offset, async (body, id, off) => {
          const a = await post(trigger.id, sign(trigger.secret, id, now() + off, body));
          expect(a.status, a.text).toBe(401);
          expect(expectEnvelope(a)).toMatch(/timestamp/i);
        }),
        RUNS.stale,
      );
    },
    TIMEOUT,
  );

  it(
    `arbitrary headers and bodies are refused in the envelope, never 5xx (${RUNS.junk} runs)`,
    async () => {
      const header = fc.option(headerString(120), { nil: undefined });
      await check(
        fc.asyncProperty(
          fc.oneof(bodyArb, fc.uint8Array({ maxLength: 100 })),
          header,
          header,
          fc.oneof(header, fc.constant('v1,' + 'A'.repeat(43) + '=')),
          fc.constantFrom('TRIGGER', 'trg_missing', '..', 'x'.repeat(64)),
          async (body, id, timestamp, signature, target) => {
            const headers: Record<string, string> = {};
            if (id !== undefined) headers['webhook-id'] = id;
            if (timestamp !== undefined) headers['webhook-timestamp'] = timestamp;
            if (signature !== undefined) headers['webhook-signature'] = signature;
            const path = `/v1/hooks/${target === 'TRIGGER' ? trigger.id : target}`;
            const a = await answer(await call('POST', path, { token: null, body, headers }));
            expect([400, 401, 404, 405], a.text).toContain(a.status);
            expectEnvelope(a);
          },
        ),
        RUNS.junk,
      );
    },
    TIMEOUT,
  );

  it(
    `a correctly signed delivery with rows starts one job that scores them (${RUNS.jobs} runs)`,
    async () => {
      const row = fc.tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -100, max: 100 }));
      await check(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 4 }), fc.uuid(), async (rows, id) => {
          const a = await post(trigger.id, sign(trigger.secret, id, now(), JSON.stringify({ rows })));
          expect(a.status, a.text).toBe(202);
          const job = await waitForJob(a.json.job_id);
          expect(job).toMatchObject({ status: 'succeeded', rows: { total: rows.length, done: rows.length } });
        }),
        RUNS.jobs,
      );
    },
    TIMEOUT,
  );
});
