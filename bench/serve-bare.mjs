// The peer of `cairn serve` in bench/serve.mjs: the smallest OIP JSON server Node can run, a
// bare node:http handler around one onnxruntime-node session (no validation, no metrics).
// With `--batch N` it stacks the one-row FP32 requests that arrive while a run is in flight into
// one run of up to N rows (the model's single input and output must have a dynamic first
// dimension): the best batching any node:http server can do, the peer of Cairn's batcher.
// Usage: node bench/serve-bare.mjs MODEL.onnx [--batch N]  (prints "listening on http://...")
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';
import * as ort from 'onnxruntime-node';

const session = await ort.InferenceSession.create(process.argv[2]);
const TYPES = { FP32: 'float32', FP64: 'float64', INT32: 'int32', INT64: 'int64', BYTES: 'string' };
const OIP = { float32: 'FP32', float64: 'FP64', int32: 'INT32', int64: 'INT64', string: 'BYTES' };
const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array };
const tensor = ({ datatype, data, shape }) => {
  const type = TYPES[datatype];
  const flat = data.flat(Infinity);
  if (type === 'string') return new ort.Tensor(type, flat.map(String), shape);
  if (type === 'int64') return new ort.Tensor(type, BigInt64Array.from(flat, BigInt), shape);
  return new ort.Tensor(type, ARRAYS[type].from(flat), shape);
};
const maxBatch = process.argv[3] === '--batch' ? Number(process.argv[4]) : 0;

const answer = (res, id, outputs) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ model_name: 'model', id, outputs }));
};

// Batching: rows wait here while a run is in flight; the run's end starts the next one.
const queue = [];
let running = false;
const runBatch = async () => {
  const batch = queue.splice(0, maxBatch);
  const width = batch[0].row.length;
  const rows = new Float32Array(batch.length * width);
  batch.forEach((b, i) => rows.set(b.row, i * width));
  const input = new ort.Tensor('float32', rows, [batch.length, width]);
  const [name, out] = Object.entries(await session.run({ [session.inputNames[0]]: input }))[0];
  const per = out.data.length / batch.length;
  batch.forEach((b, i) => {
    const data = Array.from(out.data.subarray(i * per, (i + 1) * per), Number);
    answer(b.res, b.id, [{ name, shape: [1, ...out.dims.slice(1)], datatype: 'FP32', data }]);
  });
  if (queue.length > 0) void runBatch();
  else running = false;
};
const enqueue = (row, res, id) => {
  queue.push({ row, res, id });
  if (!running) {
    running = true;
    void runBatch();
  }
};

const server = http.createServer((req, res) => {
  // Any GET is a health probe (bench/serve.mjs times "spawn to ready" on GET /).
  if (req.method === 'GET') return void res.end();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    if (maxBatch > 0)
      return enqueue(Float32Array.from(body.inputs[0].data.flat(Infinity)), res, body.id ?? '');
    const feeds = Object.fromEntries(body.inputs.map((i) => [i.name, tensor(i)]));
    const result = await session.run(feeds);
    const outputs = Object.entries(result).map(([name, t]) => ({
      name,
      shape: t.dims,
      datatype: OIP[t.type],
      data: Array.from(t.data, Number),
    }));
    answer(res, body.id ?? '', outputs);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
