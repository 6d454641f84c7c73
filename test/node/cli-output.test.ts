import { describe, expect, it } from 'vitest';
import { createOutput, renderTable } from '../../scripts/cli/output.mjs';
import { parseCsv, recordsFromJson } from '../../scripts/cli/records.mjs';

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
    expect(parseCsv('a,b,label\r\n1,2.5,"x, ""y"""\r\n-3,1e3,\n')).toEqual([
      { a: 1, b: 2.5, label: 'x, "y"' },
      { a: -3, b: 1000, label: '' },
    ]);
    expect(() => parseCsv('a,b\n1\n')).toThrow('CSV row 2 has 1 cells, the header has 2');
  });

  it('takes a record, an array of records or an instances body as --data', () => {
    expect(recordsFromJson('{"a": 1}')).toEqual([{ a: 1 }]);
    expect(recordsFromJson('[[1, 2]]')).toEqual([[1, 2]]);
    expect(recordsFromJson('{"instances": [[1]]}')).toEqual([[1]]);
    expect(() => recordsFromJson('[')).toThrow('--data is not valid JSON');
  });
});
