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
      if (options.json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else human(data);
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
