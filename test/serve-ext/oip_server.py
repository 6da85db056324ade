"""A tiny Open Inference Protocol (KServe V2) REST server for Cairn's `process` runtime.

Standard library only. Serves one model, `doubler`, whose output Y is twice its FP32 input X
(shape [-1, 2]), on 127.0.0.1:$PORT. Environment knobs for tests:
  READY_DELAY      seconds to answer 503 on /v2/health/ready after starting (default 0)
  IGNORE_SIGTERM   "1": keep running on SIGTERM, so only SIGKILL stops it
  SIGTERM_MARKER   a file to create when SIGTERM arrives (then exit 0)
  READY_FILE       when set, ready only while this file exists
"""
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "doubler"
STARTED = time.monotonic()
READY_DELAY = float(os.environ.get("READY_DELAY", "0"))
METADATA = {
    "name": MODEL,
    "versions": ["1"],
    "platform": "python_stdlib",
    "inputs": [{"name": "X", "datatype": "FP32", "shape": [-1, 2]}],
    "outputs": [{"name": "Y", "datatype": "FP32", "shape": [-1, 2]}],
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/v2/health/live":
            self.answer(200)
        elif self.path == "/v2/health/ready":
            ready_file = os.environ.get("READY_FILE")
            ready = time.monotonic() - STARTED >= READY_DELAY
            ready = ready and (not ready_file or os.path.exists(ready_file))
            self.answer(200 if ready else 503)
        elif self.path == f"/v2/models/{MODEL}":
            self.answer(200, METADATA)
        else:
            self.answer(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path != f"/v2/models/{MODEL}/infer":
            return self.answer(404, {"error": f"no route {self.path}"})
        try:
            request = json.loads(body)
            x = next(t for t in request["inputs"] if t["name"] == "X")
            if x["datatype"] != "FP32" or len(x["shape"]) != 2 or x["shape"][1] != 2:
                return self.answer(400, {"error": "X must be FP32 with shape [n, 2]"})
            data = [2 * v for v in x["data"]]
        except (ValueError, KeyError, StopIteration, TypeError) as e:
            return self.answer(400, {"error": f"bad request: {e}"})
        self.answer(200, {
            "model_name": MODEL,
            "model_version": "1",
            "id": request.get("id", ""),
            "outputs": [{"name": "Y", "datatype": "FP32", "shape": x["shape"], "data": data}],
        })


def on_sigterm(_signum, _frame):
    if os.environ.get("IGNORE_SIGTERM") == "1":
        return
    marker = os.environ.get("SIGTERM_MARKER")
    if marker:
        open(marker, "w").close()
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_sigterm)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
