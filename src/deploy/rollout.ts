/**
 * The rollout state machine for one model, as a pure function: given what it has done so far,
 * what git declares, what the workers show and the time, it answers the new state and the
 * actions the agent must carry out. Canary semantics follow Flagger and Argo Rollouts: the
 * candidate starts at weight 0, walks `setWeight`/`pause`/`analysis` steps, is judged by gates
 * and either becomes stable or is aborted back to stable and remembered as failed.
 */
import { parseDuration } from '../core/duration.js';
import { judge, type Measurement } from './gates.js';
import {
  type Action,
  type Declared,
  type Failure,
  type ModelRolloutState,
  type Observation,
  type RolloutEventReason,
  type Transition,
} from './rollout-types.js';

export * from './rollout-types.js';

const FAILED_KEPT = 20;

/** One tick. `now` is milliseconds since the epoch (any monotonic clock works). */
export function next(
  state: ModelRolloutState,
  d: Declared,
  obs: Observation,
  now: number,
): Transition {
  const out: Action[] = [];
  const emit = (
    reason: RolloutEventReason,
    s: ModelRolloutState,
    message: string,
    measurement?: Measurement,
  ): void => {
    out.push({
      type: 'notify',
      event: {
        reason,
        severity: reason === 'RolloutAborted' || reason === 'RolloutSuspended' ? 'error' : 'info',
        model: d.model,
        digest: s.candidate ?? d.digest,
        commit: s.revision ?? d.commit,
        step: s.step,
        weight: s.candidateWeight,
        message,
        ...(measurement === undefined ? {} : { measurement }),
      },
    });
  };
  const isFailed = (s: ModelRolloutState) =>
    s.failed.some((f) => f.digest === d.digest && f.commit === d.commit);

  let s = state;
  if (s.candidate !== undefined && s.candidate !== d.digest) {
    // A newer revision cancels the rollout in flight (Flux CancelHealthCheckOnNewRevision).
    emit('RolloutCancelled', s, `git now declares ${d.digest} (commit ${d.commit})`);
    out.push({ type: 'setWeights', stable: s.stable, candidate: undefined, candidateWeight: 0 });
    out.push({ type: 'stopCandidate', digest: s.candidate });
    s = withoutCandidate(s);
  }
  if (s.candidate === undefined) {
    if (d.digest === s.stable) return { state: dropFailure(s), actions: out };
    if (isFailed(s)) return { state: s, actions: out };
    s = {
      ...dropFailure(withoutCandidate(s)),
      candidate: d.digest,
      revision: d.commit,
      phase: 'starting',
      stepStartedAt: now,
    };
    out.push({ type: 'startCandidate', digest: d.digest });
    emit(
      'RolloutStarted',
      s,
      s.stable === undefined ? `starting ${d.digest}` : `starting ${d.digest} beside ${s.stable}`,
    );
    // This tick's observation predates the worker just asked for; judge it on the next one.
    return { state: s, actions: out };
  } else if (s.revision !== d.commit) {
    s = { ...s, revision: d.commit };
  }
  if (s.phase === 'suspended') return { state: s, actions: out };

  const fail = (message: string, measurement?: Measurement, hold = true): Transition => {
    const failure: Failure = {
      reason: message,
      at: now,
      ...(measurement === undefined ? {} : { measurement }),
    };
    if (hold && d.rollout?.onFailure === 'pause' && s.stable !== undefined) {
      s = { ...s, phase: 'suspended', lastFailure: failure };
      emit(
        'RolloutSuspended',
        s,
        `held at weight ${String(s.candidateWeight)}: ${message}`,
        measurement,
      );
      return { state: s, actions: out };
    }
    out.push({ type: 'setWeights', stable: s.stable, candidate: undefined, candidateWeight: 0 });
    out.push({ type: 'stopCandidate', digest: d.digest });
    out.push({
      type: 'abort',
      reason: message,
      ...(measurement === undefined ? {} : { measurement }),
    });
    emit('RolloutAborted', s, message, measurement);
    const failed = [...s.failed, { commit: d.commit, digest: d.digest, at: now }].slice(
      -FAILED_KEPT,
    );
    return { state: { ...withoutCandidate(s), failed, lastFailure: failure }, actions: out };
  };
  const promote = (): Transition => {
    out.push({ type: 'promote', digest: d.digest, previous: s.stable });
    emit('Promoted', s, `${d.digest} now takes all traffic`);
    return { state: { ...withoutCandidate(s), stable: d.digest }, actions: out };
  };

  // A dead candidate is never held at its weight: its share of traffic would have nowhere to go.
  if (obs.candidateError !== undefined) {
    return fail(`candidate failed: ${obs.candidateError}`, undefined, false);
  }
  if (s.phase === 'starting') {
    if (!obs.candidateReady) return { state: s, actions: out };
    // Nothing to compare against, or no strategy: replace directly.
    if (s.stable === undefined || d.rollout === undefined) return promote();
    s = { ...s, phase: 'progressing', step: 0, stepStartedAt: now, candidateWeight: 0 };
    out.push({ type: 'setWeights', stable: s.stable, candidate: d.digest, candidateWeight: 0 });
  }

  const rollout = d.rollout;
  for (;;) {
    const step = rollout?.steps[s.step];
    if (rollout === undefined || step === undefined) return promote();
    if ('setWeight' in step) {
      s = { ...s, candidateWeight: step.setWeight };
      out.push({
        type: 'setWeights',
        stable: s.stable,
        candidate: d.digest,
        candidateWeight: step.setWeight,
      });
      s = advance(s, now, emit);
      continue;
    }
    const spec = rollout.analysis;
    const gated = 'analysis' in step || s.candidateWeight > 0;
    if (
      spec !== undefined &&
      gated &&
      now - (s.lastCheckAt ?? s.stepStartedAt) >= parseDuration(spec.interval)
    ) {
      const verdict = judge(spec, obs.candidate);
      if (verdict.kind === 'waiting') {
        s = { ...s, waiting: verdict.message };
      } else if (verdict.kind === 'passed') {
        s = {
          ...withoutWaiting(s),
          lastCheckAt: now,
          passedChecksInStep: s.passedChecksInStep + 1,
        };
      } else {
        s = { ...withoutWaiting(s), lastCheckAt: now, failedChecks: s.failedChecks + 1 };
        if (s.failedChecks > spec.maxFailedChecks) return fail(verdict.message, obs.candidate);
      }
    }
    const elapsed = now - s.stepStartedAt;
    const done =
      'pause' in step
        ? elapsed >= parseDuration(step.pause.duration)
        : s.passedChecksInStep > 0 &&
          (step.analysis.duration === undefined ||
            elapsed >= parseDuration(step.analysis.duration));
    if (!done) return { state: s, actions: out };
    s = advance(s, now, emit);
  }
}

