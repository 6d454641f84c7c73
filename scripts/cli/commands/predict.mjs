// @ts-check
/* Real-time predictions through the instances API. */
import { positiveInt, str } from '../context.mjs';
import { usage } from '../errors.mjs';
import { show } from '../output.mjs';
import { flatRecords, modelShape, recordsFromFile, recordsFromJson } from '../records.mjs';

/** @typedef {import('../args.mjs').Command} Command */

/** One request carries at most this many records by default (the API takes up to 10,000). */
const BATCH = 1000;

/**
 * @param {unknown} p
 * @returns {p is { label: unknown, probabilities: Record<string, number> }}
 */
const isClassification = (p) => typeof p === 'object' && p !== null && 'label' in p && 'probabilities' in p;

/**
 * The records of --data or --file; the model's signature is asked for only when the text alone
 * cannot say what a record is (a flat array, a CSV file).
 * @param {import('../client.mjs').Client} client
 * @param {string} name
 * @param {string | undefined} version
 * @param {Record<string, unknown>} values
 */
export async function readRecords(client, name, version, values) {
  const data = str(values.data);
  const shape = () => modelShape(client, name, version);
  if (data !== undefined) {
    const { records, flat } = recordsFromJson(data);
    return flat ? flatRecords(records, await shape()) : records;
  }
  const format = str(values.format);
  if (format !== undefined && format !== 'csv' && format !== 'jsonl') throw usage('--format is csv or jsonl');
  if (values.header && values['no-header']) throw usage('--header or --no-header, not both');
  const header = values.header ? true : values['no-header'] ? false : undefined;
  return recordsFromFile(String(values.file), format, { shape, header });
}

/** @type {Command[]} */
export const predictCommands = [
  {
    name: 'predict',
    group: 'Inference',
    operations: ['POST /v1/models/{name}/predict', 'POST /v1/models/{name}/versions/{version}/predict'],
    args: '<model>',
    summary: 'Predict with a model: records from --data JSON, or a CSV or JSON Lines file',
    notes: [
      'A record is an object keyed by feature name, an object keyed by input name, or an array in',
      "signature order: --data '[5.1, 3.5, 1.4, 0.2]' is one record (several values a record), and",
      "--data '[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]' two. A CSV file may start with a header row",
      'naming the features (or inputs); without one its columns are in signature order (--header or',
      '--no-header when the first row could be either). Records are sent in requests of --batch-size;',
      'the version is pinned by the first answer, so all rows meet the same version.',
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
      header: { type: 'boolean', description: 'The CSV file’s first row names the columns' },
      'no-header': { type: 'boolean', description: 'The CSV file’s first row is a record' },
      'batch-size': { type: 'string', value: 'N', description: `Records per request (default ${BATCH})` },
      'no-cache': { type: 'boolean', description: 'Recompute instead of answering from the prediction cache' },
    },
    async run({ client, args, values, out }) {
      const name = String(args[0]);
      const data = str(values.data);
      const file = str(values.file);
      if ((data === undefined) === (file === undefined)) throw usage('predict takes one of --data or --file');
      const records = await readRecords(client(), name, str(values.version), values);
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
