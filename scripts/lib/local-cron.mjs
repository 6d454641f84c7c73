// The cron trigger under `npm start`. `wrangler dev` never fires a worker's schedule by itself;
// it does run the scheduled handler when asked at /cdn-cgi/handler/scheduled (answering 200,
// or 500 when the handler threw), so this asks at each minute the schedule names.
import { nextRun, parseCron } from './cron.mjs';

export const MODES = ['minute', 'wrangler', 'off'];

/**
 * What runs when: `minute` (the default) fires the worker's cron every minute so that drift
 * reports and alerts show up while you watch; `wrangler` keeps wrangler.toml's schedule;
 * `off` fires nothing. Throws naming a mode it does not know.
 */
export function localSchedule(mode, crons) {
  const chosen = mode || 'minute';
  if (!MODES.includes(chosen)) throw new Error(`MODELFLARE_CRON is ${MODES.join(', ')}; not "${mode}"`);
  if (chosen === 'off' || crons.length === 0) {
    return { mode: chosen, specs: [], describe: crons.length === 0 ? 'none (wrangler.toml has no crons)' : 'off' };
  }
  const given = crons.map((c) => `"${c}"`).join(', ');
  if (chosen === 'wrangler') {
    return { mode: chosen, specs: crons.map(parseCron), describe: `${given} (UTC), as wrangler.toml gives` };
  }
  // Every minute, still named by wrangler.toml's first expression (the one that runs every
  // chore, the minute one runs rollouts alone): the handler sees what production sends.
  return {
    mode: chosen,
    specs: [{ ...parseCron('* * * * *'), expr: crons[0] }],
    describe: `every minute (wrangler.toml: ${given})`,
  };
}

/**
 * Fires the schedule until `signal` aborts: at each due minute, one request per expression
 * due, one run at a time (a run that outlasts a minute makes the next one the first due after
 * it ends, as a missed trigger would not pile up). `report` hears each outcome.
 *
 * @param {{
 *   base: string,
 *   schedule: { specs: object[] },
 *   signal?: AbortSignal,
 *   report?: (outcome: { cron: string, at: number, ok: boolean, status?: number, error?: string }) => void,
 *   fetchFn?: (url: string, init?: object) => Promise<Response>,
 *   now?: () => number,
 *   sleep?: (ms: number, abort?: AbortSignal) => Promise<unknown>,
 * }} options
 */
export async function runLocalCron({
  base,
  schedule,
  signal,
  report = () => {},
  fetchFn = globalThis.fetch,
  now = () => Date.now(),
  sleep = (ms, abort) =>
    new Promise((done) => {
      const timer = setTimeout(done, ms);
      abort?.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
    }),
}) {
  if (schedule.specs.length === 0) return;
  let after = now();
  while (!signal?.aborted) {
    const from = new Date(Math.max(after, now()));
    const due = schedule.specs.map((spec) => ({ spec, at: nextRun(spec, from).getTime() }));
    const at = Math.min(...due.map((d) => d.at));
    await sleep(Math.max(0, at - now()), signal);
    if (signal?.aborted) break;
    for (const { spec } of due.filter((d) => d.at === at)) {
      const url = `${base}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(spec.expr)}&time=${at}`;
      try {
        const res = await fetchFn(url, { signal });
        await res.text();
        report({ cron: spec.expr, at, ok: res.ok, status: res.status });
      } catch (err) {
        if (!signal?.aborted) report({ cron: spec.expr, at, ok: false, error: err.message });
      }
    }
    after = at;
  }
}
