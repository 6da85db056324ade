/**
 * Real ONNX models for the serving tests, written by /usr/bin/python3 with `onnx.helper` into a
 * temp folder: an Identity model per OIP datatype, a small MLP with a dynamic batch (weights
 * exported as JSON so tests compute the expected answer), a two-input two-output model, and a
 * 10 MB model for the start-up budget, and on demand copies of the MLP with other bytes (two
 * versions that answer alike but have their own digests). Tests skip when python3-onnx is missing, unless
 * CAIRN_REQUIRE_TOOLS=1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATATYPES, type Datatype } from '../../src/serve/types.js';

const PYTHON = '/usr/bin/python3';

/** Why the models cannot be built here, or undefined when they can. */
export const ONNX_MISSING: string | undefined = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  const reason = `${PYTHON} with the onnx package is needed to build test models (${probe.error?.message ?? probe.stderr.trim()})`;
  if (process.env.CAIRN_REQUIRE_TOOLS === '1') throw new Error(reason);
  return reason;
})();

const SCRIPT = String.raw`
import json, sys, os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as T
out = sys.argv[1]
def save(graph, name):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + '.onnx'))
types = {'BOOL': T.BOOL, 'UINT8': T.UINT8, 'UINT16': T.UINT16, 'UINT32': T.UINT32, 'UINT64': T.UINT64,
         'INT8': T.INT8, 'INT16': T.INT16, 'INT32': T.INT32, 'INT64': T.INT64, 'FP16': T.FLOAT16,
         'FP32': T.FLOAT, 'FP64': T.DOUBLE, 'BYTES': T.STRING}
for oip, t in types.items():
    x = helper.make_tensor_value_info('x', t, ['batch', 2])
    y = helper.make_tensor_value_info('y', t, ['batch', 2])
    save(helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'id', [x], [y]), 'identity_' + oip)
rng = np.random.default_rng(7)
w1 = rng.standard_normal((4, 8)).astype(np.float32); b1 = rng.standard_normal(8).astype(np.float32)
w2 = rng.standard_normal((8, 3)).astype(np.float32); b2 = rng.standard_normal(3).astype(np.float32)
nodes = [helper.make_node('MatMul', ['x', 'w1'], ['h0']), helper.make_node('Add', ['h0', 'b1'], ['h1']),
         helper.make_node('Relu', ['h1'], ['h2']), helper.make_node('MatMul', ['h2', 'w2'], ['h3']),
         helper.make_node('Add', ['h3', 'b2'], ['y'])]
inits = [numpy_helper.from_array(a, n) for a, n in [(w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2')]]
save(helper.make_graph(nodes, 'mlp', [helper.make_tensor_value_info('x', T.FLOAT, ['batch', 4])],
                       [helper.make_tensor_value_info('y', T.FLOAT, ['batch', 3])], inits), 'mlp')
json.dump({'w1': w1.tolist(), 'b1': b1.tolist(), 'w2': w2.tolist(), 'b2': b2.tolist()},
          open(os.path.join(out, 'mlp.json'), 'w'))
a = helper.make_tensor_value_info('a', T.FLOAT, ['batch', 2])
b = helper.make_tensor_value_info('b', T.FLOAT, ['batch', 2])
save(helper.make_graph([helper.make_node('Add', ['a', 'b'], ['sum']), helper.make_node('Mul', ['a', 'b'], ['product'])],
                       'two', [a, b], [helper.make_tensor_value_info('sum', T.FLOAT, ['batch', 2]),
                                       helper.make_tensor_value_info('product', T.FLOAT, ['batch', 2])]), 'two')
big = rng.standard_normal((1600, 1600)).astype(np.float32)
save(helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'])], 'big',
                       [helper.make_tensor_value_info('x', T.FLOAT, ['batch', 1600])],
                       [helper.make_tensor_value_info('y', T.FLOAT, ['batch', 1600])],
                       [numpy_helper.from_array(big, 'w')]), 'big')
`;

export interface MlpWeights {
  w1: number[][];
  b1: number[];
  w2: number[][];
  b2: number[];
}

export interface TestModels {
  dir: string;
  /** the Identity model of each datatype: input x, output y, shape [-1, 2] */
  identity(datatype: Datatype): string;
  /** x FP32 [-1, 4] → y FP32 [-1, 3] */
  mlp: string;
  weights: MlpWeights;
  /** a, b FP32 [-1, 2] → sum, product */
  two: string;
  /** about 10 MB: x FP32 [-1, 1600] → y */
  big: string;
  remove(): void;
}

/** Builds every test model into a fresh temp folder (about a second). */
export function buildModels(): TestModels {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-serve-models-'));
  execFileSync(PYTHON, ['-c', SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const d of DATATYPES) fs.accessSync(path.join(dir, `identity_${d}.onnx`));
  return {
    dir,
    identity: (d) => path.join(dir, `identity_${d}.onnx`),
    mlp: path.join(dir, 'mlp.onnx'),
    weights: JSON.parse(fs.readFileSync(path.join(dir, 'mlp.json'), 'utf8')) as MlpWeights,
    two: path.join(dir, 'two.onnx'),
    big: path.join(dir, 'big.onnx'),
    remove: () => {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The MLP's answer for rows of 4 features, computed in float64. */
export function mlpExpected(w: MlpWeights, rows: readonly (readonly number[])[]): number[][] {
  return rows.map((x) => {
    const h = w.b1.map((b, j) =>
      Math.max(0, b + x.reduce((s, v, i) => s + v * (w.w1[i]?.[j] ?? 0), 0)),
    );
    return w.b2.map((b, k) => b + h.reduce((s, v, j) => s + v * (w.w2[j]?.[k] ?? 0), 0));
  });
}

/** A copy of the MLP at `file` whose doc string is `doc`: the same answers, another digest. */
export function mlpVariant(models: TestModels, file: string, doc: string): string {
  const script =
    'import onnx,sys; m=onnx.load(sys.argv[1]); m.doc_string=sys.argv[3]; onnx.save(m, sys.argv[2])';
  execFileSync(PYTHON, ['-c', script, models.mlp, file, doc], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return file;
}
