import { describe, expect, test } from 'vitest';
import type { Measurement } from './gates.js';
import {
  health,
  initialState,
  next,
  type Action,
  type Declared,
  type ModelRolloutState,
  type Observation,
  type RolloutSpec,
} from './rollout.js';

const A = `reg.local/acme/churn@sha256:${'a'.repeat(64)}`;
const B = `reg.local/acme/churn@sha256:${'b'.repeat(64)}`;
const C = `reg.local/acme/churn@sha256:${'c'.repeat(64)}`;
const S = 1000;

const analysis = {
  interval: '10s',
  minRequests: 20,
  maxErrorRate: 1,
  maxP99Ms: 250,
  maxFailedChecks: 0,
};
const canary: RolloutSpec = {
  steps: [{ setWeight: 10 }, { pause: { duration: '30s' } }, { analysis: {} }, { setWeight: 50 }],
  analysis,
  onFailure: 'abort',
};
const declare = (digest: string, commit: string, rollout?: RolloutSpec): Declared => ({
  model: 'churn',
  digest,
  commit,
  ...(rollout === undefined ? {} : { rollout }),
});
const serving = (digest: string): ModelRolloutState => ({ ...initialState(), stable: digest });
const good: Measurement = { requests: 100, errorRate: 0.5, p99Ms: 120 };
const ready = (candidate?: Measurement): Observation => ({
  candidateReady: true,
  ...(candidate === undefined ? {} : { candidate }),
});

/** Runs ticks `[time in s, observation]` and collects every action. */
function drive(state: ModelRolloutState, d: Declared, ticks: [number, Observation][]) {
  const actions: Action[] = [];
  let s = state;
  for (const [t, obs] of ticks) {
    const r = next(s, d, obs, t * S);
    s = r.state;
    actions.push(...r.actions);
  }
  return { state: s, actions };
}
const kinds = (actions: readonly Action[]) =>
  actions.map((a) => (a.type === 'notify' ? `notify:${a.event.reason}` : a.type));
const weights = (actions: readonly Action[]) =>
  actions.flatMap((a) => (a.type === 'setWeights' ? [a.candidateWeight] : []));

/** B rolled out over A up to the analysis step, gates passing. */
function midRollout(spec: RolloutSpec = canary) {
  return drive(serving(A), declare(B, 'c2', spec), [
    [0, { candidateReady: false }],
    [5, ready()],
    [15, ready(good)],
  ]);
}

