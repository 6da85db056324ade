"""An OIP REST server for Cairn's process runtime (a test fixture): model `scorer`, Y = 2 * X.

Standard library only; serves on 127.0.0.1:$PORT. e2e-fixtures.ts packs it into ModelKits with
FAIL_EVERY rewritten: 0 answers every request, 2 answers every second inference with a 500.
"""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAIL_EVERY = 0
NAME = "scorer"
METADATA = {
    "name": NAME,
    "versions": ["1"],
    "platform": "python_stdlib",
    "inputs": [{"name": "X", "datatype": "FP32", "shape": [-1, 2]}],
    "outputs": [{"name": "Y", "datatype": "FP32", "shape": [-1, 2]}],
}
LOCK = threading.Lock()
COUNT = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

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
        if self.path in ("/v2/health/live", "/v2/health/ready"):
            self.answer(200)
        elif self.path == f"/v2/models/{NAME}" or self.path == f"/v2/models/{NAME}/ready":
            self.answer(200, METADATA)
        else:
            self.answer(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if not (self.path.startswith("/v2/models/") and self.path.endswith("/infer")):
            return self.answer(404, {"error": f"no route {self.path}"})
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        if FAIL_EVERY > 0 and n % FAIL_EVERY == 0:
            return self.answer(500, {"error": f"scorer failed request {n} on purpose"})
        try:
            request = json.loads(body)
            x = next(t for t in request["inputs"] if t["name"] == "X")
            data = [2 * v for v in x["data"]]
        except (ValueError, KeyError, StopIteration, TypeError) as e:
            return self.answer(400, {"error": f"bad request: {e}"})
        self.answer(200, {
            "model_name": NAME,
            "model_version": "1",
            "id": request.get("id", ""),
            "outputs": [{"name": "Y", "datatype": "FP32", "shape": x["shape"], "data": data}],
        })


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
