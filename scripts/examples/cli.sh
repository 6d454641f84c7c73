#!/usr/bin/env bash
# From an ONNX file to predictions and a finished batch job with the modelflare CLI; the model
# it made is deleted again at the end (also when a step fails).
#
#   npm start                                   # in another terminal: the local server
#   export MODELFLARE_TOKEN=$(grep ADMIN_API_KEY .dev.vars | cut -d= -f2)
#   bash scripts/examples/cli.sh
#
# Against another server set MODELFLARE_URL too, or run `modelflare login` once instead.
# With `npm link` done, `modelflare` is on your PATH; here it runs from the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
modelflare() { node scripts/cli/modelflare.mjs "$@"; }

MODEL=${MODEL:-iris-$(date +%s)}
WORK=$(mktemp -d)
CREATED=
cleanup() {
  # Only a model this script created: never one that was there before.
  if [ -n "$CREATED" ]; then modelflare models delete "$MODEL" --yes; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A model to serve: the demo classifier (any ONNX file will do).
node scripts/demo-model.mjs "$WORK/iris.onnx"

# Metadata first, so records can be keyed by feature and answers carry class labels.
modelflare models create "$MODEL" --task classification \
  --feature-names sepal_length,sepal_width,petal_length,petal_width \
  --class-labels setosa,versicolor,virginica
CREATED=1
modelflare models push "$WORK/iris.onnx" --name "$MODEL" --alias production --metric accuracy=0.97
modelflare models show "$MODEL"

# Real-time predictions: a record (keyed by feature, or its values in order), or a CSV file
# whose header names the features.
modelflare predict "$MODEL" --data '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}'
modelflare predict "$MODEL" --data '[6.7, 3.0, 5.2, 2.3]'
printf 'sepal_length,sepal_width,petal_length,petal_width\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n' > "$WORK/flowers.csv"
modelflare predict "$MODEL" --file "$WORK/flowers.csv"

# A batch job over a JSON Lines file: upload, submit, wait (exit 4 unless it succeeds), results.
printf '%s\n' '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}' \
  '[6.7, 3.0, 5.2, 2.3]' '[5.9, 3.0, 4.2, 1.5]' > "$WORK/rows.jsonl"
JOB=$(modelflare jobs submit "$MODEL" --file "$WORK/rows.jsonl" --json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).id')
modelflare jobs wait "$JOB"
modelflare jobs results "$JOB"
