/**
 * examples/quickstart end to end, as its README tells a user to run it: copied to a folder outside
 * this checkout (the sandbox lives in the OS temp dir) with nothing but Node and `cairn`, the
 * pipeline runs, and the ONNX file it exports is valid and computes what model.json computes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { expect, test } from 'vitest';
import { PROJECT_ROOT, createSandbox } from '../e2e/helpers.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'quickstart');

interface Tensor {
  name: string;
  dims: number[];
  floatData: number[];
}

test('the quickstart trains an Iris classifier, exports ONNX, and is a no-op the second time', async () => {
  await using sb = await createSandbox();
  expect(path.relative(PROJECT_ROOT, sb.root).startsWith('..')).toBe(true);
  await fsp.cp(EXAMPLE, sb.root, { recursive: true });
  await sb.cairnOk(['repro']);
  const metrics = JSON.parse(fs.readFileSync(sb.path('eval/metrics.json'), 'utf8')) as {
    accuracy: number;
  };
  expect(metrics.accuracy).toBeGreaterThanOrEqual(0.85);
  expect(fs.readFileSync(sb.path('model/loss.csv'), 'utf8').split('\n')[0]).toBe('epoch,loss');
  expect(fs.readFileSync(sb.path('eval/confusion.csv'), 'utf8').split('\n')[0]).toBe(
    'actual,predicted',
  );
  const again = await sb.cairnOk(['repro']);
  expect(again.stdout).toContain('0 ran');

  // The ONNX file decodes with ONNX's schema and computes what model.json computes.
  const root = await protobuf.load(path.join(EXAMPLE, 'src', 'onnx.proto'));
  const decoded = root
    .lookupType('onnx.ModelProto')
    .toObject(
      root.lookupType('onnx.ModelProto').decode(fs.readFileSync(sb.path('model/model.onnx'))),
      {
        longs: Number,
      },
    ) as {
    opsetImport: { version: number }[];
    graph: { node: { opType: string }[]; initializer: Tensor[] };
  };
  expect(decoded.opsetImport[0]?.version).toBe(13);
  expect(decoded.graph.node.map((n) => n.opType)).toEqual(['Sub', 'Div', 'Gemm', 'Softmax']);
  const init = new Map(decoded.graph.initializer.map((t) => [t.name, t]));
  const model = JSON.parse(fs.readFileSync(sb.path('model/model.json'), 'utf8')) as {
    weights: number[][];
    mean: number[];
    std: number[];
    bias: number[];
  };
  expect(init.get('weights')?.dims).toEqual([4, 3]);
  init.get('weights')?.floatData.forEach((w, i) => {
    expect(w).toBeCloseTo(model.weights[Math.floor(i / 3)]?.[i % 3] ?? NaN, 5);
  });

  // ONNX Runtime runs the file and gives the probabilities model.json's parameters give.
  const session = await ort.InferenceSession.create(sb.path('model/model.onnx'));
  const rows = [
    [5.1, 3.5, 1.4, 0.2],
    [6.4, 3.2, 4.5, 1.5],
    [6.3, 3.3, 6.0, 2.5],
  ];
  const result = await session.run({
    input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]),
  });
  const probabilities = result.probabilities?.data as Float32Array;
  rows.forEach((row, r) => {
    const scaled = row.map((x, j) => (x - (model.mean[j] ?? NaN)) / (model.std[j] ?? NaN));
    const logits = model.bias.map((b, k) =>
      scaled.reduce((sum, x, j) => sum + x * (model.weights[j]?.[k] ?? NaN), b),
    );
    const exps = logits.map((l) => Math.exp(l - Math.max(...logits)));
    const total = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, k) => {
      expect(probabilities[r * 3 + k]).toBeCloseTo(e / total, 5);
    });
  });
  await session.release();

  // ONNX's own checker, where Debian's python3-onnx is installed (scripts/test-deps.sh).
  const check = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
      sb.path('model/model.onnx'),
    ],
    { encoding: 'utf8' },
  );
  if (check.error === undefined && !check.stderr.includes('No module named')) {
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  }
});
