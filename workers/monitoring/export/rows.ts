/*
 * A logged prediction as rows a team can retrain from: one per predicted row, with that row's
 * input, what the model predicted and the true value reported (null until feedback came).
 * JSON Lines carries the input as it was sent (a record, or per tensor the row's values);
 * CSV flattens it into one column per feature.
 */

export interface LoggedForExport {
  id: string;
  model: string;
  version: number;
  requestId: string;
  rows: number;
  inputs: string;
  predicted: unknown[] | null;
  createdAt: number;
}

export interface FeedbackForExport {
  row: number;
  actual: unknown;
  createdAt: number;
}

export interface ExportRow {
  prediction_id: string;
  row: number;
  created_at: string;
  model: string;
  version: number;
  request_id: string;
  /** The row's input: a record as sent, or `{tensor: values}`; null when the log kept none. */
  input: unknown;
  predicted: unknown;
  actual: unknown;
  feedback_at: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function flat(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value];
}

/** The input of each row, from the request as logged; nulls where it cannot be split by row. */
export function inputsByRow(inputsJson: string, rows: number): unknown[] {
  const none = () => new Array<unknown>(rows).fill(null);
  let logged: unknown;
  try {
    logged = JSON.parse(inputsJson);
  } catch {
    return none();
  }
  if (!isRecord(logged)) return none();
  if (Array.isArray(logged.instances) && logged.instances.length === rows) return logged.instances;
  if (!Array.isArray(logged.inputs)) return none();
  const perRow: Record<string, unknown[]>[] = Array.from({ length: rows }, () => ({}));
  for (const tensor of logged.inputs) {
    if (!isRecord(tensor) || typeof tensor.name !== 'string' || !Array.isArray(tensor.shape)) return none();
    // Tensors sent as binary data are not in the log.
    if (tensor.data === undefined || tensor.shape[0] !== rows) return none();
    const values = flat(tensor.data);
    if (rows === 0 || values.length % rows !== 0) return none();
    const width = values.length / rows;
    for (let r = 0; r < rows; r++) perRow[r]![tensor.name] = values.slice(r * width, (r + 1) * width);
  }
  return perRow;
}

export function exportRows(log: LoggedForExport, feedback: FeedbackForExport[]): ExportRow[] {
  const inputs = inputsByRow(log.inputs, log.rows);
  const truth = new Map(feedback.map((f) => [f.row, f]));
  return Array.from({ length: log.rows }, (_, row) => {
    const f = truth.get(row);
    return {
      prediction_id: log.id,
      row,
      created_at: new Date(log.createdAt).toISOString(),
      model: log.model,
      version: log.version,
      request_id: log.requestId,
      input: inputs[row] ?? null,
      predicted: log.predicted?.[row] ?? null,
      actual: f ? f.actual : null,
      feedback_at: f ? new Date(f.createdAt).toISOString() : null,
    };
  });
}

/** An input as named columns: a record's keys, an array's positions, a tensor's elements. */
export function inputColumns(input: unknown, featureNames: string[] | null): [string, unknown][] {
  let columns: [string, unknown][];
  let positional = false;
  if (Array.isArray(input)) {
    columns = flat(input).map((v, i) => [`input_${i}`, v]);
    positional = true;
  } else if (isRecord(input)) {
    columns = Object.entries(input).flatMap(([key, value]): [string, unknown][] => {
      const values = flat(value);
      return values.length === 1 ? [[key, values[0]]] : values.map((v, i) => [`${key}_${i}`, v]);
    });
    positional = Object.values(input).every(Array.isArray) && Object.keys(input).length === 1;
  } else {
    return [];
  }
  // A lone [batch, F] tensor or an array row of F values: named by the model's features.
  if (positional && featureNames && featureNames.length === columns.length) {
    columns = columns.map(([, v], i) => [featureNames[i]!, v]);
  }
  return columns;
}

const FIXED_COLUMNS = ['prediction_id', 'row', 'created_at', 'version', 'request_id'] as const;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV lines with one header, whose feature columns are the first row's: a later row fills the
 * columns it shares with them (a model's inputs do not change between its rows).
 */
export class CsvWriter {
  private features: string[] | null = null;

  constructor(private readonly featureNames: string[] | null) {}

  lines(rows: ExportRow[]): string {
    let out = '';
    for (const row of rows) {
      const columns = new Map(inputColumns(row.input, this.featureNames));
      if (this.features === null) {
        this.features = [...columns.keys()];
        out += `${[...FIXED_COLUMNS, ...this.features, 'predicted', 'actual'].map(csvCell).join(',')}\n`;
      }
      const cells = [
        ...FIXED_COLUMNS.map((c) => row[c]),
        ...this.features.map((f) => columns.get(f)),
        row.predicted,
        row.actual,
      ];
      out += `${cells.map(csvCell).join(',')}\n`;
    }
    return out;
  }

  /** What an export with no rows at all is: just the fixed header. */
  emptyHeader(): string {
    return this.features === null ? `${[...FIXED_COLUMNS, 'predicted', 'actual'].join(',')}\n` : '';
  }
}

export const jsonLines = (rows: ExportRow[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
