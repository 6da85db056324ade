/**
 * The data of a rollout: the per-model state the agent persists, the actions the machine asks
 * for, the events it reports, and the health it derives (Argo CD's Healthy / Progressing /
 * Degraded / Suspended). Everything here is plain JSON so a state survives a restart.
 */
import { unreachable } from '../core/errors.js';
import type { ModelDeclaration } from './environment.js';
import type { Measurement } from './gates.js';

export type RolloutSpec = NonNullable<ModelDeclaration['rollout']>;

/** What git declares for the model at the commit the agent follows. */
export interface Declared {
  readonly model: string;
  /** the ModelKit reference by digest, as the manifest writes it */
  readonly digest: string;
  readonly commit: string;
  readonly rollout?: RolloutSpec;
}

/** What the agent saw of the candidate on this tick. */
export interface Observation {
  /** the candidate's worker is up and ready */
  readonly candidateReady: boolean;
  /** the candidate's worker could not start or died; aborts the rollout even under onFailure: pause */
  readonly candidateError?: string;
  /** the candidate's traffic since the current step started */
  readonly candidate?: Measurement;
}

export function initialState(): ModelRolloutState {
  return {
    phase: 'stable',
    step: 0,
    stepStartedAt: 0,
    candidateWeight: 0,
    failedChecks: 0,
    passedChecksInStep: 0,
    failed: [],
  };
}

/** stable: serving one version; starting: the candidate is loading; suspended: held for a person */
export type Phase = 'stable' | 'starting' | 'progressing' | 'suspended';

/** A revision that failed its rollout; not retried until git declares another commit. */
export interface FailedRevision {
  readonly commit: string;
  readonly digest: string;
  /** ms since the epoch */
  readonly at: number;
}

export interface Failure {
  readonly reason: string;
  readonly measurement?: Measurement;
  /** ms since the epoch */
  readonly at: number;
}

export interface ModelRolloutState {
  /** the digest taking the traffic the candidate does not */
  readonly stable?: string;
  readonly candidate?: string;
  /** the git commit that declared the candidate */
  readonly revision?: string;
  readonly phase: Phase;
  /** index into `rollout.steps` */
  readonly step: number;
  /** ms since the epoch */
  readonly stepStartedAt: number;
  /** percent of requests the candidate gets, 0–100 */
  readonly candidateWeight: number;
  /** failed gate checks in this rollout */
  readonly failedChecks: number;
  readonly passedChecksInStep: number;
  /** ms since the epoch of the last check that counted */
  readonly lastCheckAt?: number;
  /** why the gates are not judged yet (too few requests) */
  readonly waiting?: string;
  readonly lastFailure?: Failure;
  /** oldest first, bounded */
  readonly failed: readonly FailedRevision[];
}

export type RolloutEventReason =
  | 'RolloutStarted'
  | 'RolloutStepPassed'
  | 'Promoted'
  | 'RolloutAborted'
  | 'RolloutSuspended'
  | 'RolloutCancelled';

export interface RolloutEvent {
  readonly reason: RolloutEventReason;
  readonly severity: 'info' | 'error';
  readonly model: string;
  readonly digest: string;
  readonly commit: string;
  /** index of the step, 0-based */
  readonly step: number;
  /** the candidate's weight in percent */
  readonly weight: number;
  readonly message: string;
  readonly measurement?: Measurement;
}

export type Action =
  /** start a worker for `digest`, taking no traffic yet */
  | { readonly type: 'startCandidate'; readonly digest: string }
  /** route `candidateWeight` percent to the candidate, the rest to stable */
  | {
      readonly type: 'setWeights';
      readonly stable: string | undefined;
      readonly candidate: string | undefined;
      readonly candidateWeight: number;
    }
  | { readonly type: 'stopCandidate'; readonly digest: string }
  /** `digest` takes all traffic and becomes stable; stop `previous` */
  | { readonly type: 'promote'; readonly digest: string; readonly previous: string | undefined }
  | { readonly type: 'abort'; readonly reason: string; readonly measurement?: Measurement }
  | { readonly type: 'notify'; readonly event: RolloutEvent };

export interface Transition {
  readonly state: ModelRolloutState;
  readonly actions: readonly Action[];
}

export type Health =
  | { readonly status: 'Healthy' }
  | { readonly status: 'Progressing'; readonly message: string }
  | { readonly status: 'Degraded'; readonly reason: string; readonly measurement?: Measurement }
  | { readonly status: 'Suspended'; readonly reason: string; readonly measurement?: Measurement };

/** What `cairn status` shows for the model. */
export function health(s: ModelRolloutState): Health {
  switch (s.phase) {
    case 'stable':
      if (s.lastFailure === undefined) return { status: 'Healthy' };
      return { status: 'Degraded', ...failureFields(s.lastFailure) };
    case 'starting':
      return { status: 'Progressing', message: `starting ${s.candidate ?? '?'}` };
    case 'progressing':
      return {
        status: 'Progressing',
        message: `step ${String(s.step + 1)}, candidate at ${String(s.candidateWeight)}%${s.waiting === undefined ? '' : `; ${s.waiting}`}`,
      };
    case 'suspended':
      return {
        status: 'Suspended',
        ...(s.lastFailure === undefined ? { reason: 'suspended' } : failureFields(s.lastFailure)),
      };
    default:
      return unreachable(s.phase);
  }
}

function failureFields(f: Failure): { reason: string; measurement?: Measurement } {
  return {
    reason: f.reason,
    ...(f.measurement === undefined ? {} : { measurement: f.measurement }),
  };
}
