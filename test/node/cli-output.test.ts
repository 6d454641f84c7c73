import { describe, expect, it } from 'vitest';
import { ApiError } from '../../scripts/cli/errors.mjs';
import { createOutput, renderAuto, renderTable } from '../../scripts/cli/output.mjs';
import { csvRecords, flatRecords, recordsFromJson } from '../../scripts/cli/records.mjs';
import { closest, closestCommands, distance } from '../../scripts/cli/suggest.mjs';

const IRIS = { featureNames: ['a', 'b', 'label'], inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }] };
const NO_NAMES = { featureNames: null, inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }] };
const ONE_VALUE = { featureNames: null, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }] };
const TWO_INPUTS = {
  featureNames: null,
  inputs: [
    { name: 'age', datatype: 'FP32', shape: [-1, 1] },
    { name: 'city', datatype: 'BYTES', shape: [-1] },
  ],
};

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('CLI output', () => {
  it('draws a progress bar on a terminal and plain quarter lines elsewhere', () => {
    const tty = sink(true);
    const bar = createOutput({ json: false, quiet: false, stdout: sink(false).stream, stderr: tty.stream }).progress(
      'up',
      200,
    );
    bar.update(0);
    bar.update(100);
    bar.update(200);
    bar.done();
    expect(tty.text()).toContain('\rup [###############---------------] 50% 100/200');
    expect(tty.text().endsWith(`\rup [${'#'.repeat(30)}] 100% 200/200\x1b[K\n`)).toBe(true);

    const pipe = sink(false);
    const lines = createOutput({ json: false, quiet: false, stderr: pipe.stream }).progress('up', 4);
    for (const n of [0, 1, 1, 2, 3, 4]) lines.update(n);
    expect(pipe.text()).toBe('up: 0% 0/4\nup: 25% 1/4\nup: 50% 2/4\nup: 75% 3/4\nup: 100% 4/4\n');

    const json = sink(false);
    createOutput({ json: true, quiet: false, stderr: json.stream }).progress('up', 4).update(4);
    expect(json.text()).toBe('');
  });

  it('prints JSON or a table', () => {
    const out = sink(false);
    const rows = [
      { name: 'iris', version: 3, note: null },
      { name: 'a-much-longer-name', version: 12, note: { a: 1 } },
    ];
    createOutput({ json: true, quiet: false, stdout: out.stream }).result(rows, () => {
      throw new Error('not in --json mode');
    });
    expect(JSON.parse(out.text())).toEqual(rows);
    expect(
      renderTable(rows, [
        ['name', (r) => r.name],
        ['version', (r) => r.version],
        ['note', (r) => r.note],
      ]),
    ).toBe('NAME                VERSION  NOTE\niris                3        -\na-much-longer-name  12       {"a":1}\n');
  });
});

