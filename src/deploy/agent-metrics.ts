/**
 * The agent's own `/metrics` (prom-client, its own registry): reconciles and their duration,
 * the last successful one, sync and health per environment (one series per possible value, as
 * kube-state-metrics does, so alerts match on `== 1`), each rollout's step and weight, drift
 * put back and workers restarted.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const HEALTHS = ['Healthy', 'Progressing', 'Degraded', 'Suspended'] as const;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly #reconciles: Counter<'environment' | 'result'>;
  readonly #duration: Histogram<'environment'>;
  readonly #lastSuccess: Gauge<'environment'>;
  readonly #synced: Gauge<'environment'>;
  readonly #health: Gauge<'environment' | 'status'>;
  readonly #step: Gauge<'environment' | 'model'>;
  readonly #weight: Gauge<'environment' | 'model'>;
  readonly #drift: Counter<'environment' | 'kind'>;

  constructor() {
    const registers = [this.registry];
    this.#reconciles = new Counter({
      name: 'cairn_agent_reconciles_total',
      help: 'Reconciles of an environment with git, by result (success or error)',
      labelNames: ['environment', 'result'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'cairn_agent_reconcile_duration_seconds',
      help: 'Time to fetch git, parse the environment and pull its ModelKits',
      labelNames: ['environment'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'cairn_agent_last_success_timestamp_seconds',
      help: 'When the environment was last reconciled without error (Unix time)',
      labelNames: ['environment'],
      registers,
    });
    this.#synced = new Gauge({
      name: 'cairn_agent_environment_synced',
      help: '1 when what runs is what git declares (Synced), else 0 (OutOfSync)',
      labelNames: ['environment'],
      registers,
    });
    this.#health = new Gauge({
      name: 'cairn_agent_environment_health',
      help: '1 for the current health status of the environment, 0 for the others',
      labelNames: ['environment', 'status'],
      registers,
    });
    this.#step = new Gauge({
      name: 'cairn_agent_rollout_step',
      help: 'The rollout step a model is at (1-based), 0 when no rollout is running',
      labelNames: ['environment', 'model'],
      registers,
    });
    this.#weight = new Gauge({
      name: 'cairn_agent_rollout_candidate_weight',
      help: 'Percent of requests the candidate version gets, 0 when no rollout is running',
      labelNames: ['environment', 'model'],
      registers,
    });
    this.#drift = new Counter({
      name: 'cairn_agent_drift_corrections_total',
      help: 'Live state put back to what the agent set: weights changed by hand, workers died',
      labelNames: ['environment', 'kind'],
      registers,
    });
  }

  reconciled(environment: string, seconds: number, ok: boolean): void {
    this.#reconciles.inc({ environment, result: ok ? 'success' : 'error' });
    this.#duration.observe({ environment }, seconds);
    if (ok) this.#lastSuccess.set({ environment }, Date.now() / 1000);
  }

  status(environment: string, synced: boolean, health: string): void {
    this.#synced.set({ environment }, synced ? 1 : 0);
    for (const status of HEALTHS)
      this.#health.set({ environment, status }, status === health ? 1 : 0);
  }

  rollout(environment: string, model: string, step: number | undefined, weight: number): void {
    this.#step.set({ environment, model }, step === undefined ? 0 : step + 1);
    this.#weight.set({ environment, model }, weight);
  }

  drift(environment: string, kind: 'weights' | 'worker'): void {
    this.#drift.inc({ environment, kind });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
