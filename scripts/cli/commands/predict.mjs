// @ts-check
/* Real-time predictions through the instances API. */
import { positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { show } from '../output.mjs';
import { recordsFromFile, recordsFromJson } from '../records.mjs';

/** @typedef {import('../args.mjs').Command} Command */

/** One request carries at most this many records by default (the API takes up to 10,000). */
const BATCH = 1000;

/**
 * @param {unknown} p
 * @returns {p is { label: unknown, probabilities: Record<string, number> }}
 */
const isClassification = (p) => typeof p === 'object' && p !== null && 'label' in p && 'probabilities' in p;

/** @type {Command[]} */
export const predictCommands = [
  {
    name: 'predict',
    args: '<model>',
    summary: 'Predict with a model: records from --data JSON, or a CSV or JSON Lines file',
    notes: [
      'A record is an object keyed by feature name, an object keyed by input name, or an array in',
      'signature order. A CSV file’s header row names the features. Records are sent in requests of',
      '--batch-size; the version is pinned by the first answer, so all rows meet the same version.',
    ].join('\n'),
    options: {
      version: {
        type: 'string',
        value: 'V',
        description: 'A version number or alias (default: production, else latest)',
      },
      data: { type: 'string', value: 'JSON', description: 'A record, an array of records, or {"instances": […]}' },
      file: { type: 'string', value: 'FILE', description: 'A .csv or .jsonl file of records (- for standard input)' },
      format: { type: 'string', value: 'F', description: 'csv or jsonl, when the file name does not tell' },
      'batch-size': { type: 'string', value: 'N', description: `Records per request (default ${BATCH})` },
      'no-cache': { type: 'boolean', description: 'Recompute instead of answering from the prediction cache' },
    },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      const data = str(values.data);
      const file = str(values.file);
      if ((data === undefined) === (file === undefined)) throw usage('predict takes one of --data or --file');
      const format = str(values.format);
      if (format !== undefined && format !== 'csv' && format !== 'jsonl') throw usage('--format is csv or jsonl');
      const records = data !== undefined ? recordsFromJson(data) : recordsFromFile(String(file), format);
      if (records.length === 0) throw usage('no records to predict');
      const batch = positiveInt(values['batch-size'], 'batch-size', BATCH) ?? BATCH;
      const headers = values['no-cache'] ? { 'cache-control': 'no-cache' } : undefined;

      let version = str(values.version);
      /** @type {unknown[]} */
      const predictions = [];
      let answer;
      for (let start = 0; start < records.length; start += batch) {
        const instances = records.slice(start, start + batch);
        answer = version
          ? await client().request('post', '/v1/models/{name}/versions/{version}/predict', {
              params: { name, version },
              body: { instances },
              headers,
            })
          : await client().request('post', '/v1/models/{name}/predict', {
              params: { name },
              body: { instances },
              headers,
            });
        version = String(answer.model_version);
        predictions.push(...answer.predictions);
      }
      const result = { predictions, model: answer?.model ?? name, model_version: Number(version) };
      out.result(result, () => {
        out.note(`${result.model} version ${result.model_version}, ${predictions.length} prediction(s)`);
        const rows = predictions.map((prediction, index) => ({ index, prediction }));
        if (predictions.every(isClassification)) {
          out.table(rows, [
            ['#', (r) => r.index],
            ['label', (r) => /** @type {{ label: unknown }} */ (r.prediction).label],
            [
              'probability',
              (r) => {
                const p = /** @type {{ label: unknown, probabilities: Record<string, number> }} */ (r.prediction);
                return p.probabilities[String(p.label)]?.toFixed(4);
              },
            ],
          ]);
        } else {
          out.table(rows, [
            ['#', (r) => r.index],
            ['prediction', (r) => show(r.prediction)],
          ]);
        }
      });
    },
  },
];
