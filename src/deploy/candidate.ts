/**
 * Measuring a rollout's candidate for the gates: its requests, errors and latency since the
 * step started, from the worker's `/metrics` (and the PromQL gate, when one is declared), and
 * the gate check a tick counts, kept for `cairn status`.
 */
import { parseDuration } from '../core/duration.js';
import { promqlFor, queryPrometheus, scrape, type StepWindows } from './analysis.js';
import type { ModelDeclaration } from './environment.js';
import { judge, type Measurement } from './gates.js';
import type { ModelRolloutState } from './rollout-types.js';
import type { GateCheck } from './state.js';
import { versionLabel } from './worker-config.js';

/** The candidate `label` of `m` since `stepStartedAt`, as the worker at `url` counts it. */
export async function measureCandidate(
  url: string,
  m: ModelDeclaration,
  label: string,
  stepStartedAt: number,
  windows: StepWindows,
): Promise<Measurement> {
  const snap = await scrape(`${url}/metrics`, m.name, label);
  const measured = windows.measure(`${m.name}@${label}`, stepStartedAt, snap);
  const prom = m.rollout?.analysis?.prometheus;
  if (prom === undefined || measured.requests === 0) return measured;
  const value = await queryPrometheus(prom.url, promqlFor(prom.query, label));
  return value === undefined ? measured : { ...measured, prometheus: value };
}

/**
 * The gate check this tick counts — when the analysis interval has come round and the
 * candidate answered enough requests — judged as the rollout machine judges it.
 */
export function gateCheck(
  m: ModelDeclaration,
  s: ModelRolloutState,
  measured: Measurement | undefined,
  now: number,
): GateCheck | undefined {
  const spec = m.rollout?.analysis;
  if (spec === undefined || measured === undefined || s.candidate === undefined) return undefined;
  if (now - (s.lastCheckAt ?? s.stepStartedAt) < parseDuration(spec.interval)) return undefined;
  const verdict = judge(spec, measured);
  if (verdict.kind === 'waiting') return undefined;
  return {
    at: now,
    version: versionLabel(s.candidate),
    step: s.step,
    passed: verdict.kind === 'passed',
    ...(verdict.kind === 'failed' ? { message: verdict.message } : {}),
    measurement: measured,
  };
}
