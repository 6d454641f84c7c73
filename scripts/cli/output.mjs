// @ts-check
/*
 * What the CLI prints. Results go to stdout (JSON with --json, tables otherwise); progress,
 * notices and errors go to stderr, so `--json` output can be piped straight into jq.
 */

/**
 * @typedef {object} OutputOptions
 * @property {boolean} json
 * @property {boolean} quiet
 * @property {NodeJS.WriteStream} [stdout]
 * @property {NodeJS.WriteStream} [stderr]
 */

/**
 * @template T
 * @typedef {[header: string, cell: (row: T) => unknown]} Column
 */

/** @param {OutputOptions} options */
export function createOutput(options) {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const tty = Boolean(stderr.isTTY) && !options.quiet;
  // With --json, stderr carries nothing but the error (or a progress bar on a terminal).
  const chatty = !options.quiet && !options.json;

  return {
    json: options.json,

    /**
     * Prints a command's result: the API's JSON with --json, else what `human` prints.
     * @template T
     * @param {T} data
     * @param {(data: T) => void} human
     */
    result(data, human) {
      // An answer without a body (204) prints nothing with --json.
      if (options.json) {
        if (data !== undefined) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      } else human(data);
    },

    /** @param {string} text */
    line(text) {
      stdout.write(`${text}\n`);
    },

    /** A notice on stderr (not with --quiet or --json). @param {string} text */
    note(text) {
      if (chatty) stderr.write(`${text}\n`);
    },

    /**
     * @template T
     * @param {T[]} rows
     * @param {Column<T>[]} columns
     */
    table(rows, columns) {
      stdout.write(renderTable(rows, columns));
    },

    /** Any JSON answer for people: a list as a table, an object as aligned key/value lines. @param {unknown} data */
    auto(data) {
      stdout.write(renderAuto(data));
    },

    /**
     * A progress bar on a terminal; on anything else a plain line at each quarter (none with --json).
     * @param {string} label
     * @param {number} total
     * @param {(n: number) => string} [format]
     */
    progress(label, total, format = String) {
      let lastQuarter = -1;
      let lastDrawn = '';
      /** @param {number} done @param {string} [suffix] */
      const update = (done, suffix = '') => {
        const ratio = total > 0 ? Math.min(done / total, 1) : 1;
        const figures = `${Math.floor(ratio * 100)}% ${format(done)}/${format(total)}${suffix ? ` ${suffix}` : ''}`;
        if (tty) {
          const width = 30;
          const filled = Math.round(ratio * width);
          const text = `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${figures}`;
          if (text !== lastDrawn) stderr.write(`${text}\x1b[K`);
          lastDrawn = text;
        } else if (chatty) {
          const quarter = Math.floor(ratio * 4);
          if (quarter !== lastQuarter) stderr.write(`${label}: ${figures}\n`);
          lastQuarter = quarter;
        }
      };
      return {
        update,
        done() {
          if (tty && lastDrawn) stderr.write('\n');
        },
      };
    },
  };
}

/** @typedef {ReturnType<typeof createOutput>} Output */

/**
 * @template T
 * @param {T[]} rows
 * @param {Column<T>[]} columns
 */
export function renderTable(rows, columns) {
  const cells = rows.map((row) => columns.map(([, cell]) => show(cell(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (/** @type {string[]} */ values) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

const isObject = (/** @type {unknown} */ v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (/** @type {unknown} */ v) => v === null || typeof v !== 'object';

/**
 * A value for people: fractions to four decimals, times without their milliseconds.
 * @param {unknown} value
 * @returns {string}
 */
function human(value) {
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toFixed(4)));
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return shortTime(value);
  if (Array.isArray(value) && value.every(isScalar)) return value.length ? value.map(human).join(',') : '-';
  return show(value);
}

/**
 * A row's cells by column: its scalars and lists of scalars, and one level of nested objects
 * as `parent.child`.
 * @param {Record<string, unknown>} row
 * @returns {[string, unknown][]}
 */
function cellsOf(row) {
  return Object.entries(row).flatMap(([key, value]) => {
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) return [[key, value]];
    if (isObject(value)) {
      return Object.entries(/** @type {Record<string, unknown>} */ (value))
        .filter(([, v]) => isScalar(v))
        .map(([k, v]) => /** @type {[string, unknown]} */ ([`${key}.${k}`, v]));
    }
    return [];
  });
}

/**
 * A table of objects: at most eight columns, in the order of the first rows; what does not
 * fit stays for --json.
 * @param {Record<string, unknown>[]} rows
 */
function autoTable(rows) {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => new Map(cellsOf(row)));
  /** @type {string[]} */
  const keys = [];
  for (const row of cells.slice(0, 20)) {
    for (const key of row.keys()) if (!keys.includes(key) && keys.length < 8) keys.push(key);
  }
  /** @type {Column<Map<string, unknown>>[]} */
  const columns = keys.map((key) => [key.replace(/_/g, ' '), (row) => human(row.get(key))]);
  return renderTable(cells, columns);
}

/**
 * @param {Record<string, unknown>} object
 * @param {string} indent
 * @returns {string}
 */
function keyValues(object, indent) {
  const entries = Object.entries(object);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries
    .map(([key, value]) => {
      /** @type {string} */
      const label = `${indent}${key.replace(/_/g, ' ').padEnd(width)}`;
      if (isObject(value) && Object.keys(/** @type {object} */ (value)).length > 0) {
        return `${label.trimEnd()}\n${keyValues(/** @type {Record<string, unknown>} */ (value), `${indent}  `)}`;
      }
      if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
        const table = autoTable(/** @type {Record<string, unknown>[]} */ (value));
        return `${label.trimEnd()}\n${table
          .trimEnd()
          .split('\n')
          .map((l) => `${indent}  ${l}`)
          .join('\n')}`;
      }
      return `${label}  ${human(value)}`;
    })
    .join('\n');
}

/**
 * What `out.auto` prints: a page of items (`{"models": […], "next_cursor": …}`) as a table with
 * the way to the next page, a list as a table, an object as key/value lines.
 * @param {unknown} data
 */
export function renderAuto(data) {
  if (Array.isArray(data)) return data.every(isObject) ? autoTable(data) : `${data.map(show).join('\n')}\n`;
  if (!isObject(data)) return `${show(data)}\n`;
  const object = /** @type {Record<string, unknown>} */ (data);
  const lists = Object.entries(object).filter(([, v]) => Array.isArray(v) && v.every(isObject));
  const rest = Object.entries(object).filter(([, v]) => !(Array.isArray(v) && v.every(isObject)));
  const firstList = /** @type {unknown[]} */ (lists[0]?.[1] ?? []);
  const page = lists.length === 1 && ('next_cursor' in object || firstList.length > 0);
  if (page && rest.every(([, v]) => isScalar(v))) {
    const [, rows] = /** @type {[string, Record<string, unknown>[]]} */ (lists[0]);
    const after = rest
      .filter(([, v]) => v !== null)
      .map(([k, v]) => (k === 'next_cursor' ? `more: --cursor ${v}` : `${k.replace(/_/g, ' ')}: ${human(v)}`));
    return `${autoTable(rows)}${after.map((l) => `${l}\n`).join('')}`;
  }
  return `${keyValues(object, '')}\n`;
}

/** @param {unknown} value */
export function show(value) {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** @param {string | null | undefined} iso */
export function shortTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}
