/**
 * The repository as a protocol-neutral backend (what the gRPC front end calls): the same pick,
 * validation and errors as REST, on a real ONNX model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceBackend } from '../../src/serve/backend.js';
import { InferError } from '../../src/serve/types.js';
import type { ServeHandle } from '../../src/commands/serve.js';
import { buildModels, mlpExpected, ONNX_MISSING, type TestModels } from './models.js';
import { serving } from './client.js';

describe.skipIf(ONNX_MISSING !== undefined)('inferenceBackend', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    server = await serving([models.mlp]);
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it('answers metadata and inference like the REST routes', async () => {
    const backend = inferenceBackend(server.repo);
    expect(backend.ready()).toBe(true);
    expect(backend.modelReady('mlp', undefined)).toBe(true);
    expect(backend.modelMetadata('mlp', undefined)).toMatchObject({
      name: 'mlp',
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
    });
    const row = [1, -2, 3, 0.5];
    const response = await backend.infer(
      'mlp',
      undefined,
      {
        id: 'g1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array(row) }],
      },
      new AbortController().signal,
    );
    expect(response).toMatchObject({
      modelName: 'mlp',
      id: 'g1',
      modelVersion: server.models[0]?.version,
    });
    const y = [...(response.outputs[0]?.data as Float32Array)];
    y.forEach((v, i) => {
      expect(v).toBeCloseTo(mlpExpected(models.weights, [row])[0]?.[i] ?? NaN, 4);
    });
  });

  it('fails with the same InferErrors', async () => {
    const backend = inferenceBackend(server.repo);
    const signal = new AbortController().signal;
    const wrong = {
      id: 'g2',
      inputs: [{ name: 'x', datatype: 'FP64' as const, shape: [1, 4], data: new Float64Array(4) }],
    };
    await expect(backend.infer('mlp', undefined, wrong, signal)).rejects.toMatchObject({
      reason: 'bad-request',
      message: 'input "x": expected datatype FP32, got FP64',
    });
    expect(() => backend.modelMetadata('nope', undefined)).toThrow(InferError);
  });
});
