/**
 * The agent's pure parts: the worker's serve.yaml derived from rollout state (checked by the
 * serve config parser itself), the status report and its health and sync, the history entry a
 * state earns, and the router's path matching plus a real proxy round trip.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentStatus } from '../../src/deploy/agent-status.js';
import { revisionOutcome } from '../../src/deploy/agent-sync.js';
import type { DesiredEnvironment } from '../../src/deploy/agent-env.js';
import { parseEnvironment } from '../../src/deploy/environment.js';
import { initialState, type ModelRolloutState } from '../../src/deploy/rollout-types.js';
import { modelOfPath, startRouter, type RunningRouter } from '../../src/deploy/router.js';
import { emptyEnvironment, type EnvironmentState } from '../../src/deploy/state.js';
import {
  liveModel,
  sameWeights,
  serveConfigText,
  versionLabel,
} from '../../src/deploy/worker-config.js';
import { parseServeConfig } from '../../src/serve/config.js';

const A = `reg.local/acme/churn@sha256:${'a'.repeat(64)}`;
const B = `reg.local/acme/churn@sha256:${'b'.repeat(64)}`;
const [a, b] = ['a'.repeat(12), 'b'.repeat(12)];

const progressing: ModelRolloutState = {
  ...initialState(),
  stable: A,
  candidate: B,
  revision: 'c2',
  phase: 'progressing',
  step: 1,
  candidateWeight: 30,
};

describe('worker-config', () => {
  it('labels versions by the first 12 hex digits of the digest', () => {
    expect(versionLabel(A)).toBe(a);
    expect(() => versionLabel('reg.local/acme/churn:v1')).toThrow(/no sha256 digest/);
  });

  it('derives versions and weights from the rollout phase', () => {
    expect(liveModel('churn', initialState(), { runtime: 'onnx' })).toBeUndefined();
    const first = { ...initialState(), candidate: A, phase: 'starting' as const };
    expect(liveModel('churn', first, { runtime: 'onnx' })?.weights).toEqual({ [a]: 100 });
    expect(liveModel('churn', progressing, { runtime: 'onnx' })).toMatchObject({
      versions: { [a]: A, [b]: B },
      weights: { [a]: 70, [b]: 30 },
      candidate: b,
    });
    const stable = { ...initialState(), stable: A };
    expect(liveModel('churn', stable, { runtime: 'onnx' })?.weights).toEqual({ [a]: 100 });
  });

  it('writes a serve.yaml that cairn serve accepts, shadowing the candidate only in a rollout', () => {
    const spec = {
      runtime: 'onnx' as const,
      threads: 2,
      shadow: { percent: 10 },
      sticky: { header: 'X-User' },
    };
    const live = liveModel('churn', progressing, spec);
    if (live === undefined) throw new Error('nothing live');
    const config = parseServeConfig('serve.yaml', serveConfigText([live]), '/tmp');
    const churn = config.models[0];
    expect(churn?.versions.get(a)).toBe(A);
    expect(Object.fromEntries(churn?.traffic ?? [])).toEqual({ [a]: 70, [b]: 30 });
    expect(churn?.shadow).toEqual({ version: b, percent: 10 });
    expect(churn?.threads).toBe(2);
    const alone = liveModel('churn', { ...initialState(), stable: A }, spec);
    if (alone === undefined) throw new Error('nothing live');
    expect(
      parseServeConfig('s.yaml', serveConfigText([alone]), '/tmp').models[0]?.shadow,
    ).toBeUndefined();
  });

  it('compares weights ignoring zero entries', () => {
    expect(sameWeights({ [a]: 100, [b]: 0 }, { [a]: 100 })).toBe(true);
    expect(sameWeights({ [a]: 80, [b]: 20 }, { [b]: 20, [a]: 80 })).toBe(true);
    expect(sameWeights({ [a]: 100 }, { [a]: 80, [b]: 20 })).toBe(false);
  });
});

const ENV = `apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata:
  name: prod
spec:
  models:
    churn:
      modelkit: ${B}
`;
const declared = (commit: string): DesiredEnvironment => ({
  commit,
  env: parseEnvironment('environments/prod.yaml', ENV, 'prod'),
  pinned: new Map([['churn', B]]),
});

describe('agent status', () => {
  it('is Synced and Healthy when the live commit is the desired one and every model is stable', () => {
    const e: EnvironmentState = {
      ...emptyEnvironment(),
      desiredCommit: 'c1',
      appliedCommit: 'c1',
      models: { churn: { ...initialState(), stable: A } },
    };
    const s = environmentStatus('prod', e);
    expect(s).toMatchObject({ sync: 'Synced', health: 'Healthy', live: { commit: 'c1' } });
    expect(s.models.churn).toMatchObject({
      stable: { digest: `sha256:${'a'.repeat(64)}` },
      weights: { [a]: 100 },
    });
  });

  it('reports a rollout as Progressing with its step and weights, OutOfSync until applied', () => {
    const e = {
      ...emptyEnvironment(),
      desiredCommit: 'c2',
      appliedCommit: 'c1',
      models: { churn: progressing },
    };
    const s = environmentStatus('prod', e);
    expect(s).toMatchObject({ sync: 'OutOfSync', health: 'Progressing' });
    expect(s.models.churn).toMatchObject({
      step: 2,
      weights: { [a]: 70, [b]: 30 },
      candidate: { modelkit: B },
    });
  });

  it('is Degraded with the measurement after an abort, and with the reason of a parse error', () => {
    const aborted: ModelRolloutState = {
      ...initialState(),
      stable: A,
      failed: [{ commit: 'c2', digest: B, at: 1 }],
      lastFailure: {
        reason: 'error rate 50% > 1%',
        at: 1,
        measurement: { requests: 40, errorRate: 50 },
      },
    };
    const e = {
      ...emptyEnvironment(),
      desiredCommit: 'c2',
      appliedCommit: 'c1',
      models: { churn: aborted },
    };
    const s = environmentStatus('prod', e);
    expect(s.health).toBe('Degraded');
    expect(s.reason).toMatch(/churn: error rate 50% > 1% \(40 requests, error rate 50\.00%\)/);
    const broken = environmentStatus('prod', {
      ...e,
      reason: 'environments/prod.yaml:3:1: unknown key',
    });
    expect(broken.reason).toBe('environments/prod.yaml:3:1: unknown key');
  });

  it('counts a checkout declaring the same file as the live commit as Synced', () => {
    const e = { ...emptyEnvironment(), desiredCommit: 'c1', appliedCommit: 'c1', models: {} };
    expect(environmentStatus('prod', e, { commit: 'c9', sameAsLive: true }).sync).toBe('Synced');
    expect(environmentStatus('prod', e, { commit: 'c9', sameAsLive: false }).sync).toBe(
      'OutOfSync',
    );
  });
});

describe('revisionOutcome', () => {
  const base = { ...emptyEnvironment(), desiredCommit: 'c2' };
  it('says applied once every model is stable on its declared digest, and says it once', () => {
    const e = { ...base, models: { churn: { ...initialState(), stable: B } } };
    const entry = revisionOutcome(e, declared('c2'), 5);
    expect(entry).toEqual({ commit: 'c2', at: 5, result: 'applied' });
    expect(
      revisionOutcome(
        { ...e, history: [entry ?? { commit: '', at: 0, result: 'applied' }] },
        declared('c2'),
        6,
      ),
    ).toBeUndefined();
  });
  it('says progressing during a rollout, failed after an abort or with a reason', () => {
    expect(
      revisionOutcome({ ...base, models: { churn: progressing } }, declared('c2'), 1)?.result,
    ).toBe('progressing');
    const aborted = {
      ...initialState(),
      stable: A,
      failed: [{ commit: 'c2', digest: B, at: 1 }],
      lastFailure: { reason: 'p99 900ms > 250ms', at: 1 },
    };
    expect(
      revisionOutcome({ ...base, models: { churn: aborted } }, declared('c2'), 1),
    ).toMatchObject({ result: 'failed', message: 'p99 900ms > 250ms' });
    expect(revisionOutcome({ ...base, reason: 'git: down' }, declared('c1'), 1)).toMatchObject({
      result: 'failed',
      message: 'git: down',
    });
  });
});

describe('router', () => {
  it('matches the model of OIP and KServe v1 paths only', () => {
    expect(modelOfPath('/v2/models/churn/infer')).toBe('churn');
    expect(modelOfPath('/v2/models/churn/versions/abc/infer')).toBe('churn');
    expect(modelOfPath('/v2/models/churn')).toBe('churn');
    expect(modelOfPath('/v1/models/churn:predict')).toBe('churn');
    expect(modelOfPath('/v2/repository/models/churn/load')).toBeUndefined();
    expect(modelOfPath('/v2/admin/models/churn/traffic')).toBeUndefined();
  });

  let upstream: http.Server;
  let router: RunningRouter;
  let ready = false;
  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      res.writeHead(200, {
        'x-model-version': 'v1',
        'x-request-id': String(req.headers['x-request-id']),
      });
      res.end(`${req.method ?? ''} ${req.url ?? ''}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as { port: number }).port;
    router = await startRouter({
      host: '127.0.0.1',
      port: 0,
      table: {
        target: (m) =>
          m === 'churn' ? (ready ? `http://127.0.0.1:${String(port)}` : null) : undefined,
        ready: () => ready,
      },
      local: { '/healthz': () => Promise.resolve({ status: 200, type: 'text/plain', body: 'ok' }) },
    });
  });
  afterAll(async () => {
    await router.close();
    await new Promise((r) => upstream.close(r));
  });

  it('answers 503 before a worker is ready, then proxies with headers both ways; 404 for the undeclared', async () => {
    const post = () =>
      fetch(`${router.url}/v2/models/churn/infer`, {
        method: 'POST',
        body: '{}',
        headers: { 'x-request-id': 'r-1' },
      });
    expect((await post()).status).toBe(503);
    expect((await fetch(`${router.url}/v2/health/ready`)).status).toBe(503);
    ready = true;
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(res.headers.get('x-model-version')).toBe('v1');
    expect(await res.text()).toBe('POST /v2/models/churn/infer');
    expect(
      (await fetch(`${router.url}/v2/models/other/infer`, { method: 'POST', body: '{}' })).status,
    ).toBe(404);
    expect((await fetch(`${router.url}/v2/repository/index`, { method: 'POST' })).status).toBe(404);
    expect(await (await fetch(`${router.url}/healthz`)).text()).toBe('ok');
  });
});
