/**
 * `cairn serve --config` as a real child process with everything wired in: a 90/10 traffic
 * split, sticky and pinned callers, weights changed mid-load through the admin route and by
 * SIGHUP, a shadow version, /metrics, gRPC, micro-batching under concurrency, a supervised
 * process model that is killed and comes back, and sampled prediction logs.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInferenceProto } from '../../src/serve/grpc.js';
import { createSandbox, describeRun, waitFor, type Sandbox, type Spawned } from '../e2e/helpers.js';
import { call, infer, outputsOf, type Answer, startServe as start } from './client.js';
import { buildModels, mlpExpected, ONNX_MISSING, type TestModels } from './models.js';

const OIP_SERVER = path.resolve(import.meta.dirname, '../serve-ext/oip_server.py');

const config = (mlp: string, weights: string) => `models:
  mlp:
    threads: 1
    versions:
      v1: ${mlp}
      v2: ${mlp}
    traffic: ${weights}
    sticky: {header: x-user}
    batching: {maxBatchSize: 16, maxLatencyMs: 2}
  mirror:
    threads: 1
    versions:
      a: ${mlp}
      b: ${mlp}
    traffic: {a: 100}
    shadow: {version: b, percent: 100}
  doubler:
    runtime: process
    command: echo $$ > doubler.pid; exec /usr/bin/python3 oip_server.py
    versions:
      "1": oip_server.py
`;

const row = (i: number): number[] => [i % 7, (i * 3) % 5, -(i % 4), 0.5 * (i % 9)];
const body = (rows: number[][]) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
});

/** Runs `n` requests, `concurrency` at a time; returns every answer in order. */
async function load(
  n: number,
  concurrency: number,
  send: (i: number) => Promise<Answer>,
): Promise<Answer[]> {
  const answers: Answer[] = new Array<Answer>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        answers[i] = await send(i);
      }
    }),
  );
  return answers;
}

