// Batch jobs, submitted through an upload or started by a signed trigger call, followed to
// their end: every row submitted must come back exactly once, in order, with the answer of
// the job's version (or the row error a malformed line deserves).
import { Webhook } from 'standardwebhooks';
import { isErrorEnvelope } from './client.mjs';
import { WIDTH, expectedRow, sameRow } from './models.mjs';
import { MODEL } from './predictions.mjs';

const ENDED = new Set(['succeeded', 'partially_failed', 'failed', 'cancelled']);
const MALFORMED = ['[1, 2]', '{"y": 1}', 'not json', '"text"', '[1, 2, 3, 4, 5]'];

/** `count` lines, about 3% malformed: each line's text and the row it holds (null if malformed). */
function jobLines(random, count) {
  return Array.from({ length: count }, () => {
    if (random() < 0.03) return { text: MALFORMED[Math.floor(random() * MALFORMED.length)], row: null };
    const row = Array.from({ length: WIDTH }, () => Math.round((random() * 20 - 10) * 100) / 100);
    return { text: JSON.stringify(row), row };
  });
}

export function createJobTracker(ctx) {
  const pending = new Map(); // job id -> { lines, version, end }
  const ended = new Map(); // job id -> status

  /** `entry`: the job's lines, its version (or 'alias' until known) and the end of its claim. */
  function track(id, entry) {
    ctx.tally.jobs.submitted += 1;
    ctx.tally.rows.submitted += entry.lines.length;
    pending.set(id, entry);
  }

  async function verifyResults(id, job, lines) {
    const res = await ctx.send('job.results', 'GET', `/v1/jobs/${id}/results`, { token: ctx.keys.jobs });
    if (res.status !== 200) return ctx.tally.fail('job.results', `${id}: ${res.status} ${res.text.slice(0, 200)}`);
    const results = res.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    ctx.tally.rows.returned += results.length;
    if (results.length !== lines.length) {
      ctx.tally.fail('job.results', `${id}: ${results.length} result lines for ${lines.length} rows`);
    }
    const malformed = lines.filter((l) => l.row === null).length;
    const status = malformed === 0 ? 'succeeded' : malformed === lines.length ? 'failed' : 'partially_failed';
    if (job.status !== status || job.rows.total !== lines.length || job.rows.failed !== malformed) {
      ctx.tally.fail(
        'job',
        `${id}: ${job.status} ${JSON.stringify(job.rows)}; expected ${status}, ${malformed} failed of ${lines.length}`,
      );
    }
    results.forEach((r, i) => {
      const line = lines[i];
      const ok =
        r.index === i &&
        (line.row === null ? typeof r.error === 'string' : sameRow(r.prediction, expectedRow(line.row, job.version)));
      if (ok) ctx.tally.rows.verified += 1;
      else
        ctx.tally.fail(
          'job.results',
          `${id} line ${i}: ${JSON.stringify(r)} for ${line.text} (version ${job.version})`,
        );
    });
    ctx.tally.rows.rowErrorsExpected += malformed;
  }

  async function poll(id, entry) {
    const res = await ctx.send('job.poll', 'GET', `/v1/jobs/${id}`, { token: ctx.keys.jobs });
    if (res.status !== 200) return ctx.tally.fail('job.poll', `${id}: ${res.status} ${res.text.slice(0, 200)}`);
    const job = res.body;
    if (entry.version === 'alias' && job.version) entry.resolve(job.version);
    if (!ENDED.has(job.status)) return;
    pending.delete(id);
    entry.end();
    ended.set(id, job.status);
    ctx.tally.jobs.ended += 1;
    ctx.tally.jobs.byStatus[job.status] = (ctx.tally.jobs.byStatus[job.status] ?? 0) + 1;
    await verifyResults(id, job, entry.lines);
  }

  return {
    pending,
    ended,
    /** A JSON Lines file through `/v1/uploads`, then `POST /v1/jobs`, pinned or by alias. */
    async submit() {
      const lines = jobLines(ctx.random, 20 + Math.floor(ctx.random() * 1500));
      const byAlias = ctx.random() < 0.3;
      const version = byAlias ? 'production' : ctx.registry.pick(ctx.random);
      let end = ctx.inFlight.begin(byAlias ? 'alias' : version);
      const t0 = Date.now();
      const upload = await ctx.send('job.upload', 'POST', '/v1/uploads?filename=soak.jsonl', {
        token: ctx.keys.jobs,
        body: `${lines.map((l) => l.text).join('\n')}\n`,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      if (upload.status !== 201) {
        end();
        return ctx.tally.fail('job.upload', `${upload.status} ${upload.text.slice(0, 200)}`);
      }
      const chunkSize = 50 + Math.floor(ctx.random() * 400);
      const res = await ctx.send('job.submit', 'POST', '/v1/jobs', {
        token: ctx.keys.jobs,
        json: { model: MODEL, version: String(version), input: { upload_id: upload.body.id }, chunk_size: chunkSize },
      });
      if (res.status !== 202) {
        end();
        return ctx.tally.fail('job.submit', `${res.status} ${res.text.slice(0, 200)}`);
      }
      if (byAlias) {
        const allowed = ctx.registry.aliasTargetsBetween(t0, Date.now());
        if (!allowed.has(res.body.version))
          ctx.tally.fail('job.submit', `pinned ${res.body.version} for production, expected one of ${[...allowed]}`);
        const previous = end;
        end = ctx.inFlight.begin(res.body.version);
        previous();
      }
      track(res.body.id, { lines, version: res.body.version, end });
    },
    /** A signed call to the trigger's hook, sent twice (a retrying sender), and a forged one. */
    async trigger() {
      // Inline rows are JSON values, so the malformed ones are rows of the wrong width.
      const lines = jobLines(ctx.random, 1 + Math.floor(ctx.random() * 200)).map((l) =>
        l.row === null ? { text: '[1, 2]', row: null } : l,
      );
      const body = JSON.stringify({ rows: lines.map((l) => JSON.parse(l.text)) });
      const id = `soak-${ctx.trigger.id}-${(ctx.trigger.sent += 1)}`;
      const at = new Date();
      const headers = (signature) => ({
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      });
      const signature = new Webhook(ctx.trigger.secret).sign(id, at, body);
      const forged = signature.replace(/.{4}$/, 'AAA=');
      const refused = await ctx.send('trigger.forged', 'POST', ctx.trigger.hookUrl, { body, headers: headers(forged) });
      if (refused.status !== 401 || !isErrorEnvelope(refused.body)) {
        ctx.tally.fail('trigger.forged', `forged signature answered ${refused.status} ${refused.text.slice(0, 200)}`);
      }
      const entry = { lines, version: 'alias', end: ctx.inFlight.begin('alias') };
      const first = await ctx.send('trigger', 'POST', ctx.trigger.hookUrl, { body, headers: headers(signature) });
      const again = await ctx.send('trigger', 'POST', ctx.trigger.hookUrl, { body, headers: headers(signature) });
      if (first.status !== 202 || first.body?.duplicate !== false) {
        entry.end();
        return ctx.tally.fail('trigger', `first delivery: ${first.status} ${first.text.slice(0, 200)}`);
      }
      if (again.status !== 202 || again.body?.duplicate !== true || again.body?.job_id !== first.body.job_id) {
        ctx.tally.fail(
          'trigger',
          `retried delivery started another job or failed: ${again.status} ${again.text.slice(0, 200)}`,
        );
      }
      const t0 = at.getTime() - 1000;
      entry.resolve = (version) => {
        const allowed = ctx.registry.aliasTargetsBetween(t0, Date.now());
        if (!allowed.has(version)) ctx.tally.fail('trigger', `job pinned ${version}, alias was ${[...allowed]}`);
        const previous = entry.end;
        entry.end = ctx.inFlight.begin(version);
        previous();
        entry.version = version;
      };
      track(first.body.job_id, entry);
    },
    /** Polls every running job once. */
    async pollAll() {
      await Promise.all([...pending].map(([id, entry]) => poll(id, entry)));
    },
  };
}
