/**
 * The OIP v2 and KServe V1 routes against real ONNX models served in-process on port 0:
 * health, metadata, inference with nested and flat data, requested outputs, request ids and
 * the model headers on every answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/commands/serve.js';
import { buildModels, mlpExpected, ONNX_MISSING, type TestModels } from './models.js';
import { call, infer, outputsOf, serving } from './client.js';

describe.skipIf(ONNX_MISSING !== undefined)('cairn serve routes', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    server = await serving([models.mlp, models.two, `fp32=${models.identity('FP32')}`]);
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it('answers health and server metadata', async () => {
    expect((await call(server, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await call(server, 'GET', '/v2/health/ready')).status).toBe(200);
    const meta = await call(server, 'GET', '/v2');
    expect(meta.json).toEqual({
      name: 'cairn',
      version: expect.any(String) as string,
      extensions: ['binary_tensor_data', 'model_repository'],
    });
    expect(meta.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports model metadata with -1 for the dynamic batch and the version it serves', async () => {
    const version = server.models.find((m) => m.name === 'mlp')?.version ?? '';
    expect(version).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const path of ['/v2/models/mlp', `/v2/models/mlp/versions/${version}`]) {
      const meta = await call(server, 'GET', path);
      expect(meta.status).toBe(200);
      expect(meta.json).toEqual({
        name: 'mlp',
        versions: [version],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
      });
      expect(meta.headers['x-model-version']).toBe(version);
    }
    expect((await call(server, 'GET', '/v2/models/mlp/ready')).status).toBe(200);
    expect((await call(server, 'GET', `/v2/models/mlp/versions/${version}/ready`)).status).toBe(
      200,
    );
  });

  it('runs the MLP on a nested batch and on the same batch flattened', async () => {
    const rows = [
      [0.5, -1, 2, 0.25],
      [1, 1, 1, 1],
      [-3, 0, 0.5, 2],
    ];
    const expected = mlpExpected(models.weights, rows);
    for (const data of [rows, rows.flat()]) {
      const a = await infer(server, 'mlp', {
        id: 'req-1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4], data }],
      });
      expect(a.status).toBe(200);
      const doc = a.json as { model_name: string; model_version: string; id: string };
      expect(doc.model_name).toBe('mlp');
      expect(doc.id).toBe('req-1');
      expect(doc.model_version).toBe(a.headers['x-model-version']);
      expect(a.headers['x-model-digest']).toBe(server.models.find((m) => m.name === 'mlp')?.digest);
      const y = outputsOf(a).y;
      expect(y?.shape).toEqual([3, 3]);
      (y?.data as number[]).forEach((v, i) => {
        expect(v).toBeCloseTo(expected[Math.floor(i / 3)]?.[i % 3] ?? NaN, 4);
      });
    }
  });

  it('echoes x-request-id, and uses it as the id when the body has none', async () => {
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
    const given = await infer(server, 'fp32', body, { 'x-request-id': 'trace-42' });
    expect(given.headers['x-request-id']).toBe('trace-42');
    expect((given.json as { id: string }).id).toBe('trace-42');
    const minted = await infer(server, 'fp32', body);
    const id = (minted.json as { id: string }).id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(minted.headers['x-request-id']).toBe(id);
  });

  it('returns only the requested outputs', async () => {
    const a = await infer(server, 'two', {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 2], data: [2, 3] },
        { name: 'b', datatype: 'FP32', shape: [1, 2], data: [4, 5] },
      ],
      outputs: [{ name: 'product' }],
    });
    expect(Object.keys(outputsOf(a))).toEqual(['product']);
    expect(outputsOf(a).product?.data).toEqual([8, 15]);
  });

  it('serves KServe V1: rows for one input, objects for several', async () => {
    const rows = [
      [1, 2, 3, 4],
      [0, 0, 0, 0],
    ];
    const one = await call(server, 'POST', '/v1/models/mlp:predict', { instances: rows });
    expect(one.status).toBe(200);
    const predictions = (one.json as { predictions: number[][] }).predictions;
    expect(predictions).toHaveLength(2);
    mlpExpected(models.weights, rows).forEach((row, i) => {
      row.forEach((v, j) => {
        expect(predictions[i]?.[j]).toBeCloseTo(v, 4);
      });
    });
    const two = await call(server, 'POST', '/v1/models/two:predict', {
      instances: [
        { a: [1, 2], b: [3, 4] },
        { a: [0, 1], b: [5, 6] },
      ],
    });
    expect(two.json).toEqual({
      predictions: [
        { sum: [4, 6], product: [3, 8] },
        { sum: [5, 7], product: [0, 6] },
      ],
    });
    expect(two.headers['x-model-version']).toMatch(/^sha256:/);
    const status = await call(server, 'GET', '/v1/models/mlp');
    expect(status.json).toEqual({ name: 'mlp', ready: true });
  });
});
