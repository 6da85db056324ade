/**
 * The model repository extension and version routing: index, unload and load without a
 * restart, an unload that waits for the request in flight, several versions of one model (one
 * of them loaded back by its digest), and 503s while a runtime is not ready.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeHandle } from '../../src/commands/serve.js';
import { buildModels, ONNX_MISSING, type TestModels } from './models.js';
import { call, callInFlight, infer, outputsOf, serving } from './client.js';

const mlpBody = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
};

describe.skipIf(ONNX_MISSING !== undefined)('model repository', () => {
  let models: TestModels;
  let server: ServeHandle;
  beforeAll(async () => {
    models = buildModels();
    server = await serving([models.mlp, `pair=${models.mlp}`, `pair=${models.two}`]);
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    models.remove();
  });

  it('routes to the version named, else to the latest loaded', async () => {
    const [v1, v2] = server.models.filter((m) => m.name === 'pair').map((m) => m.version);
    const meta = await call(server, 'GET', '/v2/models/pair');
    expect(meta.json).toMatchObject({ versions: [v1, v2], inputs: [{ name: 'a' }, { name: 'b' }] });
    const old = await call(server, 'GET', `/v2/models/pair/versions/${v1 ?? ''}`);
    expect(old.json).toMatchObject({ inputs: [{ name: 'x' }] });
    const a = await infer(server, `pair/versions/${v1 ?? ''}`, mlpBody);
    expect(a.status).toBe(200);
    expect(a.headers['x-model-version']).toBe(v1);
  });

  it('unloads and loads a model without a restart', async () => {
    const index = await call(server, 'POST', '/v2/repository/index');
    expect(index.json).toContainEqual({
      name: 'mlp',
      version: expect.any(String) as string,
      state: 'READY',
    });
    expect((await call(server, 'POST', '/v2/repository/models/mlp/unload')).status).toBe(200);
    expect((await infer(server, 'mlp', mlpBody)).status).toBe(404);
    expect((await call(server, 'POST', '/v2/repository/index')).json).toContainEqual({
      name: 'mlp',
      state: 'UNAVAILABLE',
      reason: 'unloaded',
    });
    expect((await call(server, 'POST', '/v2/repository/models/mlp/load')).status).toBe(200);
    const again = await infer(server, 'mlp', mlpBody);
    expect(again.status).toBe(200);
    expect(again.headers['x-model-version']).toBe(
      server.models.find((m) => m.name === 'mlp')?.version,
    );
  });

  it('loads back one digest version of a model served from two SOURCE arguments', async () => {
    const [v1, v2] = server.models.filter((m) => m.name === 'pair').map((m) => m.version);
    const unload = await call(server, 'POST', '/v2/repository/models/pair/unload', {
      version: v1,
    });
    expect(unload.status).toBe(200);
    expect((await infer(server, `pair/versions/${v1 ?? ''}`, mlpBody)).status).toBe(404);
    const load = await call(server, 'POST', '/v2/repository/models/pair/load', {
      parameters: { version: v1 },
    });
    expect(load.status, load.body.toString()).toBe(200);
    const back = await infer(server, `pair/versions/${v1 ?? ''}`, mlpBody);
    expect(back.status).toBe(200);
    expect(back.headers['x-model-version']).toBe(v1);
    // Both versions are served again, and the one loaded last answers unversioned requests.
    const meta = await call(server, 'GET', '/v2/models/pair');
    expect(meta.json).toMatchObject({ versions: [v2, v1] });
  });

  it('refuses a digest version whose source now holds other bytes, and loads those as a new version', async () => {
    const file = path.join(models.dir, 'changing.onnx');
    fs.copyFileSync(models.mlp, file);
    const first = await call(server, 'POST', '/v2/repository/models/changing/load', {
      source: file,
    });
    expect(first.status, first.body.toString()).toBe(200);
    const old = String(first.headers['x-model-version']);
    expect((await call(server, 'POST', '/v2/repository/models/changing/unload')).status).toBe(200);
    fs.copyFileSync(models.two, file);
    const gone = await call(server, 'POST', '/v2/repository/models/changing/load', {
      version: old,
    });
    expect(gone.status).toBe(404);
    expect((gone.json as { error: string }).error).toContain(
      `version ${old} was loaded from ${file}, which now holds version sha256:`,
    );
    // A load that names nothing reads the source again: its new bytes are a new version.
    const again = await call(server, 'POST', '/v2/repository/models/changing/load');
    expect(again.status, again.body.toString()).toBe(200);
    expect(again.headers['x-model-version']).not.toBe(old);
    expect(
      outputsOf(
        await infer(server, 'changing', {
          inputs: [
            { name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
            { name: 'b', datatype: 'FP32', shape: [1, 2], data: [3, 4] },
          ],
        }),
      ).sum?.data,
    ).toEqual([4, 6]);
    await server.repo.unload('changing');
  });

  it('loads a new model from a source named in the body, and refuses a corrupt one', async () => {
    const load = await call(server, 'POST', '/v2/repository/models/adder/load', {
      parameters: { source: models.two },
    });
    expect(load.status, load.body.toString()).toBe(200);
    expect(load.headers['x-model-name']).toBe('adder');
    const sum = await infer(server, 'adder', {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
        { name: 'b', datatype: 'FP32', shape: [1, 2], data: [3, 4] },
      ],
    });
    expect(outputsOf(sum).sum?.data).toEqual([4, 6]);
    const corrupt = path.join(models.dir, 'corrupt.onnx');
    fs.writeFileSync(corrupt, fs.readFileSync(models.mlp).subarray(0, 100));
    const bad = await call(server, 'POST', '/v2/repository/models/broken/load', {
      source: corrupt,
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toContain(
      `${corrupt} is not a model ONNX Runtime can load`,
    );
    const none = await call(server, 'POST', '/v2/repository/models/ghost/load');
    expect(none.status).toBe(400);
    expect((none.json as { error: string }).error).toMatch(/no source to load it from/);
  });

  it('unload waits for the request in flight, which finishes', async () => {
    const order: string[] = [];
    // In flight from its first byte; the rest of its body comes after the unload began.
    const inFlight = callInFlight(server, '/v2/models/mlp/infer', mlpBody, 300).then((answer) => {
      order.push('infer');
      return answer.status;
    });
    await new Promise((r) => setTimeout(r, 100));
    const unload = call(server, 'POST', '/v2/repository/models/mlp/unload').then((a) => {
      order.push('unload');
      return a.status;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect((await infer(server, 'mlp', mlpBody)).status).toBe(404);
    expect(await inFlight).toBe(200);
    expect(await unload).toBe(200);
    expect(order).toEqual(['infer', 'unload']);
    expect((await call(server, 'POST', '/v2/repository/models/mlp/load')).status).toBe(200);
  });

  it('answers 503 while a runtime is not ready', async () => {
    const real = server.repo.pick('adder');
    server.repo.add({
      ...real,
      runtime: { ...real.runtime, ready: () => false, close: () => Promise.resolve() },
    });
    expect((await call(server, 'GET', '/v2/health/ready')).status).toBe(503);
    expect((await call(server, 'GET', '/v2/models/adder/ready')).status).toBe(503);
    const a = await infer(server, 'adder', {});
    expect(a.status).toBe(503);
    expect(a.json).toEqual({ error: 'model "adder" is not ready' });
    await server.repo.unload('adder');
    expect((await call(server, 'GET', '/v2/health/ready')).status).toBe(200);
  });
});
