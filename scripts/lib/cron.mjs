// Cron expressions as Cloudflare reads them (five fields, UTC): enough to run a worker's
// scheduled chores on this machine, where `wrangler dev` never fires them by itself.

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];

function parseField(text, { name, min, max }, expr) {
  const values = new Set();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`cron "${expr}": cannot read ${name} "${part}"`);
    const from = match[1] === '*' ? min : Number(match[2]);
    const to = match[1] === '*' ? max : match[3] !== undefined ? Number(match[3]) : match[4] ? max : from;
    const step = match[4] ? Number(match[4]) : 1;
    if (from < min || to > max || from > to || step < 1) {
      throw new Error(`cron "${expr}": ${name} "${part}" is outside ${min}-${max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** A five-field expression, read once; throws naming the field it cannot read. */
export function parseCron(expr) {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expr}": expected 5 fields (minute hour day month weekday)`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i], expr));
  if (dow.has(7)) dow.add(0);
  return { expr, minute, hour, dom, month, dow, domAny: parts[2] === '*', dowAny: parts[4] === '*' };
}

function dayMatches(spec, date) {
  const dom = spec.dom.has(date.getUTCDate());
  const dow = spec.dow.has(date.getUTCDay());
  // As cron: with both day fields restricted, either one will do.
  return spec.domAny || spec.dowAny ? dom && dow : dom || dow;
}

/** Whether the UTC minute of `date` is one the expression names. */
export function matches(spec, date) {
  return (
    spec.minute.has(date.getUTCMinutes()) &&
    spec.hour.has(date.getUTCHours()) &&
    spec.month.has(date.getUTCMonth() + 1) &&
    dayMatches(spec, date)
  );
}

/** The first whole minute after `after` that the expression names (skipping whole months, days, hours). */
export function nextRun(spec, after) {
  const t = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  // Five years: every expression that can fire does (29 February included).
  const limit = t.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() < limit) {
    if (!spec.month.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(spec, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!spec.hour.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!spec.minute.has(t.getUTCMinutes())) {
      t.setTime(t.getTime() + 60_000);
    } else {
      return t;
    }
  }
  throw new Error(`cron "${spec.expr}" names no minute in the next five years`);
}

/** The top-level `[triggers] crons` of a wrangler.toml (the local setup's, not an [env.*]'s). */
export function wranglerCrons(toml) {
  const section = /^\[triggers\][ \t]*\r?\n((?:(?!\[).*\r?\n?)*)/m.exec(toml);
  const crons = section && /^\s*crons\s*=\s*\[([^\]]*)\]/m.exec(section[1]);
  if (!crons) return [];
  return [...crons[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}
