/**
 * `cairn status --env`: an environment's deployment as the agent's state file records it —
 * desired and live revision, sync (Argo CD's Synced / OutOfSync), health with its reason, each
 * model's versions, rollout step, weights and gate checks, and the last reconciled revisions.
 * Pure: the same function feeds the command, the agent's metrics and `--once`'s exit code.
 */
import { health as modelHealth, type ModelRolloutState } from './rollout-types.js';
import type { EnvironmentState, GateCheck, ReconciledRevision } from './state.js';
import { liveModel } from './worker-config.js';

export type Sync = 'Synced' | 'OutOfSync';
export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';

export interface ModelStatus {
  readonly stable?: { readonly digest: string; readonly modelkit: string };
  readonly candidate?: { readonly digest: string; readonly modelkit: string };
  /** the rollout step the candidate is at, 1-based */
  readonly step?: number;
  /** version label (first 12 hex of the digest) → percent */
  readonly weights: Readonly<Record<string, number>>;
  readonly health: HealthStatus;
  readonly reason?: string;
  readonly analysis: readonly GateCheck[];
}

export interface EnvironmentStatus {
  readonly environment: string;
  readonly desired: { readonly commit: string | null };
  readonly live: { readonly commit: string | null };
  readonly sync: Sync;
  readonly health: HealthStatus;
  readonly reason?: string;
  readonly models: Readonly<Record<string, ModelStatus>>;
  /** the worker process while it is up (loopback only: its admin route sets weights) */
  readonly worker?: { readonly pid: number; readonly url: string };
  readonly history: readonly ReconciledRevision[];
}

const digestOf = (reference: string): string => reference.slice(reference.lastIndexOf('@') + 1);

const version = (reference: string) => ({ digest: digestOf(reference), modelkit: reference });

function modelStatus(name: string, e: EnvironmentState, s: ModelRolloutState): ModelStatus {
  const h = modelHealth(s);
  const spec = e.specs?.[name] ?? { runtime: 'onnx' as const };
  const live = liveModel(name, s, spec);
  const reason =
    h.status === 'Degraded' || h.status === 'Suspended'
      ? h.reason + (h.measurement === undefined ? '' : ` (${describe(h.measurement)})`)
      : h.status === 'Progressing'
        ? h.message
        : undefined;
  return {
    ...(s.stable === undefined ? {} : { stable: version(s.stable) }),
    ...(s.candidate === undefined ? {} : { candidate: version(s.candidate) }),
    ...(s.phase === 'progressing' || s.phase === 'suspended' ? { step: s.step + 1 } : {}),
    weights: live?.weights ?? {},
    health: h.status,
    ...(reason === undefined ? {} : { reason }),
    analysis: e.analysis?.[name] ?? [],
  };
}

function describe(m: { requests: number; errorRate?: number; p99Ms?: number }): string {
  const parts = [`${String(m.requests)} requests`];
  if (m.errorRate !== undefined) parts.push(`error rate ${m.errorRate.toFixed(2)}%`);
  if (m.p99Ms !== undefined) parts.push(`p99 ${m.p99Ms.toFixed(1)}ms`);
  return parts.join(', ');
}

const RANK: Record<HealthStatus, number> = {
  Healthy: 0,
  Progressing: 1,
  Suspended: 2,
  Degraded: 3,
};

/**
 * The status of `name`. `desiredCommit` overrides the commit the agent last fetched (the status
 * command reads it from a checkout); `sameAsLive` says the two declare the same file.
 */
export function environmentStatus(
  name: string,
  e: EnvironmentState,
  desired: { commit?: string; sameAsLive?: boolean } = {},
): EnvironmentStatus {
  const models: Record<string, ModelStatus> = {};
  let health: HealthStatus = 'Healthy';
  let reason: string | undefined;
  for (const [model, s] of Object.entries(e.models).sort(([a], [b]) => a.localeCompare(b))) {
    const m = modelStatus(model, e, s);
    models[model] = m;
    if (RANK[m.health] > RANK[health]) {
      health = m.health;
      reason = m.reason === undefined ? undefined : `${model}: ${m.reason}`;
    }
  }
  if (e.reason !== undefined) {
    health = 'Degraded';
    reason = e.reason;
  }
  const desiredCommit = desired.commit ?? e.desiredCommit ?? null;
  const liveCommit = e.appliedCommit ?? null;
  const synced =
    desiredCommit !== null &&
    liveCommit !== null &&
    (desiredCommit === liveCommit || desired.sameAsLive === true);
  if (desiredCommit === null && health === 'Healthy') {
    health = 'Progressing';
    reason = 'the agent has not fetched git yet';
  }
  return {
    environment: name,
    desired: { commit: desiredCommit },
    live: { commit: liveCommit },
    sync: synced ? 'Synced' : 'OutOfSync',
    health,
    ...(reason === undefined ? {} : { reason }),
    models,
    ...(e.worker === undefined ? {} : { worker: e.worker }),
    history: e.history,
  };
}