const versionCounts = (answers: readonly Answer[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const v = String(a.headers['x-model-version']);
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
};

/** The value of one sample line of the Prometheus text, or 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe.skipIf(ONNX_MISSING !== undefined)('cairn serve --config (everything wired)', () => {
  let models: TestModels;
  let sandbox: Sandbox;
  let server: { child: Spawned; port: number; grpcPort: number };
  const close = (expected: number[][], a: Answer): void => {
    expect(a.status, a.body.toString()).toBe(200);
    const got = outputsOf(a).y?.data as number[];
    expected.flat().forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 4);
    });
  };

  beforeAll(async () => {
    models = buildModels();
    sandbox = await createSandbox({ git: false });
    fs.copyFileSync(OIP_SERVER, sandbox.path('oip_server.py'));
    fs.writeFileSync(sandbox.path('serve.yaml'), config(models.mlp, '{v1: 90, v2: 10}'));
    const { child, line } = await start(sandbox, [
      '--config',
      'serve.yaml',
      '--grpc-port',
      '0',
      '--log-sample',
      '0.5',
      '--log-dir',
      'logs',
    ]);
    const m = /^listening on http:\/\/127\.0\.0\.1:(\d+) \(grpc 127\.0\.0\.1:(\d+)\)$/.exec(line);
    expect(m, line).not.toBeNull();
    server = { child, port: Number(m?.[1]), grpcPort: Number(m?.[2]) };
  }, 60_000);
  afterAll(async () => {
    server.child.kill('SIGKILL');
    await sandbox[Symbol.asyncDispose]();
    models.remove();
  });

  it('splits unversioned traffic 90/10, and x-model-version names who answered', async () => {
    const answers = await load(400, 8, (i) => infer(server, 'mlp', body([row(i)])));
    answers.forEach((a, i) => {
      close(mlpExpected(models.weights, [row(i)]), a);
    });
    const counts = versionCounts(answers);
    expect(Object.keys(counts).sort()).toEqual(['v1', 'v2']);
    // 10% of 400 is 40 with a standard deviation of 6: 12..68 is beyond 4.5 of them.
    expect(counts.v2).toBeGreaterThanOrEqual(12);
    expect(counts.v2).toBeLessThanOrEqual(68);
    expect(answers[0]?.headers['x-model-digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('keeps a sticky caller on one version, and a pin header or /versions/{v} wins', async () => {
    for (const user of ['ana', 'bo', 'cy', 'dee', 'eli', 'fay']) {
      const answers = await load(15, 3, () =>
        infer(server, 'mlp', body([row(1)]), { 'x-user': user }),
      );
      expect(Object.keys(versionCounts(answers)), user).toHaveLength(1);
    }
    const pinned = await load(20, 4, () =>
      infer(server, 'mlp', body([row(2)]), { 'x-model-version': 'v2' }),
    );
    expect(versionCounts(pinned)).toEqual({ v2: 20 });
    const url = await call(server, 'POST', '/v2/models/mlp/versions/v1/infer', body([row(2)]), {
      'x-model-version': 'v2',
    });
    expect(url.headers['x-model-version']).toBe('v1');
    const unknown = await infer(server, 'mlp', body([row(2)]), { 'x-model-version': 'v9' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: expect.stringContaining('v9') as unknown });
  });

  it('changes weights through the admin route mid-load without failing a request', async () => {
    const bad = await call(server, 'PUT', '/v2/admin/models/mlp/traffic', {
      weights: { v1: 50, v2: 60 },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: expect.stringContaining('sum to 110') as unknown });
    const unknown = await call(server, 'PUT', '/v2/admin/models/mlp/traffic', {
      weights: { v1: 50, v3: 50 },
    });
    expect(unknown.status).toBe(400);

    let switched = false;
    const during = load(300, 6, async (i) => {
      if (i === 100) {
        const put = await call(server, 'PUT', '/v2/admin/models/mlp/traffic', {
          weights: { v1: 0, v2: 100 },
        });
        expect(put.status, put.body.toString()).toBe(200);
        switched = true;
      }
      return infer(server, 'mlp', body([row(i)]));
    });
    const answers = await during;
    expect(switched).toBe(true);
    answers.forEach((a, i) => {
      close(mlpExpected(models.weights, [row(i)]), a);
    });
    const after = await load(40, 4, () => infer(server, 'mlp', body([row(3)])));
    expect(versionCounts(after)).toEqual({ v2: 40 });
  });

  it('re-reads the config on SIGHUP: new weights, a new version loaded, a dropped one unloaded', async () => {
    fs.writeFileSync(
      sandbox.path('serve.yaml'),
      config(models.mlp, '{v1: 100}').replace(`      v2: ${models.mlp}`, `      v3: ${models.mlp}`),
    );
    server.child.kill('SIGHUP');
    await waitFor('the reloaded config', async () => {
      const index = await call(server, 'POST', '/v2/repository/index');
      const versions = (index.json as { name: string; version?: string }[])
        .filter((e) => e.name === 'mlp')
        .map((e) => e.version);
      return versions.includes('v3') && !versions.includes('v2') ? true : undefined;
    });
    const answers = await load(40, 4, () => infer(server, 'mlp', body([row(4)])));
    expect(versionCounts(answers)).toEqual({ v1: 40 });
    const v3 = await infer(server, 'mlp', body([row(4)]), { 'x-model-version': 'v3' });
    close(mlpExpected(models.weights, [row(4)]), v3);
    const v2 = await call(server, 'POST', '/v2/models/mlp/versions/v2/infer', body([row(4)]));
    expect(v2.status).toBe(404);
  });

  it('answers correctly when concurrent requests are batched', async () => {
    const sizes = [1, 2, 3, 1, 4];
    const answers = await load(200, 64, (i) =>
      infer(server, 'mlp', body(Array.from({ length: sizes[i % 5] ?? 1 }, (_, r) => row(i + r)))),
    );
    answers.forEach((a, i) => {
      close(
        mlpExpected(
          models.weights,
          Array.from({ length: sizes[i % 5] ?? 1 }, (_, r) => row(i + r)),
        ),
        a,
      );
    });
  });

  it('mirrors requests to the shadow version without answering from it', async () => {
    const answers = await load(10, 2, (i) => infer(server, 'mirror', body([row(i)])));
    expect(versionCounts(answers)).toEqual({ a: 10 });
    const text = await waitFor('the shadow requests in /metrics', async () => {
      const m = (await call(server, 'GET', '/metrics')).body.toString();
      const shadowed = sample(
        m,
        'cairn_inference_requests_total{model="mirror",version="b",protocol="rest",code="200"}',
      );
      return shadowed === 10 ? m : undefined;
    });
    expect(
      sample(
        text,
        'cairn_inference_requests_total{model="mirror",version="a",protocol="rest",code="200"}',
      ),
    ).toBe(10);
  });

  it('serves OIP over gRPC from the same repository', async () => {
    const pkg = loadInferenceProto().inference as grpc.GrpcObject;
    const Client = pkg.GRPCInferenceService as grpc.ServiceClientConstructor;
    const client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const response = await new Promise<{
        model_name: string;
        model_version: string;
        outputs: { name: string; contents: { fp32_contents: number[] } }[];
      }>((resolve, reject) => {
        const method = (client as unknown as Record<string, grpc.requestCallback<unknown>>)
          .ModelInfer as unknown as (
          request: unknown,
          callback: (error: grpc.ServiceError | null, value: unknown) => void,
        ) => void;
        method.call(
          client,
          {
            model_name: 'mlp',
            model_version: 'v3',
            inputs: [
              {
                name: 'x',
                datatype: 'FP32',
                shape: [1, 4],
                contents: { fp32_contents: row(5) },
              },
            ],
            parameters: { binary_data_output: { bool_param: false } },
          },
          (error, value) => {
            if (error === null) resolve(value as never);
            else reject(error);
          },
        );
      });
      expect(response.model_name).toBe('mlp');
      expect(response.model_version).toBe('v3');
      const got = response.outputs[0]?.contents.fp32_contents ?? [];
      mlpExpected(models.weights, [row(5)])
        .flat()
        .forEach((v, i) => {
          expect(got[i]).toBeCloseTo(v, 4);
        });
      // Metadata stands in for headers: the pin header picks the version (v1 or v3, served
      // since the reload above), as over REST.
      const pinnedTo = (version: string) =>
        new Promise<string>((resolve, reject) => {
          const metadata = new grpc.Metadata();
          metadata.set('x-model-version', version);
          const method = (client as unknown as Record<string, unknown>).ModelInfer as (
            request: unknown,
            metadata: grpc.Metadata,
            callback: (error: grpc.ServiceError | null, value: unknown) => void,
          ) => void;
          method.call(
            client,
            {
              model_name: 'mlp',
              inputs: [
                { name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: row(6) } },
              ],
            },
            metadata,
            (error, value) => {
              if (error === null) resolve((value as { model_version: string }).model_version);
              else reject(error);
            },
          );
        });
      for (const version of ['v1', 'v3', 'v1', 'v3']) expect(await pinnedTo(version)).toBe(version);
      await expect(pinnedTo('v9')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      client.close();
    }
    const text = (await call(server, 'GET', '/metrics')).body.toString();
    expect(
      sample(
        text,
        'cairn_inference_requests_total{model="mlp",version="v3",protocol="grpc",code="200"}',
      ),
    ).toBe(3); // the call naming v3, and the two pinned to it
  });

  it('exposes request, batch, in-flight and load metrics', async () => {
    const a = await call(server, 'GET', '/metrics');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toContain('text/plain');
    const text = a.body.toString();
    const v1 = sample(
      text,
      'cairn_inference_requests_total{model="mlp",version="v1",protocol="rest",code="200"}',
    );
    expect(v1).toBeGreaterThan(300);
    expect(
      sample(
        text,
        'cairn_inference_requests_total{model="mlp",version="v9",protocol="rest",code="404"}',
      ),
    ).toBe(0);
    expect(
      sample(text, 'cairn_inference_batch_size_count{model="mlp",version="v1"}'),
    ).toBeGreaterThan(0);
    expect(
      sample(
        text,
        'cairn_inference_request_duration_seconds_count{model="mlp",version="v1",protocol="rest"}',
      ),
    ).toBe(v1);
    expect(text).toContain('cairn_inference_requests_in_flight{model="mlp",version="v1"} 0');
    // v2 was unloaded by the reload: its per-version series are gone.
    expect(text).not.toContain('cairn_model_load_duration_seconds{model="mlp",version="v2"}');
    expect(
      sample(text, 'cairn_model_load_duration_seconds{model="mlp",version="v3"}'),
    ).toBeGreaterThan(0);
  });

  it('answers 503 while a process model restarts after its child is killed, then recovers', async () => {
    const doubled = await infer(server, 'doubler', {
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [1.5, -2] }],
    });
    expect(doubled.status, doubled.body.toString()).toBe(200);
    expect(outputsOf(doubled).Y?.data).toEqual([3, -4]);
    const pid = Number(fs.readFileSync(sandbox.path('doubler.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    const statuses: number[] = [];
    const ask = () =>
      infer(server, 'doubler', {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
      });
    await waitFor('a 503 from the restarting model', async () => {
      const a = await ask();
      statuses.push(a.status);
      return a.status === 503 ? true : undefined;
    });
    const back = await waitFor('the model back', async () => {
      const a = await ask();
      statuses.push(a.status);
      return a.status === 200 ? a : undefined;
    });
    expect(outputsOf(back).Y?.data).toEqual([2, 4]);
    // Never a 500: a dead child is "unavailable" until its replacement is ready.
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([503]));
    expect(Number(fs.readFileSync(sandbox.path('doubler.pid'), 'utf8'))).not.toBe(pid);
  });

  it('writes a sampled prediction log per model version, flushed by the drain', async () => {
    const text = (await call(server, 'GET', '/metrics')).body.toString();
    const answered = sample(
      text,
      'cairn_inference_requests_total{model="mlp",version="v1",protocol="rest",code="200"}',
    );
    server.child.kill('SIGTERM');
    const exit = await server.child.exited;
    expect(exit.code, describeRun(['serve'], exit)).toBe(0);
    const lines = fs
      .readFileSync(sandbox.path('logs/mlp/v1/predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { model: string; version: string; digest: string; inputs: unknown[] },
      );
    // Half of the answers, give or take far more than chance allows.
    expect(lines.length).toBeGreaterThan(answered * 0.3);
    expect(lines.length).toBeLessThan(answered * 0.7);
    expect(lines[0]).toMatchObject({ model: 'mlp', version: 'v1' });
    expect(lines[0]?.digest).toMatch(/^sha256:/);
    expect(fs.existsSync(sandbox.path('logs/mirror/b/predictions.jsonl'))).toBe(true);
    expect(exit.stderr).toContain('"msg":"listening"');
    expect(exit.stderr).not.toContain('"inputs":[');
  });
});

describe.skipIf(ONNX_MISSING !== undefined)('cairn serve --config refusals', () => {
  let models: TestModels;
  let sandbox: Sandbox;
  beforeAll(async () => {
    models = buildModels();
    sandbox = await createSandbox({ git: false });
  });
  afterAll(async () => {
    await sandbox[Symbol.asyncDispose]();
    models.remove();
  });

  it('names the gRPC port in the --json start line, and closes it on SIGTERM', async () => {
    const { child, line } = await start(sandbox, ['--json', '--grpc-port', '0', models.mlp]);
    const doc = JSON.parse(line) as { port: number; grpcPort: number };
    expect(doc.grpcPort).toBeGreaterThan(0);
    expect(doc.grpcPort).not.toBe(doc.port);
    child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code, describeRun(['serve'], exit)).toBe(0);
    expect(exit.stderr).toContain('"msg":"stopped"');
  });

  it('leaves no process model behind when the server is killed with SIGKILL', async () => {
    fs.copyFileSync(OIP_SERVER, sandbox.path('oip_server.py'));
    fs.writeFileSync(
      sandbox.path('orphan.yaml'),
      `models:
  doubler:
    runtime: process
    command: echo $$ > orphan.pid; exec /usr/bin/python3 oip_server.py
    versions:
      "1": oip_server.py
`,
    );
    const { child } = await start(sandbox, ['--config', 'orphan.yaml']);
    const pid = Number(fs.readFileSync(sandbox.path('orphan.pid'), 'utf8'));
    const running = (): boolean => {
      try {
        return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(running()).toBe(true);
    child.kill('SIGKILL');
    await child.exited;
    const deadline = Date.now() + 5_000;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running(), `model process ${pid} outlived its server`).toBe(false);
  });

  it('refuses a model named both in the config and on the command line', async () => {
    fs.writeFileSync(
      sandbox.path('serve.yaml'),
      `models:\n  mlp:\n    versions:\n      v1: ${models.mlp}\n`,
    );
    const r = await sandbox.cairn([
      'serve',
      '--port',
      '0',
      '--config',
      'serve.yaml',
      `mlp=${models.mlp}`,
    ]);
    expect(r.code, describeRun(['serve'], r)).toBe(1);
    expect(r.stderr).toContain('serve.yaml also declares');
  });
});
