/**
 * Bad input, fuzz-ish: each malformed request is a 4xx with OIP's `{"error": "..."}` saying
 * what was wrong and where — never a 500, never a stack — and the server keeps serving.
 * Oversized bodies are refused without reading them.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/commands/serve.js';
import { buildModels, ONNX_MISSING, type TestModels } from './models.js';
import { call, infer, serving, type Answer } from './client.js';

const MAX_BODY = 1024 * 1024;
const x = (over: Record<string, unknown>) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...over }],
});

/** [what, model, body, headers, status, message pattern] */
type Case = [string, string, unknown, Record<string, string>, number, RegExp];
const binary = (json: unknown, bytes: Buffer): [Buffer, Record<string, string>] => {
  const header = Buffer.from(JSON.stringify(json));
  return [
    Buffer.concat([header, bytes]),
    { 'inference-header-content-length': String(header.length) },
  ];
};
const bytesInput = (size: number) => ({
  inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: size } }],
});
const lengthPrefix = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

const CASES: Case[] = [
  ['truncated JSON', 'mlp', '{"inputs": [{"name": "x"', {}, 400, /not valid JSON/],
  ['a JSON array', 'mlp', '[1, 2]', {}, 400, /must be a JSON object/],
  ['no inputs', 'mlp', { inputs: [] }, {}, 400, /"inputs" must be a non-empty array/],
  [
    'wrong datatype',
    'mlp',
    x({ datatype: 'INT64' }),
    {},
    400,
    /input "x": expected datatype FP32, got INT64/,
  ],
  ['unknown datatype', 'mlp', x({ datatype: 'FLOAT' }), {}, 400, /input "x": datatype "FLOAT"/],
  ['wrong shape', 'mlp', x({ shape: [2, 2] }), {}, 400, /input "x": expected shape \[-1, 4\]/],
  ['wrong rank', 'mlp', x({ shape: [4] }), {}, 400, /expected shape \[-1, 4\].*got \[4\]/],
  ['negative dimension', 'mlp', x({ shape: [-1, 4] }), {}, 400, /dimensions are integers ≥ 0/],
  ['fractional dimension', 'mlp', x({ shape: [0.5, 4] }), {}, 400, /dimensions are integers/],
  ['shape not an array', 'mlp', x({ shape: 'big' }), {}, 400, /"shape" must be an array/],
  [
    'huge shape',
    'mlp',
    x({ shape: [1e15, 4] }),
    {},
    400,
    /has 4 elements but the shape needs 4000000000000000/,
  ],
  [
    'too few elements',
    'mlp',
    x({ shape: [2, 4] }),
    {},
    400,
    /has 4 elements but the shape needs 8/,
  ],
  ['too many elements', 'mlp', x({ data: [1, 2, 3, 4, 5] }), {}, 400, /more than 4 elements/],
  [
    'a string among floats',
    'mlp',
    x({ data: [1, 2, 'three', 4] }),
    {},
    400,
    /element 2 is "three", expected a number/,
  ],
  ['null data', 'mlp', x({ data: null }), {}, 400, /"data" must be an array/],
  ['no data', 'mlp', x({ data: undefined }), {}, 400, /needs "data" or binary_data_size/],
  [
    'deep nesting',
    'mlp',
    x({ data: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown }),
    {},
    400,
    /nested too deeply/,
  ],
  [
    'out of range INT8',
    'identity_INT8',
    { inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 2], data: [1, 300] }] },
    {},
    400,
    /element 1 is 300, expected an integer in \[-128, 127\]/,
  ],
  [
    'unknown input',
    'mlp',
    { inputs: [...x({}).inputs, { name: 'z', datatype: 'FP32', shape: [1], data: [1] }] },
    {},
    400,
    /input "z" is not an input of this model/,
  ],
  [
    'duplicate input',
    'mlp',
    { inputs: [...x({}).inputs, ...x({}).inputs] },
    {},
    400,
    /given twice/,
  ],
  [
    'missing input',
    'two',
    { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] },
    {},
    400,
    /missing input "b" \(FP32 \[-1, 2\]\)/,
  ],
  [
    'inputs the graph cannot combine',
    'two',
    {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
        { name: 'b', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
      ],
    },
    {},
    400,
    /the model cannot run on these inputs: .+/,
  ],
  [
    'unknown output',
    'mlp',
    { ...x({}), outputs: [{ name: 'logits' }] },
    {},
    400,
    /output "logits" is not an output/,
  ],
  [
    'bad parameters',
    'mlp',
    { ...x({}), parameters: { nested: { a: 1 } } },
    {},
    400,
    /parameter "nested"/,
  ],
  [
    'a number as BYTES',
    'identity_BYTES',
    { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], data: ['a', 7] }] },
    {},
    400,
    /element 1 is 7, expected a string/,
  ],
  [
    'BYTES length past the end',
    'identity_BYTES',
    ...binary(bytesInput(8), Buffer.concat([lengthPrefix(1e9), Buffer.from('abcd')])),
    400,
    /claims 1000000000 bytes/,
  ],
  [
    'BYTES cut length prefix',
    'identity_BYTES',
    ...binary(bytesInput(6), Buffer.concat([lengthPrefix(1), Buffer.from('a'), Buffer.from([1])])),
    400,
    /cut length prefix/,
  ],
  [
    'BYTES too few elements',
    'identity_BYTES',
    ...binary(bytesInput(5), Buffer.concat([lengthPrefix(1), Buffer.from('a')])),
    400,
    /holds 1 elements but the shape needs 2/,
  ],
  [
    'binary size past the body',
    'mlp',
    ...binary(x({ data: undefined, parameters: { binary_data_size: 64 } }), Buffer.alloc(16)),
    400,
    /runs past the end/,
  ],
  [
    'binary size negative',
    'mlp',
    ...binary(x({ data: undefined, parameters: { binary_data_size: -16 } }), Buffer.alloc(16)),
    400,
    /binary_data_size must be an integer ≥ 0/,
  ],
  [
    'binary not whole elements',
    'mlp',
    ...binary(x({ data: undefined, parameters: { binary_data_size: 15 } }), Buffer.alloc(15)),
    400,
    /not a whole number of FP32 elements/,
  ],
  [
    'trailing bytes',
    'mlp',
    ...binary(x({}), Buffer.alloc(3)),
    400,
    /3 bytes of binary data follow the last input/,
  ],
  [
    'binary without the header',
    'mlp',
    x({ data: undefined, parameters: { binary_data_size: 16 } }),
    {},
    400,
    /needs the Inference-Header-Content-Length header/,
  ],
  [
    'header length past the body',
    'mlp',
    x({}),
    { 'inference-header-content-length': '999999' },
    400,
    /exceeds the body/,
  ],
  [
    'header length not a number',
    'mlp',
    x({}),
    { 'inference-header-content-length': '12abc' },
    400,
    /must be a byte count/,
  ],
  ['unknown model', 'resnet', x({}), {}, 404, /model "resnet" is not loaded/],
  [
    'unknown version',
    'mlp/versions/sha256:00',
    x({}),
    {},
    404,
    /model "mlp" has no version sha256:00; loaded: sha256:/,
  ],
  ['bad percent-encoding', '%E0%A4%A', x({}), {}, 400, /not valid percent-encoding/],
];