describe('canary rollout', () => {
  test('a candidate that passes every gate walks the steps and is promoted', () => {
    const d = declare(B, 'c2', canary);
    const { state, actions } = drive(serving(A), d, [
      [0, { candidateReady: false }],
      [5, ready()],
      [15, ready(good)],
      [35, ready(good)],
      [40, ready(good)],
      [45, ready(good)],
    ]);
    expect(kinds(actions)).toEqual([
      'startCandidate',
      'notify:RolloutStarted',
      'setWeights',
      'setWeights',
      'notify:RolloutStepPassed',
      'notify:RolloutStepPassed',
      'notify:RolloutStepPassed',
      'setWeights',
      'notify:RolloutStepPassed',
      'promote',
      'notify:Promoted',
    ]);
    expect(weights(actions)).toEqual([0, 10, 50]);
    expect(actions).toContainEqual({ type: 'promote', digest: B, previous: A });
    expect(state.stable).toBe(B);
    expect(state.candidate).toBeUndefined();
    expect(health(state)).toEqual({ status: 'Healthy' });
    // Promoted is final: the same declaration again changes nothing.
    expect(next(state, d, ready(good), 100 * S).actions).toEqual([]);
  });

  test('the pause holds the candidate at its weight until its duration has passed', () => {
    const { state } = drive(serving(A), declare(B, 'c2', canary), [
      [0, ready()],
      [1, ready()],
      [20, ready(good)],
    ]);
    expect(state).toMatchObject({ phase: 'progressing', step: 1, candidateWeight: 10 });
    expect(health(state)).toEqual({
      status: 'Progressing',
      message: 'step 2, candidate at 10%',
    });
  });

  test('an error rate over the gate aborts: all traffic to stable, the revision remembered', () => {
    const bad: Measurement = { requests: 80, errorRate: 5, p99Ms: 100 };
    const { state, actions } = drive(serving(A), declare(B, 'c2', canary), [
      [0, ready()],
      [1, ready()],
      [11, ready(bad)],
    ]);
    const abort = actions.find((a) => a.type === 'abort');
    expect(abort).toEqual({ type: 'abort', reason: 'error rate 5% > 1%', measurement: bad });
    expect(actions).toContainEqual({
      type: 'setWeights',
      stable: A,
      candidate: undefined,
      candidateWeight: 0,
    });
    expect(actions).toContainEqual({ type: 'stopCandidate', digest: B });
    const event = actions.find((a) => a.type === 'notify' && a.event.reason === 'RolloutAborted');
    expect(event).toMatchObject({ event: { severity: 'error', weight: 10, commit: 'c2' } });
    expect(state).toMatchObject({ phase: 'stable', stable: A, candidateWeight: 0 });
    expect(state.failed).toEqual([{ commit: 'c2', digest: B, at: 11 * S }]);
    expect(health(state)).toEqual({
      status: 'Degraded',
      reason: 'error rate 5% > 1%',
      measurement: bad,
    });
  });

  test('a p99 over the gate aborts during the analysis step', () => {
    const slow: Measurement = { requests: 50, errorRate: 0, p99Ms: 900 };
    const { state, actions } = drive(midRollout().state, declare(B, 'c2', canary), [
      [35, ready(good)],
      [45, ready(slow)],
    ]);
    expect(actions.find((a) => a.type === 'abort')).toMatchObject({
      reason: 'p99 900ms > 250ms',
    });
    expect(health(state).status).toBe('Degraded');
  });

  test('a declared gate with no measurement fails rather than passes', () => {
    const blind: Measurement = { requests: 50, errorRate: 0 };
    const { actions } = drive(midRollout().state, declare(B, 'c2', canary), [[45, ready(blind)]]);
    expect(actions.find((a) => a.type === 'abort')).toMatchObject({
      reason: 'no p99 latency measured',
    });
  });

  test('below minRequests the gates wait, then judge as soon as the traffic is there', () => {
    const d = declare(B, 'c2', canary);
    const few: Measurement = { requests: 3, errorRate: 100, p99Ms: 5000 };
    const { state } = drive(midRollout().state, d, [
      [35, ready(few)],
      [60, ready(few)],
    ]);
    expect(state).toMatchObject({ step: 2, failedChecks: 0, passedChecksInStep: 0 });
    expect(health(state)).toEqual({
      status: 'Progressing',
      message: 'step 3, candidate at 10%; candidate answered 3 of the 20 requests the gates need',
    });
    const after = next(state, d, ready(good), 61 * S);
    expect(kinds(after.actions)).toContain('promote');
    expect(after.state.stable).toBe(B);
  });

  test('maxFailedChecks tolerates that many failed checks and aborts on the next', () => {
    const tolerant: RolloutSpec = {
      ...canary,
      steps: [{ setWeight: 20 }, { analysis: { duration: '1m' } }],
      analysis: { ...analysis, maxFailedChecks: 2 },
    };
    const d = declare(B, 'c2', tolerant);
    const bad = ready({ requests: 40, errorRate: 3, p99Ms: 10 });
    const { state } = drive(serving(A), d, [
      [0, ready()],
      [1, ready()],
      [11, bad],
      [21, ready(good)],
      [31, bad],
    ]);
    expect(state).toMatchObject({ phase: 'progressing', failedChecks: 2 });
    const third = next(state, d, bad, 41 * S);
    expect(third.state.candidate).toBeUndefined();
    expect(kinds(third.actions)).toContain('abort');
  });

  test('onFailure: pause holds the weights and reports Suspended', () => {
    const held: RolloutSpec = { ...canary, onFailure: 'pause' };
    const d = declare(B, 'c2', held);
    const bad: Measurement = { requests: 80, errorRate: 9, p99Ms: 100 };
    const { state, actions } = drive(serving(A), d, [
      [0, ready()],
      [1, ready()],
      [11, ready(bad)],
    ]);
    expect(kinds(actions).slice(-1)).toEqual(['notify:RolloutSuspended']);
    expect(kinds(actions)).not.toContain('stopCandidate');
    expect(state).toMatchObject({ phase: 'suspended', candidate: B, candidateWeight: 10 });
    expect(health(state)).toEqual({
      status: 'Suspended',
      reason: 'error rate 9% > 1%',
      measurement: bad,
    });
    expect(next(state, d, ready(good), 500 * S)).toEqual({ state, actions: [] });
    // A person fixes it in git: the held rollout is cancelled and the new digest starts.
    const fixed = next(state, declare(C, 'c3', held), ready(), 600 * S);
    expect(kinds(fixed.actions)).toEqual([
      'notify:RolloutCancelled',
      'setWeights',
      'stopCandidate',
      'startCandidate',
      'notify:RolloutStarted',
    ]);
    expect(fixed.state).toMatchObject({ phase: 'starting', candidate: C, revision: 'c3' });
  });

  test('a newer revision mid-rollout cancels it and starts over from the new digest', () => {
    const { state, actions } = drive(midRollout().state, declare(C, 'c3', canary), [
      [20, { candidateReady: false }],
    ]);
    expect(actions.slice(0, 3)).toEqual([
      expect.objectContaining({ type: 'notify' }),
      { type: 'setWeights', stable: A, candidate: undefined, candidateWeight: 0 },
      { type: 'stopCandidate', digest: B },
    ]);
    expect(actions).toContainEqual({ type: 'startCandidate', digest: C });
    expect(state).toMatchObject({ stable: A, candidate: C, step: 0, failedChecks: 0 });
    expect(state.failed).toEqual([]);
  });

  test('git reverting to the stable digest mid-rollout cancels and is Healthy', () => {
    const { state, actions } = drive(midRollout().state, declare(A, 'c3', canary), [[20, ready()]]);
    expect(kinds(actions)).toEqual(['notify:RolloutCancelled', 'setWeights', 'stopCandidate']);
    expect(state).toEqual(serving(A));
    expect(health(state)).toEqual({ status: 'Healthy' });
  });

  test('a failed revision is not retried until git declares another commit', () => {
    const d = declare(B, 'c2', canary);
    const aborted = drive(serving(A), d, [
      [0, ready()],
      [1, ready()],
      [11, ready({ requests: 30, errorRate: 50, p99Ms: 10 })],
    ]).state;
    for (const t of [20, 60, 3600])
      expect(next(aborted, d, ready(good), t * S).actions).toEqual([]);
    // Same digest, new commit (say the rollout spec was fixed): tried again.
    const retry = next(aborted, declare(B, 'c4', canary), { candidateReady: false }, 4000 * S);
    expect(kinds(retry.actions)).toEqual(['startCandidate', 'notify:RolloutStarted']);
    expect(health(retry.state).status).toBe('Progressing');
  });

  test('a state written to JSON and read back continues at the same step', () => {
    const d = declare(B, 'c2', canary);
    const { state } = midRollout();
    const revived = JSON.parse(JSON.stringify(state)) as ModelRolloutState;
    expect(revived).toEqual(state);
    const ticks: [number, Observation][] = [
      [35, ready(good)],
      [45, ready(good)],
    ];
    expect(drive(revived, d, ticks)).toEqual(drive(state, d, ticks));
    expect(drive(revived, d, ticks).state.stable).toBe(B);
  });
});

