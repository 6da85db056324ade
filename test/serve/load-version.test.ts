/**
 * Loading one version of a model by name through the repository extension, on a `--config`
 * model with two labels and a 50/50 split: a version unloaded and loaded back answers again
 * (and traffic finds it again), `parameters.version` works like `version`, a source can be
 * loaded under a label, a load without either reloads every declared version, a reload of the
 * config moves where a label loads from, a replaced version finishes its request in flight, a
 * load of every version is all or nothing, and bad requests are 400s and 404s that say what to
 * send.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type ServeHandle } from '../../src/commands/serve.js';
import { call, callInFlight, ctx, infer, outputsOf, type Answer } from './client.js';
import {
  buildModels,
  mlpExpected,
  mlpVariant,
  ONNX_MISSING,
  type MlpWeights,
  type TestModels,
} from './models.js';

const row = [1, 2, 3, 4];
const mlpBody = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: row }] };
const twoBody = {
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
    { name: 'b', datatype: 'FP32', shape: [1, 2], data: [3, 4] },
  ],
};

const digestOf = (file: string): string =>
  `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;

const config = (v2: string) => `models:
  mlp:
    threads: 1
    versions:
      v1: mlp.onnx
      v2: ${v2}
    traffic: {v1: 50, v2: 50}
`;

const load = (server: { port: number }, model: string, body?: unknown): Promise<Answer> =>
  call(server, 'POST', `/v2/repository/models/${model}/load`, body);
const unload = (server: { port: number }, model: string, body?: unknown): Promise<Answer> =>
  call(server, 'POST', `/v2/repository/models/${model}/unload`, body);
const errorOf = (a: Answer): string => (a.json as { error: string }).error;

/** Which versions answered `n` unversioned MLP requests, and that each answer was right. */
async function versionsAnswering(
  server: { port: number },
  weights: MlpWeights,
  n: number,
): Promise<Set<string>> {
  const seen = new Set<string>();
  const expected = mlpExpected(weights, [row])[0] ?? [];
  for (let i = 0; i < n; i++) {
    const a = await infer(server, 'mlp', mlpBody);
    expect(a.status, a.body.toString()).toBe(200);
    (outputsOf(a).y?.data as number[]).forEach((v, j) => {
      expect(v).toBeCloseTo(expected[j] ?? NaN, 4);
    });
    seen.add(String(a.headers['x-model-version']));
  }
  return seen;
}

