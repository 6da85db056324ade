/**
 * `cairn agent` end to end with real processes: a git repository (a plain path) holding
 * environments/prod.yaml, ModelKits packed from small ONNX models into the sandbox's store, the
 * agent and its `cairn serve` worker on loopback ports, real requests through the router.
 * Scenarios: first deploy; a canary that passes its analysis and promotes; weights changed by
 * hand through the worker's admin route are put back; a worker killed by hand is restarted;
 * `--once`; and `cairn status --env --json` reflecting each.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, describeRun, waitFor, type Sandbox, type Spawned } from '../e2e/helpers.js';
import { ONNX_MISSING } from '../serve/models.js';
import { call, infer, type Answer } from '../serve/client.js';

/** y = x · k, one model per factor: the answer names the version that gave it. */
const SCRIPT = String.raw`
import sys, os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as T
out = sys.argv[1]
for k in (1, 2, 3):
    x = helper.make_tensor_value_info('x', T.FLOAT, ['batch', 2])
    y = helper.make_tensor_value_info('y', T.FLOAT, ['batch', 2])
    g = helper.make_graph([helper.make_node('Mul', ['x', 'k'], ['y'])], 'mul', [x], [y],
                          [numpy_helper.from_array(np.array([k], dtype=np.float32), 'k')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 8
    d = os.path.join(out, 'kit%d' % k)
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, 'model.onnx'))
`;

const KITFILE =
  'manifestVersion: 1.0.0\npackage:\n  name: demo\nmodel:\n  name: demo\n  path: model.onnx\n';

const BODY = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };

interface Status {
  environment: string;
  desired: { commit: string | null };
  live: { commit: string | null };
  sync: string;
  health: string;
  reason?: string;
  worker?: { pid: number; url: string };
  models: Record<
    string,
    {
      stable?: { digest: string };
      candidate?: { digest: string };
      step?: number;
      weights: Record<string, number>;
      analysis: { passed: boolean; measurement: { requests: number } }[];
    }
  >;
  history: { commit: string; result: string }[];
}

function envFile(name: string, digest: string, rollout = ''): string {
  return `apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata:
  name: ${name}
spec:
  models:
    demo:
      modelkit: localhost/acme/demo@${digest}
${rollout}`;
}

const label = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

