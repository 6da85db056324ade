// The peer of `cairn serve` in bench/serve.mjs: the smallest OIP JSON server Node can run, a
// bare node:http handler around one onnxruntime-node session (no validation, no metrics).
// Usage: node bench/serve-bare.mjs MODEL.onnx  (prints "listening on http://127.0.0.1:PORT")
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
const server = http.createServer((req, res) => {
  // Any GET is a health probe (bench/serve.mjs times "spawn to ready" on GET /).
  if (req.method === 'GET') return void res.end();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    const feeds = Object.fromEntries(body.inputs.map((i) => [i.name, tensor(i)]));
    const result = await session.run(feeds);
    const outputs = Object.entries(result).map(([name, t]) => ({
      name,
      shape: t.dims,
      datatype: OIP[t.type],
      data: Array.from(t.data, Number),
    }));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ model_name: 'model', id: body.id ?? '', outputs }));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