function advance(
  s: ModelRolloutState,
  now: number,
  emit: (reason: RolloutEventReason, s: ModelRolloutState, message: string) => void,
): ModelRolloutState {
  emit(
    'RolloutStepPassed',
    s,
    `step ${String(s.step + 1)} passed at weight ${String(s.candidateWeight)}`,
  );
  const moved = {
    ...withoutWaiting(s),
    step: s.step + 1,
    stepStartedAt: now,
    passedChecksInStep: 0,
  };
  delete (moved as { lastCheckAt?: number }).lastCheckAt;
  return moved;
}

function withoutWaiting(s: ModelRolloutState): ModelRolloutState {
  const { waiting: _waiting, ...rest } = s;
  return rest;
}

function dropFailure(s: ModelRolloutState): ModelRolloutState {
  const { lastFailure: _lastFailure, ...rest } = s;
  return rest;
}

/** Back to serving stable alone: the rollout bookkeeping is cleared, history kept. */
function withoutCandidate(s: ModelRolloutState): ModelRolloutState {
  const base: ModelRolloutState = {
    phase: 'stable',
    step: 0,
    stepStartedAt: 0,
    candidateWeight: 0,
    failedChecks: 0,
    passedChecksInStep: 0,
    failed: s.failed,
  };
  return {
    ...base,
    ...(s.stable === undefined ? {} : { stable: s.stable }),
    ...(s.lastFailure === undefined ? {} : { lastFailure: s.lastFailure }),
  };
}