describe.skipIf(ONNX_MISSING !== undefined)('cairn agent', () => {
  let sb: Sandbox;
  const digests: string[] = [];
  let agent: Spawned;
  let port = 0;

  const commit = async (name: string, text: string, message: string) => {
    fs.mkdirSync(sb.path('environments'), { recursive: true });
    fs.writeFileSync(sb.path(`environments/${name}.yaml`), text);
    await sb.git(['add', 'environments']);
    await sb.git(['commit', '-qm', message]);
    return (await sb.git(['rev-parse', 'HEAD'])).trim();
  };
  const status = async (env = 'prod', stateDir?: string): Promise<Status> => {
    const r = await sb.cairn([
      'status',
      '--env',
      env,
      '--json',
      ...(stateDir === undefined ? [] : ['--state-dir', stateDir]),
    ]);
    if (r.code !== 0) throw new Error(describeRun(['status'], r));
    return JSON.parse(r.stdout) as Status;
  };
  const events = (): { reason?: string }[] =>
    fs
      .readFileSync(sb.path('.cairn/agent/events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { reason?: string });
  const ask = (): Promise<Answer> => infer({ port }, 'demo', BODY);

  beforeAll(async () => {
    sb = await createSandbox();
    execFileSync('/usr/bin/python3', ['-c', SCRIPT, sb.path('kits')]);
    for (const k of [1, 2, 3]) {
      fs.writeFileSync(sb.path(`kits/kit${String(k)}/Kitfile`), KITFILE);
      const out = await sb.cairnOk([
        'pack',
        `kits/kit${String(k)}`,
        '-t',
        `acme/demo:v${String(k)}`,
        '--json',
      ]);
      digests.push((JSON.parse(out.stdout) as { digest: string }).digest);
    }
    fs.mkdirSync(sb.path('kits/broken'));
    fs.writeFileSync(sb.path('kits/broken/model.onnx'), 'not an ONNX model\n');
    fs.writeFileSync(sb.path('kits/broken/Kitfile'), KITFILE);
    const broken = await sb.cairnOk(['pack', 'kits/broken', '-t', 'acme/demo:broken', '--json']);
    digests.push((JSON.parse(broken.stdout) as { digest: string }).digest);
    fs.writeFileSync(sb.path('.gitignore'), 'kits/\n');
    await commit('prod', envFile('prod', digests[0] ?? ''), 'deploy v1');
  }, 120_000);

  afterAll(async () => {
    await sb[Symbol.asyncDispose]();
  });

  it('first deploy: the declared ModelKit answers through the router', async () => {
    agent = sb.spawnCairn([
      'agent',
      '--repo',
      '.',
      '--env',
      'prod',
      '--port',
      '0',
      '--interval',
      '1s',
      '--json',
    ]);
    const line = await waitFor('the listening line', () => {
      const first = agent.stdout().split('\n')[0];
      return first !== undefined && agent.stdout().includes('\n') ? first : undefined;
    });
    const listening = JSON.parse(line) as { event: string; url: string };
    expect(listening.event).toBe('listening');
    port = Number(new URL(listening.url).port);

    const answer = await waitFor(
      'a 200 from the first deploy',
      async () => {
        const a = await ask();
        return a.status === 200 ? a : undefined;
      },
      60_000,
      200,
    );
    expect(answer.headers['x-model-version']).toBe(label(digests[0] ?? ''));
    expect((answer.json as { outputs: { data: number[] }[] }).outputs[0]?.data).toEqual([1, 2]);
    // Never a model git does not declare, nor the worker's admin routes.
    expect((await infer({ port }, 'other', BODY)).status).toBe(404);
    expect((await call({ port }, 'GET', '/v2/admin/models/demo/traffic')).status).toBe(404);

    const s = await waitFor(
      'Synced and Healthy',
      async () => {
        const st = await status();
        return st.sync === 'Synced' && st.health === 'Healthy' ? st : undefined;
      },
      30_000,
      200,
    );
    expect(s.models.demo?.stable?.digest).toBe(digests[0]);
    expect(s.models.demo?.weights).toEqual({ [label(digests[0] ?? '')]: 100 });
    expect(s.history[0]?.result).toBe('applied');

    const health = await call({ port }, 'GET', '/healthz');
    expect(health.json).toMatchObject({
      environments: { prod: { sync: 'Synced', health: 'Healthy' } },
    });
    const metrics = (await call({ port }, 'GET', '/metrics')).body.toString();
    expect(metrics).toMatch(
      /cairn_agent_reconciles_total\{environment="prod",result="success"\} [1-9]/,
    );
    expect(metrics).toContain('cairn_agent_environment_synced{environment="prod"} 1');
  });

  it('a new digest with steps and analysis goes canary, passes its gates and promotes', async () => {
    const rollout = `      rollout:
        steps:
          - setWeight: 50
          - analysis: {}
        analysis:
          interval: 1s
          minRequests: 5
          maxErrorRate: 1
`;
    const head = await commit('prod', envFile('prod', digests[1] ?? '', rollout), 'canary v2');
    const seen = new Set<string>();
    await waitFor(
      'the promotion of v2',
      async () => {
        // A burst per poll, so the candidate's 50% reaches minRequests quickly.
        for (const a of await Promise.all(Array.from({ length: 10 }, ask))) {
          if (a.status === 200) seen.add(String(a.headers['x-model-version']));
        }
        const st = await status();
        return st.models.demo?.stable?.digest === digests[1] && st.live.commit === head
          ? st
          : undefined;
      },
      90_000,
      50,
    );
    // Both versions answered while the canary ran at 50%.
    expect(seen).toContain(label(digests[0] ?? ''));
    expect(seen).toContain(label(digests[1] ?? ''));
    const after = await ask();
    expect((after.json as { outputs: { data: number[] }[] }).outputs[0]?.data).toEqual([2, 4]);
    const st = await status();
    expect(st.sync).toBe('Synced');
    expect(st.health).toBe('Healthy');
    expect(st.models.demo?.analysis.some((c) => c.passed && c.measurement.requests >= 5)).toBe(
      true,
    );
    const reasons = events().map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['RolloutStarted', 'RolloutStepPassed', 'Promoted']),
    );
  });

  it('a candidate failing its gate is aborted: all traffic back to stable, Degraded with the measurement', async () => {
    const rollout = `      rollout:
        steps:
          - setWeight: 50
          - analysis: {}
        analysis:
          interval: 1s
          minRequests: 5
          maxP99Ms: 0.001
`;
    const head = await commit(
      'prod',
      envFile('prod', digests[2] ?? '', rollout),
      'canary v3, too slow',
    );
    const v2 = label(digests[1] ?? '');
    const st = await waitFor(
      'the abort',
      async () => {
        await Promise.all(Array.from({ length: 10 }, ask));
        const s = await status();
        return s.health === 'Degraded' ? s : undefined;
      },
      90_000,
      50,
    );
    expect(st.desired.commit).toBe(head);
    expect(st.sync).toBe('OutOfSync');
    expect(st.reason).toMatch(/p99 .*ms > 0\.001ms/);
    expect(st.models.demo?.stable?.digest).toBe(digests[1]);
    expect(st.models.demo?.candidate).toBeUndefined();
    expect(st.models.demo?.weights).toEqual({ [v2]: 100 });
    expect(st.models.demo?.analysis.at(-1)).toMatchObject({ passed: false });
    expect(st.history[0]).toMatchObject({ commit: head, result: 'failed' });
    await waitFor(
      'the RolloutAborted event',
      () => (events().some((e) => e.reason === 'RolloutAborted') ? true : undefined),
      15_000,
      100,
    );
    const answers = await Promise.all(Array.from({ length: 10 }, ask));
    expect(new Set(answers.map((a) => a.headers['x-model-version']))).toEqual(new Set([v2]));
  });

  it('a candidate that fails to load is aborted and the stable version keeps answering', async () => {
    const rollout = `      rollout:
        steps:
          - setWeight: 50
`;
    const head = await commit(
      'prod',
      envFile('prod', digests[3] ?? '', rollout),
      'a broken ModelKit',
    );
    const st = await waitFor(
      'the failed candidate',
      async () => {
        const s = await status();
        const last = s.history[0];
        return last?.commit === head && last.result === 'failed' ? s : undefined;
      },
      60_000,
      200,
    );
    expect(st.reason).toMatch(/candidate failed: .*not a model ONNX Runtime can load/);
    expect(st.models.demo?.stable?.digest).toBe(digests[1]);
    expect(st.models.demo?.weights).toEqual({ [label(digests[1] ?? '')]: 100 });
    const a = await ask();
    expect(a.status).toBe(200);
    expect(a.headers['x-model-version']).toBe(label(digests[1] ?? ''));
  });

  it('puts back weights changed through the worker admin route, and restarts a killed worker', async () => {
    const rollout = `      rollout:
        steps:
          - setWeight: 20
          - pause: { duration: 1h }
`;
    await commit('prod', envFile('prod', digests[2] ?? '', rollout), 'canary v3, held');
    const [v2, v3] = [label(digests[1] ?? ''), label(digests[2] ?? '')];
    const held = await waitFor(
      'the canary at 20%',
      async () => {
        const st = await status();
        const m = st.models.demo;
        return m !== undefined && m.candidate?.digest === digests[2] && m.weights[v3] === 20
          ? st
          : undefined;
      },
      60_000,
      200,
    );
    expect(held.health).toBe('Progressing');
    expect(held.models.demo?.step).toBe(2);
    const worker = held.worker;
    if (worker === undefined) throw new Error('status names no worker');
    const traffic = async (url: string) =>
      (await (await fetch(`${url}/v2/admin/models/demo/traffic`)).json()) as {
        weights: Record<string, number>;
      };
    await waitFor(
      'the weights on the worker',
      async () => {
        const w = (await traffic(worker.url)).weights;
        return w[v3] === 20 ? w : undefined;
      },
      30_000,
      100,
    );

    const put = await fetch(`${worker.url}/v2/admin/models/demo/traffic`, {
      method: 'PUT',
      body: JSON.stringify({ weights: { [v2]: 0, [v3]: 100 } }),
    });
    expect(put.status).toBe(200);
    await waitFor(
      'the weights put back',
      async () => {
        const w = (await traffic(worker.url)).weights;
        return w[v2] === 80 && w[v3] === 20 ? w : undefined;
      },
      30_000,
      100,
    );
    await waitFor(
      'the DriftCorrected event',
      () => (events().some((e) => e.reason === 'DriftCorrected') ? true : undefined),
      15_000,
      100,
    );

    process.kill(worker.pid, 'SIGKILL');
    const restarted = await waitFor(
      'a new worker',
      async () => {
        const st = await status();
        return st.worker !== undefined && st.worker.pid !== worker.pid ? st.worker : undefined;
      },
      60_000,
      200,
    );
    const w = await waitFor(
      'the restarted worker at 80/20',
      async () => {
        const got = (await traffic(restarted.url)).weights;
        return got[v3] === 20 ? got : undefined;
      },
      30_000,
      100,
    );
    expect(w).toEqual({ [v2]: 80, [v3]: 20 });
    expect(
      (
        await waitFor(
          'a 200 after the restart',
          async () => {
            const a = await ask();
            return a.status === 200 ? a : undefined;
          },
          30_000,
          100,
        )
      ).status,
    ).toBe(200);
    await waitFor(
      'the WorkerExited event',
      () => (events().some((e) => e.reason === 'WorkerExited') ? true : undefined),
      15_000,
      100,
    );
  });

  it('stops on SIGTERM and its worker goes with it', async () => {
    const st = await status();
    const pid = st.worker?.pid;
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    expect(exit.code, describeRun(['agent'], exit)).toBe(0);
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (pid !== undefined)
      await waitFor('the worker to exit', () => (alive(pid) ? undefined : true), 15_000, 100);
  });

  it('--once reconciles, waits for the result and exits 0 when Synced and Healthy, 1 otherwise', async () => {
    const head = await commit('prod', envFile('prod', digests[0] ?? ''), 'back to v1, no rollout');
    const ok = await sb.cairn(
      [
        'agent',
        '--once',
        '--repo',
        '.',
        '--env',
        'prod',
        '--port',
        '0',
        '--state-dir',
        'once',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(ok.code, describeRun(['agent', '--once'], ok)).toBe(0);
    const lines = ok.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'listening' });
    expect(lines[1]).toMatchObject({
      environment: 'prod',
      sync: 'Synced',
      health: 'Healthy',
      live: { commit: head },
    });
    const st = await status('prod', 'once');
    expect(st.models.demo?.stable?.digest).toBe(digests[0]);

    await commit(
      'staging',
      envFile('staging', digests[0] ?? '').replace('models:', 'modles:'),
      'a typo',
    );
    const bad = await sb.cairn(
      [
        'agent',
        '--once',
        '--repo',
        '.',
        '--env',
        'staging',
        '--port',
        '0',
        '--state-dir',
        'once',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(bad.code, describeRun(['agent', '--once'], bad)).toBe(1);
    const report = JSON.parse(bad.stdout.trim().split('\n')[1] ?? '{}') as Status;
    expect(report.health).toBe('Degraded');
    expect(report.reason).toMatch(/environments\/staging\.yaml:\d+:\d+/);
  });
});