describe('CLI records', () => {
  it('reads CSV with a header row, quotes and CRLF', () => {
    expect(csvRecords('a,b,label\r\n1,2.5,"x, ""y"""\r\n-3,1e3,\n', IRIS)).toEqual([
      { a: 1, b: 2.5, label: 'x, "y"' },
      { a: -3, b: 1000, label: '' },
    ]);
    expect(() => csvRecords('a,b\n1\n', IRIS)).toThrow('CSV row 2 has 1 cells, the header has 2');
    expect(() => csvRecords('\n')).toThrow('the CSV file is empty');
  });

  it('reads a CSV file without a header as records in signature order', () => {
    // A model without feature names: the first row is data, not names.
    expect(csvRecords('5.1,3.5\n6.7,3.0\n', NO_NAMES)).toEqual([
      [5.1, 3.5],
      [6.7, 3.0],
    ]);
    // Numbers in the first row of a model with names: still data.
    expect(csvRecords('1,2,3\n', IRIS)).toEqual([[1, 2, 3]]);
    // One value a record, or one cell per input (wrapped for a [batch, 1] input).
    expect(csvRecords('1\n2\n', ONE_VALUE)).toEqual([1, 2]);
    expect(csvRecords('41,Oslo\n', TWO_INPUTS)).toEqual([[[41], 'Oslo']]);
    expect(csvRecords('age,city\n41,Oslo\n', TWO_INPUTS)).toEqual([{ age: [41], city: 'Oslo' }]);
    // Told, not guessed: a first row of words that is data.
    expect(csvRecords('41,Oslo\n', TWO_INPUTS, false)).toEqual([[[41], 'Oslo']]);
    expect(csvRecords('x\n7\n', ONE_VALUE, true)).toEqual([{ x: 7 }]);
    expect(() => csvRecords('1,2,3\n', TWO_INPUTS)).toThrow(
      'CSV row 1 has 3 cells but the model has 2 inputs (age, city)',
    );
    expect(() => csvRecords('1,2\n', ONE_VALUE)).toThrow('the model takes one value a row');
    expect(() => csvRecords('1,2\n', undefined, false)).toThrow('needs the model');
  });

  it('takes a record, an array of records, a flat record or an instances body as --data', () => {
    expect(recordsFromJson('{"a": 1}')).toEqual({ records: [{ a: 1 }], flat: false });
    expect(recordsFromJson('[[1, 2]]')).toEqual({ records: [[1, 2]], flat: false });
    expect(recordsFromJson('{"instances": [[1]]}')).toEqual({ records: [[1]], flat: false });
    expect(recordsFromJson('[5.1, 3.5]')).toEqual({ records: [5.1, 3.5], flat: true });
    expect(() => recordsFromJson('[')).toThrow('--data is not valid JSON');
    // A flat array is one record, unless the model takes one value a record.
    expect(flatRecords([5.1, 3.5], NO_NAMES)).toEqual([[5.1, 3.5]]);
    expect(flatRecords([1, 2, 3], ONE_VALUE)).toEqual([1, 2, 3]);
  });
});

describe('CLI did-you-mean', () => {
  it('measures edits, transpositions counting one', () => {
    expect(distance('models', 'models')).toBe(0);
    expect(distance('modles', 'models')).toBe(1);
    expect(distance('iris', 'irs')).toBe(1);
    expect(distance('', 'abc')).toBe(3);
  });

  it('suggests the closest names and commands, and nothing far off', () => {
    expect(closest('irs', ['iris', 'churn', 'iris-v2'])).toEqual(['iris']);
    expect(closest('zzzzzz', ['iris', 'churn'])).toEqual([]);
    const names = ['models list', 'models show', 'jobs list', 'predict'];
    expect(closestCommands(['modles', 'list'], names)).toEqual(['models list']);
    expect(closestCommands(['predcit', 'iris'], names)).toEqual(['predict']);
    expect(closestCommands(['frobnicate'], names)).toEqual([]);
  });
});

describe('CLI answers', () => {
  it('renders any JSON answer: pages as tables with the next cursor, objects as key/value lines', () => {
    expect(renderAuto({ items: [{ id: 'a', n: 1.23456, nested: { p50: 2 } }], next_cursor: 'c2' })).toBe(
      'ID  N       NESTED.P50\na   1.2346  2\nmore: --cursor c2\n',
    );
    expect(renderAuto({ name: 'iris', ready: true, at: '2026-01-02T03:04:05.678Z', tags: ['a', 'b'] })).toBe(
      'name   iris\nready  true\nat     2026-01-02 03:04:05Z\ntags   a,b\n',
    );
    expect(renderAuto({ items: [], next_cursor: null })).toBe('(none)\n');
    expect(renderAuto({ name: 'modelflare', extensions: [] })).toBe('name        modelflare\nextensions  -\n');
  });

  it('names what came back when an error answer is not the API’s', () => {
    const page = new ApiError(502, '<html><title>502 Bad Gateway</title></html>', {
      contentType: 'text/html',
      url: 'https://api.example.com/v1/models',
    });
    expect(page.message).toBe(
      'the server answered HTTP 502 with text/html, not an API error (a page titled "502 Bad Gateway") from https://api.example.com',
    );
    expect(page.exitCode).toBe(3);
    const api = new ApiError(
      404,
      '{"error": {"code": "model_not_found", "message": "model \'x\' not found", "request_id": "req_1"}}',
    );
    expect(api.message).toBe("model 'x' not found (HTTP 404, model_not_found, request req_1)");
    expect(new ApiError(400, '{"error": "bad tensor"}').message).toBe('bad tensor (HTTP 400)');
  });
});