function expectError(a: Answer, status: number, message: RegExp): void {
  expect(a.status, a.body.toString()).toBe(status);
  expect(Object.keys(a.json as object)).toEqual(['error']);
  const error = (a.json as { error: string }).error;
  expect(error).toMatch(message);
  expect(error).not.toMatch(/\n\s+at /);
}

describe.skipIf(ONNX_MISSING !== undefined)('bad requests', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    const ids = (['BYTES', 'INT8'] as const).map((d) => models.identity(d));
    server = await serving([models.mlp, models.two, ...ids], { maxBody: MAX_BODY });
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it.each(CASES)('%s', async (_what, model, body, headers, status, message) => {
    expectError(await infer(server, model, body, headers), status, message);
    // ...and the next good request is answered.
    expect((await infer(server, 'mlp', x({}))).status).toBe(200);
  });

  it('answers 200 or a 4xx — never a 5xx — to 300 randomly damaged bodies', async () => {
    const valid = Buffer.from(
      JSON.stringify({
        id: 'fuzz',
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [2, 4],
            data: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
          },
        ],
        outputs: [{ name: 'y' }],
      }),
    );
    let seed = 20261203;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const body = Buffer.from(valid);
      const damaged =
        i % 3 === 0
          ? body.subarray(0, random(body.length))
          : (() => {
              for (let k = 0; k <= random(4); k++) body[random(body.length)] = random(256);
              return body;
            })();
      const a = await infer(server, 'mlp', damaged);
      statuses.add(a.status);
      expect(a.status === 200 || (a.status >= 400 && a.status < 500), a.body.toString()).toBe(true);
    }
    expect(statuses.has(400)).toBe(true);
    expect((await infer(server, 'mlp', x({}))).status).toBe(200);
  });

  it('answers unknown routes 404 and wrong methods 405, with the OIP error body', async () => {
    expectError(await call(server, 'GET', '/v3/models'), 404, /no route for GET \/v3\/models/);
    expectError(await call(server, 'GET', '/v2/models/mlp/infer'), 405, /GET is not allowed/);
    expectError(await call(server, 'GET', '/v2/models/nope'), 404, /model "nope" is not loaded/);
    expectError(await call(server, 'GET', '/v2/models/nope/ready'), 404, /not loaded/);
    expectError(
      await call(server, 'POST', '/v1/models/mlp:predict', { rows: [] }),
      400,
      /"instances"/,
    );
    const ragged = {
      instances: [
        [1, 2, 3, 4],
        [1, 2],
      ],
    };
    expectError(await call(server, 'POST', '/v1/models/mlp:predict', ragged), 400, /shape needs 8/);
  });

  it('refuses a declared 100 MB body at once', async () => {
    const a = await infer(server, 'mlp', x({}), { 'content-length': String(100 * 1024 * 1024) });
    expectError(a, 413, /larger than 1048576 bytes \(--max-body\)/);
  });

  it('stops reading a streamed body once it passes --max-body', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/v2/models/mlp/infer',
        agent: false,
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      const pump = (): void => {
        while (sent < 100 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/--max-body/);
    // Socket buffers let some megabytes through, but nowhere near the 100 MB offered.
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    expect((await infer(server, 'mlp', x({}))).status).toBe(200);
  });
});
