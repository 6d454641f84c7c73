/*
 * The one logger: JSON lines, one per event, reaching code through deps. Fields are flat
 * primitives, so a request body, a tensor or a query's bound parameters cannot ride along by
 * accident; a line never exceeds MAX_LINE_CHARS (long values are cut, saying how long they were).
 */
export type LogLevel = 'info' | 'warn' | 'error';
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (a request id, a queue name). */
  with(fields: LogFields): Logger;
}

export type LogSink = (level: LogLevel, line: string) => void;

export const MAX_LINE_CHARS = 8192;
/** Longest single value kept whole; an error message or a stack is cut past it. */
const MAX_VALUE_CHARS = 2048;

const consoleSink: LogSink = (level, line) => {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

const cut = (value: string, max: number) =>
  value.length <= max ? value : `${value.slice(0, max)}… (${value.length} chars)`;

function format(level: LogLevel, msg: string, base: LogFields, fields: LogFields | undefined): string {
  // The event's own level and message come last so no field can overwrite them.
  const record: LogFields = { ...base, ...fields, level, msg };
  let line = JSON.stringify(record);
  if (line.length <= MAX_LINE_CHARS) return line;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') record[key] = cut(value, MAX_VALUE_CHARS);
  }
  line = JSON.stringify(record);
  if (line.length <= MAX_LINE_CHARS) return line;
  return JSON.stringify({ level, msg: cut(msg, 512), truncated: line.length });
}

export function createLogger(sink: LogSink = consoleSink, base: LogFields = {}): Logger {
  return {
    info: (msg, fields) => sink('info', format('info', msg, base, fields)),
    warn: (msg, fields) => sink('warn', format('warn', msg, base, fields)),
    error: (msg, fields) => sink('error', format('error', msg, base, fields)),
    with: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}

/*
 * drizzle wraps a failed statement as "Failed query: <sql>\nparams: <values>": the values are
 * what a tenant sent or stored (a failed prediction-log insert once printed a 2.6 MB line of a
 * request's inputs and outputs). Only the driver's own reason (the cause, D1's code and
 * message) is kept, and anything after a "params:" is cut from any message.
 */
const FAILED_QUERY = /^Failed query:/;
const PARAMS = /\bparams:/;
/** Longest error message kept: a driver's reason fits, a payload does not. */
const MAX_REASON_CHARS = 300;

/**
 * An error as a log may show it: its class, code and reason, never a query's parameters. With
 * `stack`, the frames too (without the stack's first line, which repeats the raw message).
 */
export function errorFields(err: unknown, { stack = false } = {}): LogFields {
  if (!(err instanceof Error)) return { error: cut(String(err), MAX_VALUE_CHARS) };
  let reason = err.message;
  if (FAILED_QUERY.test(reason)) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    reason = `query failed${cause ? `: ${cause}` : ''}`;
  }
  const params = reason.search(PARAMS);
  if (params >= 0) reason = reason.slice(0, params).trim();
  // drizzle's errors keep the name 'Error'; their class says what they are.
  const name = err.name !== 'Error' ? err.name : err.constructor.name || err.name;
  const code = (err as { code?: unknown }).code;
  return {
    error: cut(`${name}: ${reason}`, MAX_REASON_CHARS),
    error_code: typeof code === 'string' ? code : undefined,
    stack:
      stack && err.stack && !FAILED_QUERY.test(err.message)
        ? cut(err.stack.split('\n').slice(1).join('\n'), MAX_VALUE_CHARS)
        : undefined,
  };
}
