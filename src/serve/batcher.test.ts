import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batching, type BatchRun } from './batcher.js';
import { InferError, type InferRequest, type ModelRuntime, type Tensor } from './types.js';

/**
 * A runtime doing real arithmetic on [n, k] FP32 input X: Y = 2·X and S = row sums; on BYTES
 * input T it upper-cases each string into U. Records the batch sizes it ran; X containing a
 * negative number fails the whole run; `delayMs` makes each run take that long.
 */
class ArithmeticRuntime implements ModelRuntime {
  readonly platform = 'test_arithmetic';
  readonly inputs = [{ name: 'X', datatype: 'FP32' as const, shape: [-1, -1] }];
  readonly outputs = [
    { name: 'Y', datatype: 'FP32' as const, shape: [-1, -1] },
    { name: 'S', datatype: 'FP32' as const, shape: [-1] },
  ];
  readonly runs: number[] = [];
  closed = false;
  constructor(readonly delayMs = 0) {}
  ready(): boolean {
    return true;
  }
  async infer(request: InferRequest): Promise<readonly Tensor[]> {
    const rows = request.inputs[0]?.shape[0] ?? 0;
    this.runs.push(rows);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const text = request.inputs.find((t) => t.name === 'T');
    if (text !== undefined) {
      const data = (text.data as readonly Uint8Array[]).map((b) =>
        new TextEncoder().encode(new TextDecoder().decode(b).toUpperCase()),
      );
      return [{ name: 'U', datatype: 'BYTES', shape: text.shape, data }];
    }
    const x = request.inputs.find((t) => t.name === 'X');
    if (x === undefined) throw new InferError('bad-request', 'no input X');
    const [n = 0, k = 0] = x.shape;
    const xs = x.data as Float32Array;
    if (xs.some((v) => v < 0))
      throw new InferError('bad-request', 'negative values are not allowed');
    const y = xs.map((v) => v * 2);
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) s[i] = (s[i] ?? 0) + (xs[i * k + j] ?? 0);
    const all = [
      { name: 'Y', datatype: 'FP32' as const, shape: [n, k], data: y },
      { name: 'S', datatype: 'FP32' as const, shape: [n], data: s },
    ];
    const wanted = request.outputs?.map((o) => o.name);
    return wanted === undefined ? all : all.filter((t) => wanted.includes(t.name));
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function request(id: string, rows: number[][], outputs?: string[]): InferRequest {
  const k = rows[0]?.length ?? 0;
  return {
    id,
    inputs: [
      { name: 'X', datatype: 'FP32', shape: [rows.length, k], data: new Float32Array(rows.flat()) },
    ],
    ...(outputs === undefined ? {} : { outputs: outputs.map((name) => ({ name })) }),
  };
}

const byName = (outputs: readonly Tensor[], name: string) => {
  const found = outputs.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no output ${name}`);
  return found;
};

describe('batching', () => {
  it('gives each of 40 concurrent requests exactly its own rows, in at most max_batch_size', async () => {
    const inner = new ArithmeticRuntime(5);
    const batches: BatchRun[] = [];
    const runtime = batching(inner, {
      maxBatchSize: 8,
      maxLatencyMs: 20,
      onBatch: (b) => batches.push(b),
    });
    const sent = Array.from({ length: 40 }, (_, i) => {
      const rows = Array.from({ length: 1 + (i % 3) }, (_, r) => [i, r, 0.5]);
      return { rows, result: runtime.infer(request(`r${i}`, rows)) };
    });
    for (const { rows, result } of sent) {
      const outputs = await result;
      const y = byName(outputs, 'Y');
      expect(y.shape).toEqual([rows.length, 3]);
      expect([...(y.data as Float32Array)]).toEqual(rows.flat().map((v) => v * 2));
      expect([...(byName(outputs, 'S').data as Float32Array)]).toEqual(
        rows.map(([first = 0, second = 0]) => first + second + 0.5),
      );
    }
    expect(Math.max(...inner.runs)).toBeLessThanOrEqual(8);
    expect(inner.runs.reduce((a, b) => a + b, 0)).toBe(sent.reduce((a, s) => a + s.rows.length, 0));
    // Concurrency actually batched: far fewer runs than requests.
    expect(inner.runs.length).toBeLessThan(20);
    expect(batches.reduce((a, b) => a + b.requests, 0)).toBe(40);
  });

  it('runs a lone request at once when the runtime is idle', async () => {
    const inner = new ArithmeticRuntime();
    const runtime = batching(inner, { maxBatchSize: 64, maxLatencyMs: 5_000 });
    const started = performance.now();
    await runtime.infer(request('alone', [[1, 2]]));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(inner.runs).toEqual([1]);
  });

  it('runs a waiting batch after max_latency_ms even while the runtime is busy', async () => {
    const inner = new ArithmeticRuntime(1_000);
    const runtime = batching(inner, { maxBatchSize: 64, maxLatencyMs: 50 });
    const slow = runtime.infer(request('first', [[1]]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    const second = runtime.infer(request('second', [[2]]));
    const third = runtime.infer(request('third', [[3]]));
    await Promise.all([second, third]);
    // 50 ms of waiting plus a 1 s run; waiting for the first run would take about 2 s.
    expect(performance.now() - started).toBeLessThan(1_600);
    await slow;
    expect(inner.runs).toEqual([1, 2]);
  });

  it('keeps requests with different row shapes or requested outputs apart', async () => {
    const inner = new ArithmeticRuntime(20);
    const runtime = batching(inner, { maxBatchSize: 16, maxLatencyMs: 30 });
    const busy = runtime.infer(request('busy', [[0, 0]]));
    const results = await Promise.all([
      runtime.infer(request('a', [[1, 2]])),
      runtime.infer(request('b', [[1, 2, 3]])),
      runtime.infer(request('c', [[4, 5]], ['S'])),
      runtime.infer(request('d', [[6, 7]])),
    ]);
    await busy;
    expect(results.map((r) => r.map((t) => `${t.name}${JSON.stringify(t.shape)}`))).toEqual([
      ['Y[1,2]', 'S[1]'],
      ['Y[1,3]', 'S[1]'],
      ['S[1]'],
      ['Y[1,2]', 'S[1]'],
    ]);
    expect([...(byName(results[3], 'Y').data as Float32Array)]).toEqual([12, 14]);
    // busy alone, then a+d together, b alone, c alone.
    expect([...inner.runs].sort()).toEqual([1, 1, 1, 2]);
  });

  it('stacks BYTES tensors and splits them back', async () => {
    const inner = new ArithmeticRuntime(10);
    const runtime = batching(inner, { maxBatchSize: 8, maxLatencyMs: 20 });
    const words = [['ab', 'cd'], ['héllo'], ['x', 'y', 'z']];
    const results = await Promise.all(
      words.map((list, i) =>
        runtime.infer({
          id: `t${i}`,
          inputs: [
            {
              name: 'T',
              datatype: 'BYTES',
              shape: [list.length],
              data: list.map((w) => new TextEncoder().encode(w)),
            },
          ],
        }),
      ),
    );
    expect(
      results.map((r) =>
        (byName(r, 'U').data as Uint8Array[]).map((b) => new TextDecoder().decode(b)),
      ),
    ).toEqual(words.map((list) => list.map((w) => w.toUpperCase())));
    expect(inner.runs.length).toBeLessThan(3);
  });

  it('fails every request of a failed run with the same error', async () => {
    const inner = new ArithmeticRuntime(10);
    const runtime = batching(inner, { maxBatchSize: 8, maxLatencyMs: 20 });
    const busy = runtime.infer(request('busy', [[0]]));
    const outcomes = await Promise.allSettled([
      runtime.infer(request('good', [[1]])),
      runtime.infer(request('bad', [[-1]])),
      runtime.infer(request('good2', [[2]])),
    ]);
    await busy;
    const reasons = outcomes.map((o) =>
      o.status === 'rejected' ? (o.reason as unknown) : undefined,
    );
    expect(reasons[0]).toBeInstanceOf(InferError);
    expect(reasons[0]).toBe(reasons[1]);
    expect(reasons[1]).toBe(reasons[2]);
    expect((reasons[0] as InferError).message).toMatch(/negative/);
  });

  it('passes through requests too large to batch and closes the runtime after draining', async () => {
    const inner = new ArithmeticRuntime(5);
    const runtime = batching(inner, { maxBatchSize: 2, maxLatencyMs: 1_000 });
    const big = await runtime.infer(request('big', [[1], [2], [3]]));
    expect(byName(big, 'Y').shape).toEqual([3, 1]);
    const busy = runtime.infer(request('busy', [[1]]));
    const waiting = runtime.infer(request('waiting', [[4]]));
    await runtime.close();
    expect([...(byName(await waiting, 'Y').data as Float32Array)]).toEqual([8]);
    await busy;
    expect(inner.closed).toBe(true);
  });

  it('rejects bad settings', () => {
    expect(() => batching(new ArithmeticRuntime(), { maxBatchSize: 0, maxLatencyMs: 1 })).toThrow(
      /max_batch_size/,
    );
    expect(() => batching(new ArithmeticRuntime(), { maxBatchSize: 4, maxLatencyMs: -1 })).toThrow(
      /max_latency_ms/,
    );
  });
});

// A real ONNX model (C = relu(A·W + B)) through ONNX Runtime, built with the onnx Python package.
const PYTHON = '/usr/bin/python3';
const BUILD_MODEL = `
import sys, onnx
from onnx import helper, TensorProto
w = helper.make_tensor('W', TensorProto.FLOAT, [3, 2], [1, 0, 0, 1, 1, -1])
nodes = [helper.make_node('MatMul', ['A', 'W'], ['M']), helper.make_node('Add', ['M', 'B'], ['P']),
         helper.make_node('Relu', ['P'], ['C'])]
graph = helper.make_graph(nodes, 'mlp',
    [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['n', 3]),
     helper.make_tensor_value_info('B', TensorProto.FLOAT, ['n', 2])],
    [helper.make_tensor_value_info('C', TensorProto.FLOAT, ['n', 2])], [w])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
`;

function onnxAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CAIRN_REQUIRE_TOOLS === '1')
      throw new Error(`${PYTHON} with the onnx package is required`);
    return false;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-batcher-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const haveOnnx = onnxAvailable();
describe.skipIf(!haveOnnx)(
  `batching an ONNX Runtime session${haveOnnx ? '' : ` (skipped: ${PYTHON} lacks onnx)`}`,
  () => {
    it('returns each request the rows ONNX Runtime computed for it', async () => {
      const file = path.join(tmp, 'mlp.onnx');
      execFileSync(PYTHON, ['-c', BUILD_MODEL, file]);
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(file);
      const runs: number[] = [];
      const inner: ModelRuntime = {
        platform: 'onnx_onnxv1',
        inputs: [
          { name: 'A', datatype: 'FP32', shape: [-1, 3] },
          { name: 'B', datatype: 'FP32', shape: [-1, 2] },
        ],
        outputs: [{ name: 'C', datatype: 'FP32', shape: [-1, 2] }],
        ready: () => true,
        async infer(req) {
          runs.push(req.inputs[0]?.shape[0] ?? 0);
          const feeds = Object.fromEntries(
            req.inputs.map((t) => [
              t.name,
              new ort.Tensor('float32', t.data as Float32Array, [...t.shape]),
            ]),
          );
          const result = await session.run(feeds);
          const c = result.C;
          if (c === undefined) throw new Error('no output C');
          return [
            { name: 'C', datatype: 'FP32', shape: [...c.dims], data: c.data as Float32Array },
          ];
        },
        close: () => session.release(),
      };
      const runtime = batching(inner, { maxBatchSize: 32, maxLatencyMs: 10 });
      const inputs = Array.from({ length: 30 }, (_, i) => ({ a: [i, 1, 2], b: [0.5, -100 + i] }));
      const results = await Promise.all(
        inputs.map(({ a, b }, i) =>
          runtime.infer({
            id: `q${i}`,
            inputs: [
              { name: 'A', datatype: 'FP32', shape: [1, 3], data: new Float32Array(a) },
              { name: 'B', datatype: 'FP32', shape: [1, 2], data: new Float32Array(b) },
            ],
          }),
        ),
      );
      results.forEach((outputs, i) => {
        const [a0 = 0, a1 = 0, a2 = 0] = inputs[i]?.a ?? [];
        const [b0 = 0, b1 = 0] = inputs[i]?.b ?? [];
        // A·W with W = [[1,0],[0,1],[1,-1]]: [a0 + a2, a1 - a2]
        const expected = [a0 + a2 + b0, a1 - a2 + b1].map((v) => Math.max(0, v));
        const c = byName(outputs, 'C');
        expect(c.shape).toEqual([1, 2]);
        expect([...(c.data as Float32Array)]).toEqual(expected);
      });
      expect(runs.length).toBeLessThan(30);
      await runtime.close();
    });
  },
);