describe.skipIf(ONNX_MISSING !== undefined)('loading a version by name', () => {
  let models: TestModels;
  let dir: string;
  let server: ServeHandle;
  let v2File: string;
  beforeAll(async () => {
    models = buildModels();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-load-version-'));
    fs.copyFileSync(models.mlp, path.join(dir, 'mlp.onnx'));
    v2File = mlpVariant(models, path.join(dir, 'mlp-v2.onnx'), 'version two');
    fs.writeFileSync(path.join(dir, 'serve.yaml'), config('mlp-v2.onnx'));
    server = await serve(ctx(dir), {
      sources: [],
      config: 'serve.yaml',
      host: '127.0.0.1',
      port: 0,
      maxBody: 1024 * 1024,
      threads: 1,
    });
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
    fs.rmSync(dir, { recursive: true, force: true });
    models.remove();
  });

  it('unloads v2, then loads {"version": "v2"} back from its config source, and the split finds it again', async () => {
    expect(digestOf(v2File)).not.toBe(digestOf(models.mlp));
    expect((await unload(server, 'mlp', { version: 'v2' })).status).toBe(200);
    expect((await infer(server, 'mlp/versions/v2', mlpBody)).status).toBe(404);
    // v2's share goes to v1 while v2 is unloaded: no unversioned request fails.
    expect(await versionsAnswering(server, models.weights, 30)).toEqual(new Set(['v1']));
    const pinned = await infer(server, 'mlp', mlpBody, { 'x-model-version': 'v2' });
    expect(pinned.status).toBe(404);
    expect(errorOf(pinned)).toMatch(/no version v2; loaded: v1/);

    const back = await load(server, 'mlp', { version: 'v2' });
    expect(back.status, back.body.toString()).toBe(200);
    expect(back.headers['x-model-version']).toBe('v2');
    const answer = await infer(server, 'mlp/versions/v2', mlpBody);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-model-version']).toBe('v2');
    expect(answer.headers['x-model-digest']).toBe(digestOf(v2File));
    // 60 draws of a 50/50 split miss one side with probability 2^-59.
    expect(await versionsAnswering(server, models.weights, 60)).toEqual(new Set(['v1', 'v2']));
  });

  it('takes the version under "parameters" too, and a replaced version finishes its request in flight', async () => {
    const before = server.repo.pick('mlp', 'v1');
    const order: string[] = [];
    // In flight on v1 from its first byte; the rest of its body comes after the load.
    const inFlight = callInFlight(server, '/v2/models/mlp/versions/v1/infer', mlpBody, 400).then(
      (answer) => {
        order.push('infer');
        return answer;
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    const reloaded = await load(server, 'mlp', { parameters: { version: 'v1' } });
    order.push('load');
    expect(reloaded.status, reloaded.body.toString()).toBe(200);
    expect(reloaded.headers['x-model-version']).toBe('v1');
    expect(server.repo.pick('mlp', 'v1')).not.toBe(before);
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.headers['x-model-version']).toBe('v1');
    expect(order).toEqual(['load', 'infer']);
  });

  it('answers 404 for a version it has no source for, saying what it knows and what to send', async () => {
    const unknown = await load(server, 'mlp', { version: 'v9' });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)).toContain('model "mlp" has no version v9');
    expect(errorOf(unknown)).toContain('known versions: v1, v2');
    expect(errorOf(unknown)).toContain('{"source": "<SOURCE>", "version": "v9"}');
    const ghost = await load(server, 'ghost', { parameters: { version: 'v1' } });
    expect(ghost.status).toBe(404);
    expect(errorOf(ghost)).toContain('the server knows no source for model "ghost"');
  });

  it.each([
    [{ version: 2 }, /"version" must be a non-empty string, not a number/],
    [
      { parameters: { version: true } },
      /"parameters.version" must be a non-empty string, not a boolean/,
    ],
    [{ version: '' }, /"version" must be a non-empty string, not an empty one/],
    [{ source: ['a.onnx'] }, /"source" must be a non-empty string, not an array/],
    [{ parameters: 'v2' }, /"parameters" must be an object like \{"version": "v2"\}, not a string/],
    [[{ version: 'v2' }], /the request body must be a JSON object/],
    [
      { version: 'v1', parameters: { version: 'v2' } },
      /"version" and "parameters.version" disagree/,
    ],
    [{ source: 'mlp.onnx', version: 'sha256:00' }, /"version" "sha256:00" is not a version label/],
    ['{"version": ', /not valid JSON/],
  ])('refuses the load body %j with a 400 naming the field', async (body, message) => {
    const a = await load(server, 'mlp', body);
    expect(a.status, a.body.toString()).toBe(400);
    expect(errorOf(a)).toMatch(message);
  });

  it('refuses an unload body whose version is not a string', async () => {
    const a = await unload(server, 'mlp', { parameters: { version: 1 } });
    expect(a.status).toBe(400);
    expect(errorOf(a)).toMatch(/"parameters.version" must be a non-empty string, not a number/);
  });

  it('loads a source under a label: the label is the version, the digest stays the bytes', async () => {
    const a = await load(server, 'mlp', { source: models.two, version: 'v3' });
    expect(a.status, a.body.toString()).toBe(200);
    const sum = await infer(server, 'mlp/versions/v3', twoBody);
    expect(outputsOf(sum).sum?.data).toEqual([4, 6]);
    expect(sum.headers['x-model-version']).toBe('v3');
    expect(sum.headers['x-model-digest']).toBe(digestOf(models.two));
    // Outside the split, but a pin to it works; unversioned requests stay on v1 and v2.
    const pinned = await infer(server, 'mlp', twoBody, { 'x-model-version': 'v3' });
    expect(pinned.headers['x-model-version']).toBe('v3');
    expect(await versionsAnswering(server, models.weights, 20)).not.toContain('v3');
    // The server remembers where v3 came from.
    expect((await unload(server, 'mlp', { version: 'v3' })).status).toBe(200);
    expect((await infer(server, 'mlp/versions/v3', twoBody)).status).toBe(404);
    expect((await load(server, 'mlp', { version: 'v3' })).status).toBe(200);
    expect((await infer(server, 'mlp/versions/v3', twoBody)).headers['x-model-digest']).toBe(
      digestOf(models.two),
    );
  });

  it('loads every version it knows when the body names none', async () => {
    expect((await unload(server, 'mlp')).status).toBe(200);
    expect((await call(server, 'POST', '/v2/repository/index')).json).toContainEqual({
      name: 'mlp',
      state: 'UNAVAILABLE',
      reason: 'unloaded',
    });
    const a = await load(server, 'mlp');
    expect(a.status, a.body.toString()).toBe(200);
    const index = (await call(server, 'POST', '/v2/repository/index')).json as {
      name: string;
      version?: string;
      state: string;
    }[];
    expect(index.filter((e) => e.name === 'mlp').map((e) => [e.version, e.state])).toEqual([
      ['v1', 'READY'],
      ['v2', 'READY'],
      ['v3', 'READY'],
    ]);
    expect(await versionsAnswering(server, models.weights, 60)).toEqual(new Set(['v1', 'v2']));
  });

  it('loads a label from the source the config declares after a reload moved it', async () => {
    fs.writeFileSync(path.join(dir, 'serve.yaml'), config(models.two));
    const reloaded = await server.reload();
    // The label is still declared, so its loaded runtime stays until it is loaded again.
    expect(reloaded.loaded).toEqual([]);
    expect((await infer(server, 'mlp/versions/v2', mlpBody)).headers['x-model-digest']).toBe(
      digestOf(v2File),
    );
    expect((await load(server, 'mlp', { version: 'v2' })).status).toBe(200);
    const moved = await infer(server, 'mlp/versions/v2', twoBody);
    expect(moved.status, moved.body.toString()).toBe(200);
    expect(moved.headers['x-model-digest']).toBe(digestOf(models.two));
  });

  it('loads all of a model or none of it', async () => {
    const file = path.join(dir, 'v4.onnx');
    fs.copyFileSync(models.mlp, file);
    expect((await load(server, 'mlp', { source: file, version: 'v4' })).status).toBe(200);
    fs.writeFileSync(file, fs.readFileSync(models.mlp).subarray(0, 100));
    expect((await unload(server, 'mlp')).status).toBe(200);
    const broken = await load(server, 'mlp');
    expect(broken.status).toBe(400);
    expect(errorOf(broken)).toContain(`${file} is not a model ONNX Runtime can load`);
    // The versions loaded before v4 failed were discarded: the model is still unloaded.
    expect((await call(server, 'POST', '/v2/repository/index')).json).toContainEqual({
      name: 'mlp',
      state: 'UNAVAILABLE',
      reason: 'unloaded',
    });
    expect((await load(server, 'mlp', { version: 'v1' })).status).toBe(200);
    expect(await versionsAnswering(server, models.weights, 10)).toEqual(new Set(['v1']));
  });
});
