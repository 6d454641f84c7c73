// @ts-check
/*
 * Records from the command line: --data JSON, CSV and JSON Lines files, as the instances API
 * and batch jobs take them. Where the text alone is ambiguous (a flat array: one record or
 * several? a CSV's first row: names or values?) the model's signature decides (modelShape).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { usage } from './errors.mjs';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * @typedef {object} ModelShape what records of a model look like
 * @property {string[] | null} featureNames
 * @property {{ name: string, datatype: string, shape: number[] }[]} inputs the version's inputs, in signature order
 */

/**
 * The feature names and inputs of the version a request will meet: --version, else
 * production, else the latest (as predictions and jobs choose).
 * @param {import('./client.mjs').Client} client
 * @param {string} name
 * @param {string} [version]
 * @returns {Promise<ModelShape>}
 */
export async function modelShape(client, name, version) {
  const model = await client.request('get', '/v1/models/{name}', { params: { name } });
  const chosen = version ?? ('production' in model.aliases ? 'production' : 'latest');
  const v = await client.request('get', '/v1/models/{name}/versions/{version}', { params: { name, version: chosen } });
  return { featureNames: v.feature_names ?? model.feature_names ?? null, inputs: v.signature.inputs };
}

/**
 * What --data holds: `[{…}, …]`, `{"instances": […]}`, a single record (an object), or a flat
 * array of values, which is one record in signature order unless the model takes one value a
 * record (`flat`: the caller decides with the model's shape, see flatRecords).
 * @param {string} text
 * @returns {{ records: unknown[], flat: boolean }}
 */
export function recordsFromJson(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw usage(`--data is not valid JSON: ${/** @type {Error} */ (err).message}`);
  }
  if (Array.isArray(data)) {
    const flat = data.length > 0 && data.every((v) => v === null || typeof v !== 'object');
    return { records: data, flat };
  }
  if (data && typeof data === 'object' && Array.isArray(data.instances))
    return { records: data.instances, flat: false };
  return { records: [data], flat: false };
}

/**
 * Values a record takes for each input: [] for a scalar, [n] for a vector (the shape without
 * its batch dimension).
 * @param {ModelShape} shape
 */
const perRecord = (shape) => shape.inputs.map((input) => input.shape.slice(1));

/**
 * A flat array of values: one record, unless the model's one input takes a single value a
 * record, when each value is a record.
 * @param {unknown[]} values
 * @param {ModelShape} shape
 */
export function flatRecords(values, shape) {
  const dims = perRecord(shape);
  return dims.length === 1 && dims[0]?.length === 0 ? values : [values];
}

/**
 * @param {string} path a file, or `-` for standard input
 * @param {string} [format] csv or jsonl; by default from the file's extension
 * @param {{ shape?: () => Promise<ModelShape>, header?: boolean }} [csv] for CSV: the model, and whether the first row names the columns
 * @returns {Promise<unknown[]>}
 */
export async function recordsFromFile(path, format, csv = {}) {
  const kind = format ?? formatOf(path);
  const text = readText(path);
  if (kind === 'csv') return csvRecords(text, csv.shape ? await csv.shape() : undefined, csv.header);
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
 * CSV records. With a header row (the model's feature names or input names), each row is an
 * object keyed by them; without one, each row is a record in signature order. Whether the first
 * row is a header: `header` when given, else yes when its cells are all names the model knows,
 * no when they are all numbers; words it does not know are a header (the API then names them)
 * unless the model takes text (BYTES). Numeric cells become numbers, the rest stay strings.
 * @param {string} text
 * @param {ModelShape} [shape] the model (without it, the first row is the header)
 * @param {boolean} [header]
 * @returns {unknown[]}
 */
export function csvRecords(text, shape, header) {
  const rows = csvRows(text).filter((r) => !(r.length === 1 && r[0] === ''));
  const [first] = rows;
  if (!first) throw usage('the CSV file is empty');
  const names = new Set([...(shape?.featureNames ?? []), ...(shape?.inputs.map((i) => i.name) ?? [])]);
  const allNames = first.every((cell) => names.has(cell.trim()));
  const allNumbers = first.every((cell) => NUMBER.test(cell.trim()));
  // Words the model does not know as names are a header, unless the model takes text.
  const takesText = shape?.inputs.some((i) => i.datatype === 'BYTES') ?? false;
  const hasHeader = header ?? (!shape || allNames || (!allNumbers && !takesText));
  if (hasHeader) {
    const columns = first.map((c) => c.trim());
    return rows.slice(1).map((cells, i) => {
      if (cells.length !== columns.length) {
        throw usage(`CSV row ${i + 2} has ${cells.length} cells, the header has ${columns.length}`);
      }
      return Object.fromEntries(columns.map((name, j) => [name, inputValue(shape, name, cellValue(cells[j] ?? ''))]));
    });
  }
  if (!shape) throw usage('a CSV file without a header row needs the model, to put its columns in signature order');
  return rows.map((cells, i) => signatureRecord(shape, cells.map(cellValue), i + 1));
}

/**
 * A header cell that names an input of one value in a vector ([batch, 1]) gets it as [v].
 * @param {ModelShape | undefined} shape
 * @param {string} column
 * @param {unknown} value
 */
function inputValue(shape, column, value) {
  const input = shape?.inputs.find((i) => i.name === column);
  return input && input.shape.length === 2 && input.shape[1] === 1 ? [value] : value;
}

/**
 * One headerless CSV row as a record in signature order: the row itself for a model with one
 * vector input, one cell per input for a model of several one-value inputs.
 * @param {ModelShape} shape
 * @param {unknown[]} cells
 * @param {number} line
 */
function signatureRecord(shape, cells, line) {
  const dims = perRecord(shape);
  if (dims.length === 1) {
    const [only] = dims;
    if (only?.length === 0) {
      if (cells.length !== 1) throw usage(`CSV row ${line} has ${cells.length} cells; the model takes one value a row`);
      return cells[0];
    }
    return cells;
  }
  if (cells.length !== dims.length) {
    throw usage(
      `CSV row ${line} has ${cells.length} cells but the model has ${dims.length} inputs (${shape.inputs.map((i) => i.name).join(', ')}); give a header row naming them, or use JSON Lines`,
    );
  }
  return cells.map((cell, k) => {
    const d = dims[k] ?? [];
    if (d.length === 0) return cell;
    if (d.length === 1 && d[0] === 1) return [cell];
    throw usage(
      `input '${shape.inputs[k]?.name}' takes [${d.join(', ')}] values a record, more than a CSV cell holds; use JSON Lines`,
    );
  });
}

/** @param {string} cell */
function cellValue(cell) {
  const trimmed = cell.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : cell;
}

/**
 * CSV per RFC 4180 (quoted fields, "" inside quotes, CRLF or LF).
 * @param {string} text
 */
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