describe('replacing without a strategy', () => {
  test('the new digest starts, takes all traffic once ready, and the old one stops', () => {
    const d = declare(B, 'c2');
    const { state, actions } = drive(serving(A), d, [
      [0, { candidateReady: false }],
      [3, { candidateReady: false }],
    ]);
    expect(kinds(actions)).toEqual(['startCandidate', 'notify:RolloutStarted']);
    expect(health(state)).toEqual({ status: 'Progressing', message: `starting ${B}` });
    const done = next(state, d, ready(), 4 * S);
    expect(done.actions[0]).toEqual({ type: 'promote', digest: B, previous: A });
    expect(done.state).toEqual(serving(B));
  });

  test('the first deploy of a model with a canary strategy has nothing to canary against', () => {
    const { state, actions } = drive(initialState(), declare(A, 'c1', canary), [
      [0, { candidateReady: false }],
      [1, ready()],
    ]);
    expect(actions).toContainEqual({ type: 'promote', digest: A, previous: undefined });
    expect(state.stable).toBe(A);
  });

  test('a candidate that fails to start is aborted and remembered', () => {
    const { state, actions } = drive(serving(A), declare(B, 'c2'), [
      [0, { candidateReady: false }],
      [2, { candidateReady: false, candidateError: 'model.onnx: invalid protobuf' }],
    ]);
    expect(actions).toContainEqual({
      type: 'abort',
      reason: 'candidate failed: model.onnx: invalid protobuf',
    });
    expect(state).toMatchObject({ stable: A, failed: [{ digest: B, commit: 'c2' }] });
  });

  test('a candidate that dies mid-canary is aborted even under onFailure: pause', () => {
    const held: RolloutSpec = { ...canary, onFailure: 'pause' };
    const { state, actions } = drive(serving(A), declare(B, 'c2', held), [
      [0, ready()],
      [1, ready()],
      [5, { candidateReady: false, candidateError: 'worker exited with signal SIGSEGV' }],
    ]);
    expect(kinds(actions).slice(-4)).toEqual([
      'setWeights',
      'stopCandidate',
      'abort',
      'notify:RolloutAborted',
    ]);
    expect(state).toMatchObject({ phase: 'stable', stable: A, candidateWeight: 0 });
  });
});
