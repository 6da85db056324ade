/**
 * `cairn serve` as a real child process: the listening line, inference over a real socket, a
 * SIGTERM that lets the request in flight finish before exit 0, ModelKits packed with
 * `cairn pack` and served from the local store (named by their Kitfile, versioned by their
 * manifest digest), and refusals — a corrupt .onnx file, a ModelKit whose blob does not verify.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeRoot } from '../../src/oci/layout.js';
import { createSandbox, describeRun, type Sandbox } from '../e2e/helpers.js';
import { HAVE_REGISTRY, startRegistry } from '../registry/harness.js';
import { buildModels, ONNX_MISSING, type TestModels } from './models.js';
import { callInFlight, infer, outputsOf, startServe as start } from './client.js';

const KITFILE = `manifestVersion: 1.0.0
package:
  name: demo-package
model:
  name: classifier
  path: model.onnx
`;

const portOf = (line: string): number =>
  Number(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line)?.[1]);

describe.skipIf(ONNX_MISSING !== undefined)('cairn serve (the CLI)', () => {
  let models: TestModels;
  let sandbox: Sandbox;
  beforeAll(async () => {
    models = buildModels();
    sandbox = await createSandbox({ git: false });
    for (const [dir, model] of [
      ['kit', models.mlp],
      ['bigkit', models.big],
      // Its own blobs: the corruption test damages them.
      ['badkit', models.two],
    ] as const) {
      fs.mkdirSync(sandbox.path(dir));
      fs.copyFileSync(model, sandbox.path(`${dir}/model.onnx`));
      fs.writeFileSync(sandbox.path(`${dir}/Kitfile`), KITFILE);
    }
  });
  afterAll(async () => {
    await sandbox[Symbol.asyncDispose]();
    models.remove();
  });

  it('serves until SIGTERM, lets the request in flight finish, and exits 0', async () => {
    const { child, line } = await start(sandbox, [models.mlp]);
    const port = portOf(line);
    expect(port).toBeGreaterThan(0);
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] };
    expect((await infer({ port }, 'mlp', body)).status).toBe(200);

    // The rest of its body goes only after the server has been told to stop.
    const inFlight = callInFlight({ port }, '/v2/models/mlp/infer', body, 500);
    await new Promise((r) => setTimeout(r, 150));
    child.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status, answer.body.toString()).toBe(200);
    expect(answer.json).toMatchObject({ model_name: 'mlp' });
    const exit = await child.exited;
    expect(exit.code, describeRun(['serve'], exit)).toBe(0);
  });

  it('--exit-with-stdin: drains and exits 0 when stdin ends (its supervisor is gone)', async () => {
    // The sandbox gives children no stdin (/dev/null): it ends at once, so the server listens,
    // then stops by itself.
    const child = sandbox.spawnCairn(['serve', '--port', '0', '--exit-with-stdin', models.mlp]);
    const exit = await child.exited;
    expect(exit.code, describeRun(['serve', '--exit-with-stdin'], exit)).toBe(0);
    expect(exit.stdout).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it('serves a packed ModelKit from the local store, named by its Kitfile, versioned by its digest', async () => {
    const packed = await sandbox.cairnOk(['pack', 'kit', '-t', 'demo/clf:v1']);
    const digest = /sha256:[0-9a-f]{64}/.exec(packed.stdout)?.[0];
    expect(digest).toBeDefined();
    const started = Date.now();
    const { child, line } = await start(sandbox, [
      '--json',
      'demo/clf:v1',
      `folder=${sandbox.path('kit')}`,
    ]);
    const doc = JSON.parse(line) as {
      port: number;
      models: { name: string; version: string; digest: string }[];
    };
    const modelDigest = `sha256:${createHash('sha256').update(fs.readFileSync(models.mlp)).digest('hex')}`;
    expect(doc.models).toEqual([
      { name: 'classifier', version: digest, digest: modelDigest, source: 'demo/clf:v1' },
      { name: 'folder', version: modelDigest, digest: modelDigest, source: sandbox.path('kit') },
    ]);
    const a = await infer(doc, 'classifier', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
    });
    expect(a.headers['x-model-version']).toBe(digest);
    expect(a.headers['x-model-digest']).toBe(modelDigest);
    expect(outputsOf(a).y?.shape).toEqual([1, 3]);
    child.child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('serves a ModelKit with a compressed model layer (through a temporary unpack)', async () => {
    const packed = await sandbox.cairnOk([
      'pack',
      'kit',
      '-t',
      'demo/gz:v1',
      '--compression',
      'gzip',
      '--json',
    ]);
    const digest = (JSON.parse(packed.stdout) as { digest: string }).digest;
    const { child, line } = await start(sandbox, ['--json', 'gz=demo/gz:v1']);
    const doc = JSON.parse(line) as { port: number; models: { name: string; version: string }[] };
    expect(doc.models).toMatchObject([{ name: 'gz', version: digest }]);
    const a = await infer(doc, 'gz', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [4, 3, 2, 1] }],
    });
    expect(outputsOf(a).y?.shape).toEqual([1, 3]);
    child.child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(
      fs
        .readdirSync(os.tmpdir())
        .filter((n) => n.startsWith('cairn-serve-') && !n.includes('models')),
    ).toEqual([]);
  });

  it('is ready quickly with a 10 MB model from the local store', async () => {
    await sandbox.cairnOk(['pack', 'bigkit', '-t', 'demo/big:v1']);
    const started = Date.now();
    const { child } = await start(sandbox, ['demo/big:v1']);
    const ms = Date.now() - started;
    child.child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    // The budget is 0.5 s on an idle machine (process start included); tests share the cores.
    console.log(`cairn serve of a 10 MB ModelKit was listening after ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
  });

  it("turns ONNX Runtime's telemetry off unless the environment says otherwise", async () => {
    // onnxruntime-node 1.30's Linux build keeps an event database under ~/.cache/Microsoft and
    // writes /tmp/mat-debug-PID.log on every start unless ORT_DISABLE_TELEMETRY is set.
    const { child, line } = await start(sandbox, [models.mlp], {
      env: { ORT_DISABLE_TELEMETRY: undefined },
    });
    const port = portOf(line);
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] };
    expect((await infer({ port }, 'mlp', body)).status).toBe(200);
    child.child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(fs.existsSync(path.join(sandbox.env.HOME ?? '', '.cache', 'Microsoft'))).toBe(false);
    expect(fs.existsSync(`/tmp/mat-debug-${String(child.child.pid)}.log`)).toBe(false);
  });

  it('refuses a ModelKit whose model blob does not verify, naming the digest', async () => {
    const packed = await sandbox.cairnOk(['pack', 'badkit', '-t', 'demo/bad:v1', '--json']);
    const manifestDigest = (JSON.parse(packed.stdout) as { digest: string }).digest;
    const store = storeRoot({
      XDG_DATA_HOME: path.join(sandbox.env.HOME ?? '', '.local', 'share'),
    });
    const manifest = JSON.parse(
      fs.readFileSync(path.join(store, 'blobs', 'sha256', manifestDigest.slice(7)), 'utf8'),
    ) as { layers: { digest: string }[] };
    const layer = manifest.layers[0]?.digest ?? '';
    const blob = path.join(store, 'blobs', 'sha256', layer.slice(7));
    const bytes = fs.readFileSync(blob);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    fs.chmodSync(blob, 0o644);
    fs.writeFileSync(blob, bytes);
    const r = await sandbox.cairn(['serve', '--port', '0', 'demo/bad:v1']);
    expect(r.code, describeRun(['serve'], r)).not.toBe(0);
    expect(r.stderr).toContain(manifestDigest);
    expect(r.stderr).toContain(layer);
  });

  it.skipIf(!HAVE_REGISTRY)(
    'pulls a ModelKit the local store lacks from its registry',
    async () => {
      const registry = await startRegistry();
      try {
        const ref = `${registry.host}/demo/remote:v1`;
        const packed = await sandbox.cairnOk(['pack', 'kit', '-t', ref, '--json']);
        const digest = (JSON.parse(packed.stdout) as { digest: string }).digest;
        await sandbox.cairnOk(['push', ref, '--plain-http']);
        await sandbox.cairnOk(['rm', ref]);
        const { child, line } = await start(sandbox, ['--json', '--plain-http', ref]);
        const doc = JSON.parse(line) as {
          port: number;
          models: { name: string; version: string }[];
        };
        expect(doc.models).toMatchObject([{ name: 'classifier', version: digest }]);
        const a = await infer(doc, 'classifier', {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
        });
        expect(outputsOf(a).y?.shape).toEqual([2, 3]);
        child.child.kill('SIGTERM');
        expect((await child.exited).code).toBe(0);
      } finally {
        await registry.stop();
      }
    },
  );

  it('refuses a corrupt .onnx file, naming it', async () => {
    const corrupt = sandbox.path('corrupt.onnx');
    fs.writeFileSync(corrupt, fs.readFileSync(models.mlp).subarray(0, 200));
    const r = await sandbox.cairn(['serve', '--port', '0', corrupt]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${corrupt} is not a model ONNX Runtime can load`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
