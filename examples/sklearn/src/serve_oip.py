"""A tiny Open Inference Protocol (KServe v2) REST server for the scikit-learn model itself.

`cairn serve` runs ONNX models in-process; for a model that is not ONNX (this joblib pickle, a
PyTorch script) its `process` runtime starts a command like this one with $PORT set, waits for
GET /v2/health/ready, restarts it if it dies, and proxies requests to it. Standard library and
scikit-learn only. Usage: PORT=9000 python3 src/serve_oip.py model/model.joblib [name]
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import joblib
import pandas as pd

from features import CATEGORY, NUMERIC

MODEL_PATH = sys.argv[1]
NAME = sys.argv[2] if len(sys.argv) > 2 else "churn-classifier"
MODEL = joblib.load(MODEL_PATH)
MAX_BODY = 16 * 1024 * 1024

METADATA = {
    "name": NAME,
    "versions": ["1"],
    "platform": "sklearn_joblib",
    "inputs": [
        {"name": "numeric", "datatype": "FP32", "shape": [-1, len(NUMERIC)]},
        {"name": "category", "datatype": "BYTES", "shape": [-1, 1]},
    ],
    "outputs": [
        {"name": "label", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
    ],
}


class BadRequest(Exception):
    pass


def flatten(data):
    if isinstance(data, list):
        return [x for item in data for x in flatten(item)]
    return [data]


def infer(request):
    inputs = {i.get("name"): i for i in request.get("inputs", []) if isinstance(i, dict)}
    for spec in METADATA["inputs"]:
        if spec["name"] not in inputs:
            raise BadRequest(f"missing input '{spec['name']}' ({spec['datatype']} {spec['shape']})")
    numeric = flatten(inputs["numeric"].get("data", []))
    category = flatten(inputs["category"].get("data", []))
    rows = len(category)
    if rows == 0 or len(numeric) != rows * len(NUMERIC):
        raise BadRequest(f"input 'numeric' must hold {len(NUMERIC)} values per row of 'category'")
    frame = pd.DataFrame(
        [numeric[r * len(NUMERIC):(r + 1) * len(NUMERIC)] for r in range(rows)], columns=NUMERIC
    )
    frame[CATEGORY] = [str(c) for c in category]
    probabilities = MODEL.predict_proba(frame[[*NUMERIC, CATEGORY]])
    labels = probabilities.argmax(axis=1)
    return {
        "model_name": NAME,
        "model_version": "1",
        "id": request.get("id", ""),
        "outputs": [
            {"name": "label", "datatype": "INT64", "shape": [rows], "data": [int(x) for x in labels]},
            {
                "name": "probabilities",
                "datatype": "FP32",
                "shape": [rows, 2],
                "data": [float(p) for row in probabilities for p in row],
            },
        ],
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/v2/health/live", "/v2/health/ready", f"/v2/models/{NAME}/ready"):
            self.answer(200)
        elif self.path == f"/v2/models/{NAME}":
            self.answer(200, METADATA)
        else:
            self.answer(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self.answer(413, {"error": f"body over {MAX_BODY} bytes"})
        body = self.rfile.read(length)
        if self.path not in (f"/v2/models/{NAME}/infer", f"/v2/models/{NAME}/versions/1/infer"):
            return self.answer(404, {"error": f"unknown model route {self.path}"})
        try:
            self.answer(200, infer(json.loads(body)))
        except (BadRequest, ValueError, TypeError, AttributeError) as error:
            self.answer(400, {"error": str(error)})

    def log_message(self, format, *args):  # keep stdout quiet; cairn logs requests
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.serve_forever()
