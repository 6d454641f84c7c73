// @ts-check
/*
 * Records from the command line: --data JSON, CSV (the header row names the features) and
 * JSON Lines files, as the instances API and batch jobs take them.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { usage } from './errors.mjs';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * `[{…}, …]`, `{"instances": […]}` or a single record.
 * @param {string} text
 * @returns {unknown[]}
 */
export function recordsFromJson(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw usage(`--data is not valid JSON: ${/** @type {Error} */ (err).message}`);
  }
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object' && Array.isArray(data.instances)) return data.instances;
  return [data];
}

/**
 * @param {string} path a file, or `-` for standard input
 * @param {string} [format] csv or jsonl; by default from the file's extension
 * @returns {unknown[]}
 */
export function recordsFromFile(path, format) {
  const kind = format ?? formatOf(path);
  const text = readText(path);
  if (kind === 'csv') return parseCsv(text);
  if (kind === 'jsonl') return parseJsonl(text, path);
  throw usage(`cannot tell the format of ${path}: use --format csv or --format jsonl`);
}

/** @param {string} path */
export function formatOf(path) {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

/** @param {string} path */
export function readText(path) {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw usage(`cannot read ${path}: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * @param {string} text
 * @param {string} path
 */
export function parseJsonl(text, path) {
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line)];
    } catch {
      throw usage(`${path} line ${i + 1} is not valid JSON`);
    }
  });
}

/**
 * CSV per RFC 4180 (quoted fields, "" inside quotes, CRLF or LF). The header row names the
 * features; numeric cells become numbers, the rest stay strings.
 * @param {string} text
 * @returns {Record<string, string | number>[]}
 */
export function parseCsv(text) {
  const rows = csvRows(text).filter((r) => !(r.length === 1 && r[0] === ''));
  const [header, ...body] = rows;
  if (!header) throw usage('the CSV file is empty: it needs a header row of feature names');
  return body.map((cells, i) => {
    if (cells.length !== header.length) {
      throw usage(`CSV row ${i + 2} has ${cells.length} cells, the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((name, j) => [name.trim(), cellValue(cells[j] ?? '')]));
  });
}

/** @param {string} cell */
function cellValue(cell) {
  const trimmed = cell.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : cell;
}

/** @param {string} text */
function csvRows(text) {
  /** @type {string[][]} */
  const rows = [];
  /** @type {string[]} */
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
