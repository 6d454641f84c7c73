#!/usr/bin/env python3
"""Predict with a modelflare model over the Open Inference Protocol (V2), standard library only.

    MODELFLARE_URL=http://127.0.0.1:8787 MODELFLARE_TOKEN=<key> python3 scripts/examples/infer.py

MODELFLARE_TOKEN is the admin key, or an API key with the `predict` and `models:read` scopes.
MODEL (default: iris, the demo model `npm start` registers) is asked for its input's name and
datatype, then scores two flowers. Exits 1 with the server's message when a call fails.
"""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("MODELFLARE_URL", "http://127.0.0.1:8787").rstrip("/")
TOKEN = os.environ.get("MODELFLARE_TOKEN", "")
MODEL = os.environ.get("MODEL", "iris")
CLASSES = ["setosa", "versicolor", "virginica"]


def call(method, path, body=None):
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        # V2 errors are {"error": "..."}, naming the offending input.
        try:
            message = json.load(err).get("error", err.reason)
        except ValueError:
            message = err.reason
        sys.exit(f"{method} {path}: HTTP {err.code}: {message}")
    except urllib.error.URLError as err:
        sys.exit(f"cannot reach {BASE}: {err.reason}")


def main():
    metadata = call("GET", f"/v2/models/{MODEL}")
    first = metadata["inputs"][0]
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    answer = call(
        "POST",
        f"/v2/models/{MODEL}/infer",
        {
            "id": "python-example",
            "inputs": [
                {
                    "name": first["name"],
                    "datatype": first["datatype"],
                    "shape": [len(rows), len(rows[0])],
                    "data": [value for row in rows for value in row],  # flat, row-major
                }
            ],
        },
    )
    outputs = {output["name"]: output for output in answer["outputs"]}
    labels = outputs["label"]["data"]
    width = outputs["probabilities"]["shape"][1]
    probabilities = outputs["probabilities"]["data"]
    print(f"{answer['model_name']} version {answer['model_version']}")
    for i, row in enumerate(rows):
        label = labels[i]
        p = probabilities[i * width + label]
        name = CLASSES[label] if label < len(CLASSES) else str(label)
        print(f"{row} -> {name} (p={p:.4f})")


if __name__ == "__main__":
    main()
